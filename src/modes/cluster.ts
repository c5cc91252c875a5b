/**
 * Whether this server joins other nodes, and where: on by default when the store says nodes can
 * meet where it lives (a RedisStore), off otherwise. The cluster code (and ioredis with it) is
 * loaded only when a node joins.
 */
import { ReliveError } from '../errors.js';
import type { ClusterSettings } from '../server/options.js';
import type { JoinCluster } from '../server/parts.js';
import type { SessionStore } from '../session/store.js';

export function clusterJoin(option: false | ClusterSettings | undefined, store: SessionStore): JoinCluster | undefined {
  if (option === false) return undefined;
  const redisUrl = option?.redisUrl ?? store.cluster?.redisUrl;
  if (redisUrl === undefined) {
    if (option) throw new ReliveError('RELIVE_ERR_INVALID_OPTION', 'cluster: no Redis to meet on (use a RedisStore or give cluster.redisUrl)');
    return undefined;
  }
  const settings = { ...option, redisUrl };
  return async (deps) => {
    const { ClusterNode } = await import('../cluster/cluster-node.js');
    return ClusterNode.start({ ...settings, ...deps });
  };
}
