/**
 * Row 2: memory per idle session. The server runs in a child process (so the 5,000 client
 * sockets and their garbage live in this process and never count); it reports
 * `process.memoryUsage()` after forced full collections, before and after the sessions open.
 *
 *   relive  createServer defaults (30 s keepalive, as deployed), TEXT setup → setupComplete
 *   bare    a `ws` server with relive's transport options that answers the first message with a
 *           26-byte frame and otherwise only keeps the socket open
 *
 * Both get a warm-up (sessions opened and closed) first, so code loading, JIT and the growth of
 * V8's young generation land in the "before" figure and not in the per-session one.
 */
import { performance } from 'node:perf_hooks';
import { startChild } from './child.js';
import { openMany, waitClosed } from './ws-client.js';

export interface IdleOptions {
  readonly sessions: number;
  readonly concurrency: number;
  readonly warmup: number;
}

export interface IdleResult {
  readonly mode: 'relive-idle' | 'bare';
  readonly sessions: number;
  readonly before: NodeJS.MemoryUsage;
  readonly after: NodeJS.MemoryUsage;
  /** Per session, bytes: V8 heap used + external (external already includes arrayBuffers). */
  readonly heapPlusExternal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly rss: number;
  /** Wall time to open all `sessions` with `concurrency` handshakes in flight. */
  readonly openWallMs: number;
  readonly forcedCloses: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function measureIdleMemory(mode: 'relive-idle' | 'bare', options: IdleOptions): Promise<IdleResult> {
  const child = await startChild(mode);
  try {
    const warm = await openMany(child.url, options.warmup, options.concurrency);
    for (const s of warm.sockets) s.close(1000);
    await waitClosed(warm.sockets);
    await sleep(200);
    const before = await child.memory();

    const t0 = performance.now();
    const opened = await openMany(child.url, options.sessions, options.concurrency);
    const openWallMs = performance.now() - t0;
    await sleep(300);
    const after = await child.memory();
    if (after.connections - before.connections !== options.sessions) {
      throw new Error(`${mode}: server counts ${after.connections - before.connections} new connections, expected ${options.sessions}`);
    }

    // Server-initiated close (1001) of every socket, as a shutdown does.
    const stopped = child.stop();
    const forcedCloses = await waitClosed(opened.sockets);
    await stopped;

    const d = (k: keyof NodeJS.MemoryUsage): number => (after.usage[k] - before.usage[k]) / options.sessions;
    return {
      mode,
      sessions: options.sessions,
      before: before.usage,
      after: after.usage,
      heapPlusExternal: d('heapUsed') + d('external'),
      heapUsed: d('heapUsed'),
      external: d('external'),
      rss: d('rss'),
      openWallMs,
      forcedCloses,
    };
  } finally {
    await child.stop();
  }
}
