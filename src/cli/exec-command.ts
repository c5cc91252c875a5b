/**
 * `relive exec [serve options] -- CMD …`: a relive for the lifetime of one command, for CI and
 * scripts. The server runs in this process (no second relive to find and stop); CMD runs in a
 * process group of its own, so that everything it started can be signalled and, once it ends,
 * nothing it left behind outlives relive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { ReliveServer } from '../server/create-server.js';
import { DEFAULTS } from '../server/options.js';
import type { GeminiEngine } from '../engine/gemini/gemini-engine.js';
import { logVoiceReport, type VoiceReport } from '../server/voice-report.js';
import { buildServer } from './build-server.js';
import { createCliLogger } from './logger.js';
import { sdkAvailable } from './official-sdk.js';
import { parseServeArgs, type ServeArgs } from './serve-options.js';
import { errorMessage } from '../errors.js';

export const EXEC_USAGE = `relive exec — run a command against a relive started for it, then stop it

Usage: relive exec [--kill-after SECONDS] [serve options] -- CMD [ARG…]

Starts the server in this process with any relive serve option given before -- (sessions in
memory unless --store or RELIVE_STORE says otherwise; port 8765 unless --port or RELIVE_PORT;
--port 0 picks a free one), waits until GET /healthz answers, then runs CMD with
GOOGLE_GEMINI_BASE_URL and RELIVE_URL set to the server's URL (the rest of the environment is
passed on as it is). When CMD ends the server stops and relive exits with CMD's status.

CMD runs in a process group of its own. SIGINT, SIGTERM and SIGHUP sent to relive are passed to
that group; if CMD is still running --kill-after seconds later (default 10), the group gets
SIGKILL. Once CMD has exited, anything still running in its group gets SIGTERM, then SIGKILL
--kill-after seconds later.

Options of exec itself:
  --kill-after SECONDS  how long CMD's process group has between a signal and SIGKILL (default 10)
  -h, --help            show this help

relive's log lines go to stderr at --log-level (default warn), so CMD's stdout stays its own.

Exit status: CMD's; 128+N when CMD died of signal N; 2 for a usage error; 69 when the server
could not start (port in use, store, scenario or fault file unusable); 126 when CMD could not be
executed, 127 when it was not found.
`;

/** sysexits.h EX_UNAVAILABLE: the server this command needs could not be started. */
export const EXIT_SERVER_FAILED = 69;
const EXIT_USAGE = 2;
const EXIT_NOT_EXECUTABLE = 126;
const EXIT_NOT_FOUND = 127;

/** How long CMD's group has between a signal and SIGKILL, unless --kill-after says otherwise. */
const DEFAULT_KILL_AFTER_MS = 10_000;
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type Forwarded = (typeof FORWARDED)[number];

export interface ExecCommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

export async function execCommand(argv: string[], io: ExecCommandIo): Promise<number> {
  const dashes = argv.indexOf('--');
  const flags = dashes < 0 ? argv : argv.slice(0, dashes);
  const command = dashes < 0 ? [] : argv.slice(dashes + 1);
  if (flags.includes('--help') || flags.includes('-h')) {
    io.stdout.write(EXEC_USAGE);
    return 0;
  }
  const say = (line: string): void => void io.stderr.write(`relive exec: ${line}\n`);
  let own: { serveFlags: string[]; killAfterMs: number };
  try {
    own = ownFlags(flags);
  } catch (err) {
    return usageError(io, errorMessage(err));
  }
  if (dashes < 0) return usageError(io, 'put the command after --, e.g. relive exec --clock manual -- npm test');
  if (command.length === 0) return usageError(io, 'no command after --, e.g. relive exec -- npm test');
  let parsed: ServeArgs;
  try {
    // exec's own defaults, overridden by a flag or the variable as for serve.
    const result = parseServeArgs(own.serveFlags, { ...io.env, RELIVE_STORE: io.env.RELIVE_STORE ?? 'memory', RELIVE_LOG_LEVEL: io.env.RELIVE_LOG_LEVEL ?? 'warn' });
    if ('help' in result) return 0;
    parsed = result;
  } catch (err) {
    return usageError(io, errorMessage(err));
  }

  // Listened for from the start: a signal while the server starts stops everything before CMD runs.
  const signals = new SignalRelay();
  try {
    // On stderr, so that CMD's stdout is CMD's alone.
    const { logger } = createCliLogger({ level: parsed.logLevel, format: parsed.logFormat, out: process.stderr });
    if (parsed.engine.kind === 'gemini' && !(await sdkAvailable('relive exec --engine gemini', io.stderr))) return EXIT_SERVER_FAILED;
    let server: ReliveServer | undefined;
    let url: string;
    try {
      let gateway: GeminiEngine | undefined;
      ({ server, gateway } = await buildServer(parsed, logger));
      let voice: VoiceReport;
      ({ url, voice } = await server.listen());
      logVoiceReport(logger, voice);
      void gateway?.checkUpstream();
      await healthy(url);
    } catch (err) {
      await server?.close().catch(() => undefined);
      say(`the server could not start: ${startFailure(err, parsed)}`);
      return EXIT_SERVER_FAILED;
    }
    try {
      if (signals.received) {
        say(`${signals.received} before ${command[0]} started: stopped`);
        return 128 + constants.signals[signals.received];
      }
      say(`relive on ${url} (GOOGLE_GEMINI_BASE_URL, RELIVE_URL); running ${command.join(' ')}`);
      const child = spawn(command[0]!, command.slice(1), {
        stdio: 'inherit',
        // Its own process group (and session): signals reach CMD and everything it starts, and
        // what it leaves behind can be found by the group id.
        detached: true,
        env: { ...io.env, GOOGLE_GEMINI_BASE_URL: url, RELIVE_URL: url },
      });
      const ended = await run(child, command[0]!, signals, say, own.killAfterMs);
      if ('error' in ended) {
        const code = ended.error.code === 'ENOENT' ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
        say(`${command[0]}: ${code === EXIT_NOT_FOUND ? 'command not found' : ended.error.message}`);
        return code;
      }
      await reapGroup(child.pid!, own.killAfterMs);
      if (ended.signal) {
        say(`${command[0]} was killed by ${ended.signal}`);
        return 128 + (constants.signals[ended.signal] ?? 0);
      }
      return ended.code ?? 1;
    } finally {
      await server.close().catch((err: unknown) => say(`stopping the server failed: ${errorMessage(err)}`));
    }
  } finally {
    signals.stop();
  }
}

