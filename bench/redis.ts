/**
 * A real redis-server process for the cluster benches: the tests' helper (a free loopback port, a
 * temporary directory, nothing left running when the process exits), with the two persistence
 * settings the rows compare:
 *
 *   none     --save '' --appendonly no: a resolved write is in the server's memory only
 *   fsync    --appendonly yes --appendfsync always: every write is in the append-only file and
 *            fsync'd before Redis answers
 */
import { spawnSync } from 'node:child_process';
import { startRedisServer } from '../test/helpers/redis-server.js';

export type RedisPersistence = 'none' | 'fsync';

export interface BenchRedis {
  readonly port: number;
  readonly url: string;
  readonly persistence: RedisPersistence;
  /** `redis-server --version`'s version, e.g. "7.0.15". */
  readonly version: string;
  stop(): Promise<void>;
}

// The helper's exit hook cleans up; on SIGINT/SIGTERM the bench must exit (running it) rather
// than die with its redis-servers still running.
let signalsHooked = false;
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
}

function redisVersion(): string {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) throw new Error('redis-server not found on PATH (the Redis rows need it)');
  return /v=(\S+)/.exec(probe.stdout)?.[1] ?? '?';
}

export async function startRedis(persistence: RedisPersistence = 'none'): Promise<BenchRedis> {
  const version = redisVersion();
  hookSignals();
  const server = await startRedisServer(persistence === 'fsync' ? { appendfsync: 'always' } : {});
  return { port: server.port, url: server.url, persistence, version, stop: () => server.stop() };
}
