/**
 * Input transcription with Debian's pocketsphinx (AUDIO.md §5.2): one long-lived
 * `pocketsphinx_continuous` per stream, fed raw 16 kHz s16le on stdin. It segments the audio on
 * its own silence detection and prints one line of text per utterance on stdout.
 *
 * Process layout. Node hands a child a socketpair as stdin, and pocketsphinx's
 * fopen("/dev/stdin") fails on a socket with ENXIO, so a `cat` in front turns it into a pipe:
 *
 *   sh (process group leader, ignores SIGTERM)
 *   ├── cat                       Node's socket → pipe
 *   └── pocketsphinx_continuous   pipe → one line per utterance
 *
 * Stopping sends SIGTERM to the whole group: cat and pocketsphinx die, the shell (which ignores
 * it) reaps them and exits, and Node reaps the shell. Killing the shell too would leave the other
 * two as zombies wherever PID 1 does not reap orphans (containers, sandboxes). SIGKILL to the
 * group is the fallback when that does not finish in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import type { RecognitionStream, SpeechRecognizer } from '../../session/voice.js';

export const DEFAULT_POCKETSPHINX_COMMAND = 'pocketsphinx_continuous';
/** Where Debian's pocketsphinx-en-us puts the model, and where pocketsphinx looks by default. */
export const DEFAULT_POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface PocketsphinxRecognizerOptions {
  /** The recognizer binary, a name looked up on PATH or a path. Default `pocketsphinx_continuous`. */
  command?: string;
  /** Where warnings go (pino's logger fits); default nowhere. */
  log?: { warn(obj: object, msg: string): void };
  /**
   * A directory laid out like Debian's en-us model: `en-us/` (acoustic model), `en-us.lm.bin`,
   * `cmudict-en-us.dict`. Default /usr/share/pocketsphinx/model/en-us, which pocketsphinx finds by itself.
   */
  modelDir?: string;
  /** After close(), how long pocketsphinx may take to finish the last utterance before it is stopped. Default 5000 ms. */
  closeGraceMs?: number;
}

const UNAVAILABLE = "input transcription unavailable: install Debian's pocketsphinx and pocketsphinx-en-us";
/** Between SIGTERM and SIGKILL to a stream's process group. */
const TERM_TIMEOUT_MS = 1000;
/** Backlog of unwritten audio (10 s of 16 kHz PCM16) past which a warning says pocketsphinx is falling behind. */
const BACKLOG_WARN_BYTES = 10 * 16_000 * 2;
/** How much of the child's stderr is kept to explain an unexpected exit. */
const STDERR_KEEP_CHARS = 2000;

/**
 * `$0` is the recognizer command and `$@` its arguments, so nothing is quoted into the script.
 * The shell ignores SIGTERM; its two children reset it, so a group SIGTERM stops only them.
 */
const SHELL_SCRIPT = 'trap "" TERM; (trap - TERM; exec cat) | (trap - TERM; exec "$0" "$@")';

const noLog = { warn(): void {} };

export function createPocketsphinxRecognizer(options: PocketsphinxRecognizerOptions = {}): SpeechRecognizer {
  return new PocketsphinxRecognizer(options);
}

