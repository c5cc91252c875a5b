/**
 * `relive exec -- CMD`: the real bin as a child process running real commands (sh, node, sleep),
 * and what is left afterwards (the port, CMD's process group) checked from outside.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BIN } from '../helpers/bin.js';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relive-exec-'));
  dirs.push(dir);
  return dir;
}

interface Run {
  readonly pid: number;
  /** Resolves once CMD (through relive's inherited stdout) printed a line containing `text`. */
  printed(text: string): Promise<void>;
  /** Resolves once relive's stderr holds `text`. */
  said(text: string): Promise<void>;
  signal(signal: NodeJS.Signals): void;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function relive(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiting: { stream: 'stdout' | 'stderr'; text: string; resolve: () => void }[] = [];
  const wake = (): void => {
    for (const w of waiting.filter((w) => (w.stream === 'stdout' ? stdout : stderr).includes(w.text))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    wake();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    wake();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const until = (stream: 'stdout' | 'stderr', text: string): Promise<void> =>
    (stream === 'stdout' ? stdout : stderr).includes(text)
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          waiting.push({ stream, text, resolve });
          void done.then(() => reject(new Error(`relive ended before ${stream} held ${JSON.stringify(text)}; stdout:\n${stdout}\nstderr:\n${stderr}`)));
        });
  return {
    pid: child.pid!,
    printed: (text) => until('stdout', text),
    said: (text) => until('stderr', text),
    signal: (signal) => child.kill(signal),
    done,
  };
}

/** A process that is gone: no /proc entry (a zombie waiting for init to reap it counts as gone). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z';
  } catch {
    return true;
  }
}

/** The port can be listened on again: nothing holds it. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** CMD as a node script: `node -e SCRIPT`. */
const node = (script: string): string[] => [process.execPath, '-e', script];

