/**
 * A real redis-server process for the cluster benches (the same way test/helpers/redis-server.ts
 * starts one for the tests): a free loopback port, killed by `stop()` and, whatever happens to
 * the bench process, when it exits. Two persistence settings:
 *
 *   none     --save '' --appendonly no: a resolved write is in the server's memory only
 *   fsync    --appendonly yes --appendfsync always, in a fresh temp directory (removed on stop):
 *            every write is in the append-only file and fsync'd before Redis answers
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type RedisPersistence = 'none' | 'fsync';

export interface BenchRedis {
  readonly port: number;
  readonly url: string;
  readonly persistence: RedisPersistence;
  /** `redis-server --version`'s version, e.g. "7.0.15". */
  readonly version: string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
// Whatever happens to the bench process, no redis-server outlives it nor leaves its files behind.
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
// A redis-server is not a forked child: it does not notice the bench go away. On SIGINT/SIGTERM
// exit (running the handler above) instead of dying with it still running.
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** PING in the inline protocol; true when the server answers PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export async function startRedis(persistence: RedisPersistence = 'none'): Promise<BenchRedis> {
  const version = redisVersion();
  hookSignals();
  const port = await freePort();
  const dir = persistence === 'fsync' ? mkdtempSync(join(tmpdir(), 'relive-bench-redis-')) : undefined;
  if (dir) dirs.add(dir);
  const persistArgs = dir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir] : ['--appendonly', 'no'];
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistArgs, '--daemonize', 'no'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolve();
    }),
  );
  const cleanup = (): void => {
    if (!dir) return;
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  };
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (exited) {
      cleanup();
      throw new Error(`redis-server on port ${port} exited at start: ${stderr}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exit;
      cleanup();
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    persistence,
    version,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exit;
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}