// Process groups of every live stream, stopped when the process exits, whoever created them.
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const pgid of liveGroups) signalGroup(pgid, 'SIGTERM');
    });
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function findOnPath(command: string): string | undefined {
  if (command.includes('/')) return isExecutableFile(command) ? command : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function modelFiles(modelDir: string): { hmm: string; lm: string; dict: string } {
  return {
    hmm: path.join(modelDir, 'en-us'),
    lm: path.join(modelDir, 'en-us.lm.bin'),
    dict: path.join(modelDir, 'cmudict-en-us.dict'),
  };
}

/**
 * Why the recognizer cannot run here, or undefined when it can (the server's start-up line says
 * it; each recognizer also logs it once, at the first session that needs it).
 */
export function pocketsphinxUnavailable(command = DEFAULT_POCKETSPHINX_COMMAND, modelDir = DEFAULT_POCKETSPHINX_MODEL_DIR): string | undefined {
  return unavailableReason(command, modelDir);
}

/** The same, for the commands and model directory given. */
export function unavailableReason(command: string, modelDir: string): string | undefined {
  if (!findOnPath(command)) return `${command} not found on PATH`;
  const files = modelFiles(modelDir);
  try {
    if (!statSync(files.hmm).isDirectory()) return `${files.hmm} is not a directory`;
    statSync(files.lm);
    statSync(files.dict);
  } catch (err) {
    return `model missing: ${(err as Error).message}`;
  }
  return undefined;
}

/** One utterance line as printed by pocketsphinx_continuous, reduced to its words. */
export function utteranceText(line: string): string {
  return line
    .replace(/^\s*\d+:\s*/, '') // an utterance id, as older releases print ("000000001: text")
    .replace(/<\/?s>|<sil>|\[[A-Z_]+\]|\(\d+\)/g, ' ') // sentence markers, fillers, alternate-pronunciation marks
    .replace(/\s+/g, ' ')
    .trim();
}

class PocketsphinxRecognizer implements SpeechRecognizer {
  readonly name = 'pocketsphinx';
  private readonly command: string;
  private readonly modelDir: string;
  private readonly log: { warn(obj: object, msg: string): void };
  private readonly graceMs: number;
  private available: boolean | undefined;
  private closed = false;
  private readonly streams = new Set<PocketsphinxStream>();

  constructor(options: PocketsphinxRecognizerOptions) {
    this.command = options.command ?? DEFAULT_POCKETSPHINX_COMMAND;
    this.modelDir = options.modelDir ?? DEFAULT_POCKETSPHINX_MODEL_DIR;
    this.log = options.log ?? noLog;
    this.graceMs = options.closeGraceMs ?? 5000;
  }

  open(): RecognitionStream | undefined {
    if (this.closed) return undefined;
    if (this.available === undefined) {
      const reason = unavailableReason(this.command, this.modelDir);
      this.available = reason === undefined;
      if (reason !== undefined) this.log.warn({ command: this.command, modelDir: this.modelDir, reason }, UNAVAILABLE);
    }
    if (!this.available) return undefined;
    const args = ['-infile', '/dev/stdin', '-logfn', '/dev/null'];
    if (path.resolve(this.modelDir) !== DEFAULT_POCKETSPHINX_MODEL_DIR) {
      const files = modelFiles(this.modelDir);
      args.push('-hmm', files.hmm, '-lm', files.lm, '-dict', files.dict);
    }
    const stream = new PocketsphinxStream(this.command, args, this.log, this.graceMs, () => this.streams.delete(stream));
    this.streams.add(stream);
    return stream;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.streams].map((s) => s.kill()));
  }
}

class PocketsphinxStream implements RecognitionStream {
  private readonly child: ChildProcess;
  private readonly listeners: ((text: string) => void)[] = [];
  /** Audio waiting for stdin to drain; nothing is dropped. */
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private waitingForDrain = false;
  private backlogWarned = false;
  /** 'open' → 'closing' (stdin ended, last text may still come) → 'exited'; 'dead' if it ended on its own. */
  private state: 'open' | 'closing' | 'dead' | 'exited' = 'open';
  private stopping = false;
  private stdinBroken = false;
  private failureLogged = false;
  private stdoutRest = '';
  private stderrTail = '';
  private graceTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly exited: Promise<void>;

