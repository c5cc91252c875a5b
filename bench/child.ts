/** The parent's handle on a server child process (bench/server-child.ts). */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ChildMode, ParentMessage } from './server-child.js';

const script = fileURLToPath(new URL('./server-child.js', import.meta.url));
const live = new Set<ChildProcess>();

// Whatever happens to the parent, no server child outlives it.
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface ServerChild {
  readonly mode: ChildMode;
  readonly port: number;
  readonly url: string;
  memory(): Promise<{ usage: NodeJS.MemoryUsage; connections: number }>;
  script(setup: Buffer, turn: Buffer[]): Promise<void>;
  /** The child's CPU time so far and its event-loop delay p99 since the last call. */
  load(): Promise<{ cpuMs: number; loopDelayP99Ms: number }>;
  stop(): Promise<void>;
}

export const LIVE_PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=bench';

/** RELIVE_BENCH_CPU_PROF=<dir>: every server child writes a V8 CPU profile (`--cpu-prof`) there when it stops. */
const PROFILE_DIR = process.env.RELIVE_BENCH_CPU_PROF;
let profiles = 0;

export async function startChild(mode: ChildMode, timeoutMs = 15_000, args: readonly string[] = []): Promise<ServerChild> {
  const execArgv = ['--expose-gc', ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${mode}.${Date.now()}.${++profiles}.cpuprofile`] : [])];
  const proc = fork(script, [mode, ...args], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(proc);
  let exited = false;
  proc.once('exit', () => {
    exited = true;
    live.delete(proc);
  });

  /** The next message of `type` from the child, or a rejection on error, exit or timeout. */
  const next = <T extends ChildMessage['type']>(type: T, ms = timeoutMs): Promise<Extract<ChildMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
      };
      const onMessage = (m: ChildMessage): void => {
        if (m.type === 'error') {
          cleanup();
          reject(new Error(`${mode} server: ${m.message}`));
        } else if (m.type === type) {
          cleanup();
          resolve(m as Extract<ChildMessage, { type: T }>);
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`${mode} server exited (${code}) while waiting for ${type}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${mode} server: no ${type} within ${ms} ms`));
      }, ms);
      proc.on('message', onMessage);
      proc.once('exit', onExit);
    });
  const post = (m: ParentMessage): void => {
    proc.send(m);
  };

  let ready: { port: number };
  try {
    ready = await next('ready');
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return {
    mode,
    port: ready.port,
    url: `ws://127.0.0.1:${ready.port}${LIVE_PATH}`,
    async memory() {
      const reply = next('memory', 30_000);
      post({ type: 'memory' });
      const m = await reply;
      return { usage: m.usage, connections: m.connections };
    },
    async load() {
      const reply = next('load');
      post({ type: 'load' });
      const m = await reply;
      return { cpuMs: m.cpuMs, loopDelayP99Ms: m.loopDelayP99Ms };
    },
    async script(setup, turn) {
      const reply = next('scripted');
      post({ type: 'script', setup: setup.toString('base64'), turn: turn.map((t) => t.toString('base64')) });
      await reply;
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      post({ type: 'stop' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