describe('relive exec', () => {
  test('CMD sees the server (healthy) at GOOGLE_GEMINI_BASE_URL and RELIVE_URL with the rest of its environment, and relive exits with its status', async () => {
    const run = relive(
      [
        'exec',
        '--port',
        '0',
        '--',
        ...node(`
          const res = await fetch(process.env.RELIVE_URL + '/healthz');
          console.log(JSON.stringify({ base: process.env.GOOGLE_GEMINI_BASE_URL, relive: process.env.RELIVE_URL, mine: process.env.MINE, health: (await res.json()).status }));
          process.exit(7);
        `),
      ],
      { MINE: 'kept', GOOGLE_GEMINI_BASE_URL: 'http://example.invalid' },
    );
    const { code, stdout } = await run.done;
    assert.equal(code, 7);
    const seen = JSON.parse(stdout.trim()) as { base: string; relive: string; mine: string; health: string };
    assert.match(seen.relive, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(seen.relive, 'http://127.0.0.1:0', '--port 0 gives CMD the port actually chosen');
    assert.deepEqual(seen, { base: seen.relive, relive: seen.relive, mine: 'kept', health: 'ok' });
    assert.equal(await portFree(Number(new URL(seen.relive).port)), true, 'the server is stopped');
  });

  test('exit 0 for a CMD that succeeds; the default port is 8765, as serve, and is free again afterwards', async (t) => {
    if (!(await portFree(8765))) return t.skip('port 8765 is taken on this machine');
    const { code, stdout } = await relive(['exec', '--', 'sh', '-c', 'echo "$RELIVE_URL"']).done;
    assert.equal(code, 0);
    assert.equal(stdout.trim(), 'http://127.0.0.1:8765');
    assert.equal(await portFree(8765), true);
  });

  test('the control API works from CMD: --clock manual and the clock advanced through RELIVE_URL', async () => {
    const run = relive([
      'exec',
      '--port',
      '0',
      '--clock',
      'manual',
      '--',
      ...node(`
        const before = await (await fetch(process.env.RELIVE_URL + '/relive/v1/clock')).json();
        const after = await (await fetch(process.env.RELIVE_URL + '/relive/v1/clock:advance', { method: 'POST', body: '{"seconds": 540}' })).json();
        console.log(Date.parse(after.now) - Date.parse(before.now), before.kind);
      `),
    ]);
    const { code, stdout } = await run.done;
    assert.equal(code, 0);
    assert.equal(stdout.trim(), '540000 manual');
  });

  test('what CMD left running in its process group is stopped once CMD exits', async () => {
    const dir = await tempDir();
    const pidFile = join(dir, 'pid');
    const { code } = await relive(['exec', '--port', '0', '--', 'sh', '-c', `sleep 1000 & echo $! > ${pidFile}; exit 3`]).done;
    assert.equal(code, 3);
    const leftover = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(leftover > 0);
    assert.equal(gone(leftover), true, `sleep (pid ${leftover}) outlived relive exec`);
  });

  test('CMD killed from outside: 128+9, and its children are gone', async () => {
    const dir = await tempDir();
    const pidFile = join(dir, 'pids');
    const run = relive(['exec', '--port', '0', '--', 'sh', '-c', `sleep 1000 & echo "$$ $!" > ${pidFile}; echo ready; wait`]);
    await run.printed('ready');
    const [shell, sleeper] = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number) as [number, number];
    process.kill(shell, 'SIGKILL');
    const { code, stderr } = await run.done;
    assert.equal(code, 128 + 9);
    assert.match(stderr, /sh was killed by SIGKILL/);
    assert.equal(gone(sleeper), true);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} to relive goes to CMD's process group; relive stops the server and exits with CMD's status`, async () => {
      const dir = await tempDir();
      const pidFile = join(dir, 'pids');
      // A non-interactive sh starts `sleep &` with SIGINT ignored: for SIGINT, the sleeper is left
      // for the cleanup after CMD's exit to stop.
      const run = relive(['exec', '--port', '0', '--', 'sh', '-c', `trap 'echo "got $0"; exit 42' INT TERM; sleep 1000 & echo "$! $RELIVE_URL" > ${pidFile}; echo ready; wait`]);
      await run.printed('ready');
      const [sleeper, url] = readFileSync(pidFile, 'utf8').trim().split(' ') as [string, string];
      run.signal(signal);
      const { code, stdout } = await run.done;
      assert.equal(code, 42, 'the trap ran: CMD got the signal and its status is relive’s');
      assert.match(stdout, /got/);
      assert.equal(gone(Number(sleeper)), true);
      assert.equal(await portFree(Number(new URL(url).port)), true);
    });
  }

  test('a CMD that ignores the signal gets SIGKILL --kill-after seconds later: 128+9, and a second signal does not escalate by itself', async () => {
    const run = relive(['exec', '--kill-after', '0.3', '--port', '0', '--', 'sh', '-c', `trap '' TERM; echo ready; while :; do sleep 1; done`]);
    await run.printed('ready');
    run.signal('SIGTERM');
    await run.said("SIGTERM: passed to sh's process group");
    // Under npm one Ctrl-C arrives twice: a repeat is passed on as it is.
    run.signal('SIGTERM');
    const { code, stderr } = await run.done;
    assert.equal(code, 128 + 9);
    assert.match(stderr, /sh still running 0\.3 s after SIGTERM: SIGKILL to its process group/);
  });

  test('what CMD left behind that ignores SIGTERM gets SIGKILL --kill-after seconds after CMD exits', async () => {
    const dir = await tempDir();
    const pidFile = join(dir, 'pid');
    const { code } = await relive(['exec', '--kill-after=0.2', '--port', '0', '--', 'sh', '-c', `(trap '' TERM; while :; do sleep 1; done) & echo $! > ${pidFile}; exit 5`]).done;
    assert.equal(code, 5);
    assert.equal(gone(Number(readFileSync(pidFile, 'utf8'))), true);
  });

  test('a CMD killed by a signal relive forwarded exits 128+N', async () => {
    const run = relive(['exec', '--port', '0', '--', 'sh', '-c', 'echo ready; exec sleep 1000']);
    await run.printed('ready');
    run.signal('SIGTERM');
    const { code } = await run.done;
    assert.equal(code, 128 + 15);
  });

  test('a port in use: exit 69 with a message naming the port, and CMD never runs', async () => {
    const dir = await tempDir();
    const marker = join(dir, 'ran');
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await relive(['exec', '--port', String(port), '--', 'touch', marker]).done;
      assert.equal(code, 69);
      assert.match(stderr, new RegExp(`relive exec: the server could not start: port ${port} on 127\\.0\\.0\\.1 is in use; choose another with --port N, or --port 0 for a free one`));
      // relive waits for CMD before it exits: had CMD run, the file would be there.
      assert.equal(existsSync(marker), false);
    } finally {
      blocker.close();
    }
  });

  test('an unusable store is a failure to start (69), not a crash', async () => {
    const dir = await tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const { code, stderr } = await relive(['exec', '--port', '0', '--store', `sqlite:${join(file, 'relive.db')}`, '--', 'true']).done;
    assert.equal(code, 69);
    assert.match(stderr, /relive exec: the server could not start: .*a-file/);
  });

  test('usage errors exit 2 with a message: no --, nothing after it, an unknown flag; CMD not found is 127', async () => {
    const noDashes = await relive(['exec', 'npm', 'test']).done;
    assert.deepEqual([noDashes.code, noDashes.stderr.split('\n')[0]], [2, 'relive exec: put the command after --, e.g. relive exec --clock manual -- npm test']);
    const nothing = await relive(['exec', '--port', '0', '--']).done;
    assert.deepEqual([nothing.code, nothing.stderr.split('\n')[0]], [2, 'relive exec: no command after --, e.g. relive exec -- npm test']);
    const unknown = await relive(['exec', '--prot', '0', '--', 'true']).done;
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /relive exec: .*--prot/);
    const badPort = await relive(['exec', '--port', 'x', '--', 'true']).done;
    assert.deepEqual([badPort.code, badPort.stderr.split('\n')[0]], [2, 'relive exec: --port must be a whole number from 0 to 65535']);
    const killAfter = await relive(['exec', '--kill-after', 'soon', '--', 'true']).done;
    assert.deepEqual([killAfter.code, killAfter.stderr.split('\n')[0]], [2, 'relive exec: --kill-after must be a number of seconds, 0 or more; got "soon"']);
    const missing = await relive(['exec', '--port', '0', '--', 'relive-no-such-command']).done;
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /relive-no-such-command: command not found/);
  });

  test('relive exec --help, and relive --help lists exec', async () => {
    const help = await relive(['exec', '--help']).done;
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^relive exec — run a command against a relive started for it/);
    assert.match(help.stdout, /Exit status: CMD's; 128\+N/);
    const top = await relive(['--help']).done;
    assert.match(top.stdout, /relive exec \[options\] -- CMD/);
  });
});