  constructor(
    command: string,
    args: string[],
    private readonly log: { warn(obj: object, msg: string): void },
    private readonly graceMs: number,
    onExit: () => void,
  ) {
    // detached: the shell leads its own process group, so the group can be signalled as a whole.
    this.child = spawn('sh', ['-c', SHELL_SCRIPT, command, ...args], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = this.child.pid;
    if (pid !== undefined) trackGroup(pid);
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        if (pid !== undefined) liveGroups.delete(pid);
        clearTimeout(this.graceTimer);
        clearTimeout(this.killTimer);
        this.flushStdoutRest();
        onExit();
        resolve();
      };
      // 'close' rather than 'exit': it comes once stdout is drained, so no text arrives after it.
      this.child.once('close', (code, signal) => {
        if (this.state === 'open' && !this.stopping) {
          this.fail({ code, signal, stderr: this.stderrTail.trim() || undefined }, 'pocketsphinx exited unexpectedly; input transcription stopped for this stream');
        }
        this.state = this.state === 'open' ? 'dead' : 'exited';
        finish();
      });
      this.child.once('error', (err) => {
        // Spawn failure (no `sh`?): there is no process to wait for.
        this.fail({ err: err.message }, 'pocketsphinx could not be started; input transcription stopped for this stream');
        this.state = 'dead';
        if (pid === undefined) finish();
      });
    });

    const { stdin, stdout, stderr } = this.child;
    stdin!.on('error', () => {
      // EPIPE once pocketsphinx (and so cat) is gone: stop writing; the exit handler says why.
      this.stdinBroken = true;
      this.pending.length = 0;
      this.pendingBytes = 0;
    });
    stdin!.on('drain', () => this.drain());
    stdout!.setEncoding('utf8');
    stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    stdout!.on('error', () => {});
    stderr!.setEncoding('utf8');
    stderr!.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_KEEP_CHARS);
    });
    stderr!.on('error', () => {});
  }

  write(pcm16k: Int16Array): void {
    if (this.state !== 'open' || this.stdinBroken || pcm16k.length === 0) return;
    // A copy: the caller may reuse its buffer once write() returns.
    const bytes = Buffer.from(new Uint8Array(pcm16k.buffer, pcm16k.byteOffset, pcm16k.byteLength));
    if (endianness() === 'BE') bytes.swap16();
    if (this.waitingForDrain) {
      this.pending.push(bytes);
      this.pendingBytes += bytes.length;
      if (this.pendingBytes > BACKLOG_WARN_BYTES && !this.backlogWarned) {
        this.backlogWarned = true;
        this.log.warn({ backlogBytes: this.pendingBytes }, 'pocketsphinx is falling behind the input audio');
      }
      return;
    }
    this.waitingForDrain = !this.child.stdin!.write(bytes);
  }

  onText(listener: (text: string) => void): void {
    this.listeners.push(listener);
  }

  /** Ends the audio; pocketsphinx finishes the last utterance (still delivered) and exits, or is stopped after the grace period. */
  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    if (!this.waitingForDrain && !this.stdinBroken) this.child.stdin!.end();
    this.graceTimer = setTimeout(() => this.stop(), this.graceMs);
    this.graceTimer.unref();
  }

  /** Stops the process now; resolves once it has exited. */
  kill(): Promise<void> {
    if (this.state === 'open') this.state = 'closing';
    this.stop();
    return this.exited;
  }

  private stop(): void {
    if (this.stopping || this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.stopping = true;
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.child.stdin!.destroy();
    signalGroup(this.child.pid, 'SIGTERM');
    const pgid = this.child.pid;
    this.killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), TERM_TIMEOUT_MS);
    this.killTimer.unref();
  }

  private drain(): void {
    this.waitingForDrain = false;
    const stdin = this.child.stdin!;
    while (this.pending.length > 0) {
      const bytes = this.pending.shift()!;
      this.pendingBytes -= bytes.length;
      if (!stdin.write(bytes)) {
        this.waitingForDrain = true;
        return;
      }
    }
    this.backlogWarned = false;
    if (this.state === 'closing' && !this.stopping) stdin.end();
  }

  private onStdout(chunk: string): void {
    const lines = (this.stdoutRest + chunk).split('\n');
    this.stdoutRest = lines.pop()!;
    for (const line of lines) this.emit(line);
  }

  private flushStdoutRest(): void {
    const rest = this.stdoutRest;
    this.stdoutRest = '';
    if (rest) this.emit(rest);
  }

  private emit(line: string): void {
    const text = utteranceText(line);
    if (!text) return;
    for (const listener of this.listeners) {
      try {
        listener(text);
      } catch (err) {
        this.log.warn({ err: (err as Error)?.message ?? String(err) }, 'input transcription listener threw');
      }
    }
  }

  private fail(obj: object, msg: string): void {
    if (this.failureLogged) return;
    this.failureLogged = true;
    this.log.warn({ pid: this.child.pid, ...obj }, msg);
  }
}