type Ended = { code: number | null; signal: NodeJS.Signals | null } | { error: NodeJS.ErrnoException };

/** Waits for CMD to exit, passing on every signal relive gets meanwhile. */
function run(child: ChildProcess, name: string, signals: SignalRelay, say: (line: string) => void, killAfterMs: number): Promise<Ended> {
  let killer: NodeJS.Timeout | undefined;
  return new Promise((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      // Only a failed spawn has no pid; later 'error's (a failed kill) do not end CMD.
      if (child.pid === undefined) resolve({ error });
    });
    child.once('exit', (code, signal) => {
      signals.onSignal = undefined;
      clearTimeout(killer);
      resolve({ code, signal });
    });
    if (child.pid === undefined) return;
    const pgid = child.pid;
    signals.onSignal = (signal) => {
      // Every signal is passed on, repeats too, and none escalates by itself: under npm (npx relive,
      // an npm script) one Ctrl-C arrives twice, from the terminal and forwarded by npm.
      say(`${signal}: passed to ${name}'s process group`);
      signalGroup(pgid, signal);
      killer ??= setTimeout(() => {
        say(`${name} still running ${killAfterMs / 1000} s after ${signal}: SIGKILL to its process group`);
        signalGroup(pgid, 'SIGKILL');
      }, killAfterMs);
    };
    if (signals.received) signals.onSignal(signals.received);
  });
}

/** relive's own SIGINT/SIGTERM/SIGHUP handlers while exec runs; they replace the default (death). */
class SignalRelay {
  received: Forwarded | undefined;
  onSignal: ((signal: Forwarded) => void) | undefined;
  private readonly handlers = FORWARDED.map((signal) => {
    const handler = (): void => {
      this.received ??= signal;
      this.onSignal?.(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });

  stop(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether any process of the group is left (signal 0 tests without sending). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What CMD left running in its group: SIGTERM, then SIGKILL after the grace period. */
async function reapGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  if (await gone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await gone(pgid, 1_000);
}

async function gone(pgid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** The server answers /healthz (open even with an admin token) with 200. */
async function healthy(url: string): Promise<void> {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`GET ${url}/healthz answered ${res.status}`);
}

/** Takes exec's own flags (before --) out of the serve flags. */
function ownFlags(flags: string[]): { serveFlags: string[]; killAfterMs: number } {
  const serveFlags: string[] = [];
  let killAfterMs = DEFAULT_KILL_AFTER_MS;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    if (flag !== '--kill-after' && !flag.startsWith('--kill-after=')) {
      serveFlags.push(flag);
      continue;
    }
    const value = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : flags[++i];
    const seconds = Number(value);
    if (value === undefined || value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
      throw new Error(`--kill-after must be a number of seconds, 0 or more; got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
    }
    killAfterMs = seconds * 1000;
  }
  return { serveFlags, killAfterMs };
}

function startFailure(err: unknown, parsed: ServeArgs): string {
  const e = err as NodeJS.ErrnoException;
  const host = parsed.options.host ?? DEFAULTS.host;
  const port = parsed.options.port ?? DEFAULTS.port;
  if (e?.code === 'EADDRINUSE') return `port ${port} on ${host} is in use; choose another with --port N, or --port 0 for a free one`;
  if (e?.code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine (--host)`;
  if (e?.code === 'EACCES') return `not allowed to listen on ${host}:${port} (ports below 1024 need privileges)`;
  return errorMessage(err);
}

function usageError(io: ExecCommandIo, message: string): number {
  io.stderr.write(`relive exec: ${message}\n\n${EXEC_USAGE}`);
  return EXIT_USAGE;
}
