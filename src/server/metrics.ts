/**
 * Prometheus metrics of one server (its own registry, so several servers in a process do not clash).
 * In a cluster, two gauges show the whole cluster as its presence keys do at scrape time, so any
 * node answers for all of them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { NodePresence } from '../cluster/presence.js';

export interface Metrics {
  readonly registry: Registry;
  readonly compressions: Counter;
  readonly turns: Counter;
  /** Arrival of a realtime audio chunk → the voice activity detector has processed it. */
  readonly ingestLag: Histogram;
}

/** `clusterNodes` reads the live nodes' presence; without it (a single node) there are no cluster gauges. */
export function createMetrics(
  liveSessions: () => number,
  openConnections: () => number,
  clusterNodes?: () => Promise<readonly NodePresence[] | undefined>,
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'relive_process_' });
  const compressions = new Counter({
    name: 'relive_context_compressions_total',
    help: 'Context window compressions: oldest turns dropped because the context exceeded the trigger.',
    registers: [registry],
  });
  const turns = new Counter({ name: 'relive_turns_total', help: 'Model turns completed (turnComplete sent).', registers: [registry] });
  new Gauge({
    name: 'relive_sessions_live',
    help: 'Sessions attached to a connection of this server.',
    registers: [registry],
    collect() {
      this.set(liveSessions());
    },
  });
  new Gauge({
    name: 'relive_connections_open',
    help: 'Open Live API WebSocket connections.',
    registers: [registry],
    collect() {
      this.set(openConnections());
    },
  });
  if (clusterNodes) clusterGauges(registry, clusterNodes);
  // A histogram, not a summary: it is observed for every audio chunk (25–50 a second per session),
  // and a bucket increment costs a fraction of a quantile sketch's update.
  const ingestLag = new Histogram({
    name: 'relive_audio_ingest_lag_seconds',
    help: 'Time from a realtime audio chunk arriving to voice activity detection having processed it.',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
    registers: [registry],
  });
  return { registry, compressions, turns, ingestLag };
}

/** The cluster as its presence keys show it at scrape time: any node answers for all of them. */
function clusterGauges(registry: Registry, clusterNodes: () => Promise<readonly NodePresence[] | undefined>): void {
  // Read once per scrape, shared by both gauges (prom-client collects them one after the other).
  let scrape: Promise<readonly NodePresence[] | undefined> | undefined;
  const nodesOfThisScrape = () => {
    scrape ??= clusterNodes()
      .catch(() => undefined)
      .finally(() => setImmediate(() => (scrape = undefined)));
    return scrape;
  };
  new Gauge({
    name: 'relive_cluster_nodes',
    help: 'Live relive nodes on the shared Redis (presence keys), this one included; absent on a single node.',
    registers: [registry],
    async collect() {
      const nodes = await nodesOfThisScrape();
      this.reset();
      if (nodes) this.set(nodes.length);
    },
  });
  new Gauge({
    name: 'relive_cluster_sessions_live',
    help: 'Sessions attached to a connection of each live node, from its last heartbeat.',
    labelNames: ['node'],
    registers: [registry],
    async collect() {
      const nodes = await nodesOfThisScrape();
      this.reset();
      for (const n of nodes ?? []) this.set({ node: n.id }, n.liveSessions);
    },
  });
}
