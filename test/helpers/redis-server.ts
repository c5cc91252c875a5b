/**
 * A real redis-server process for the Redis store's tests: a free port, killed by `stop()`. By
 * default without persistence (`--save '' --appendonly no`); `persistence` turns on the append-only
 * file in a directory of its own, and `kill()` + `restart()` let a test crash Redis (SIGKILL) and
 * bring it back on the same port and directory, as a supervisor would. A missing binary is an
 * error here; tests skip before they get here (needs('redis-server'), system-packages.ts), and
 * .ci/run installs redis-server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** The append-only file: `appendonly yes` with this `appendfsync`. Default: no persistence at all. */
  readonly appendfsync?: 'always' | 'everysec' | 'no';
  /** The working directory (AOF, RDB). Default: a fresh temporary directory, removed by `stop()`. */
  readonly dir?: string;
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** The working directory its data files live in. */
  readonly dir: string;
  /** SIGKILL: a crash, nothing flushed beyond what the fsync policy already wrote. Resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (after `kill` or `stop`); resolves when it answers PING. */
  restart(): Promise<void>;
  /** SIGSTOP: Redis keeps its connections open and answers nothing, like a black-holed network path. */
  freeze(): void;
  /** SIGCONT after `freeze`. */
  thaw(): void;
  /** SIGTERM (a clean shutdown), then removes the directory if the helper made it. */
  stop(): Promise<void>;
}

function hasRedisServer(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

export async function freePort(): Promise<number> {
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

/** Sends PING in the inline protocol; true when the server answers PONG (not -LOADING). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
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

/** Every redis-server started here, and the directories made for them: none outlives this process. */
const live = new Set<ChildProcess>();
const ownDirs = new Set<string>();
process.on('exit', () => {
  // A redis-server is not a forked child: it would not notice this process go away.
  for (const child of live) child.kill('SIGKILL');
  for (const dir of ownDirs) rmSync(dir, { recursive: true, force: true });
});

interface Running {
  readonly child: ChildProcess;
  readonly exit: Promise<void>;
  exited: boolean;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!hasRedisServer()) {
    throw new Error('redis-server not found on PATH: install redis-server; .ci/run does');
  }
  const port = await freePort();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'relive-redis-'));
  if (ownDir) ownDirs.add(dir);
  const persistence = options.appendfsync
    ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync]
    : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--daemonize', 'no'];

  async function launch(): Promise<Running> {
    const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const running: Running = {
      child,
      exited: false,
      exit: new Promise<void>((resolve) =>
        child.once('exit', () => {
          running.exited = true;
          live.delete(child);
          resolve();
        }),
      ),
    };
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (running.exited) throw new Error(`redis-server on port ${port} exited at start: ${stderr}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer PING within 10 s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return running;
  }

  let current = await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async kill() {
      if (current.exited) return;
      current.child.kill('SIGKILL');
      await current.exit;
    },
    freeze() {
      current.child.kill('SIGSTOP');
    },
    thaw() {
      current.child.kill('SIGCONT');
    },
    async restart() {
      if (!current.exited) throw new Error('redis-server is still running: kill() or stop() it first');
      current = await launch();
    },
    async stop() {
      if (!current.exited) {
        current.child.kill('SIGCONT');
        current.child.kill('SIGTERM');
        const timer = setTimeout(() => current.child.kill('SIGKILL'), 3_000);
        await current.exit;
        clearTimeout(timer);
      }
      if (ownDir) {
        rmSync(dir, { recursive: true, force: true });
        ownDirs.delete(dir);
      }
    },
  };
}
