/**
 * Plays a recording's client side against a server and collects what the server answers.
 *
 * Steps run in the recording's order. A client action (open, frame, close) waits until every
 * replayed connection has received what its recorded counterpart had received at that point, no
 * wall-clock pacing: causal order is what makes a replay reproduce a session, and it keeps a
 * replay as fast as the server. "What it had received" is counted in runs of equal shape (see
 * runs.ts), so a reply in 12 audio chunks where the recording had 10 still lines up. A wait
 * ends after `timeoutMs` without any server message; that is reported and the replay goes on.
 */
import { WebSocket } from 'ws';
import { clientFrameBytes, type ClientFramePayload } from '../recording/lines.js';
import type { RecordedClose, Recording, RecordedConnection } from './recording.js';
import { runPositions, toRuns } from './runs.js';
import { shapeKey, shapeOf } from './shape.js';
import { Substitutions, type SubstitutionMiss } from './substitutions.js';

export interface ReplayOptions {
  /** Server base URL: http(s) or ws(s); with no path beyond `/`, each connection's recorded path. */
  readonly url: string;
  /** Sent as `?key=`; default the URL's own `key`, else "relive". */
  readonly apiKey?: string;
  /** How long a wait lasts without any server message before it is given up (default 5000). */
  readonly timeoutMs?: number;
}

export interface ReplayClose {
  readonly code: number;
  readonly reason: string;
  readonly initiatedBy: 'client' | 'server';
}

export interface WaitTimeout {
  /** The client action that waited, e.g. "client frame 3 of connection 2". */
  readonly before: string;
  /** Recorded server messages the connection had received at that point … */
  readonly expected: number;
  /** … and how many the replay had received when the wait was given up. */
  readonly received: number;
}

export interface ReplayedConnection {
  /** 0-based, as in the recording. */
  readonly index: number;
  /** The URL connected to, without its query (the key stays out of reports). */
  readonly url: string;
  readonly messages: unknown[];
  close: ReplayClose | undefined;
  /** The upgrade failed: HTTP status or socket error. */
  openError: string | undefined;
  /** Client frames not sent because the connection was already closed. */
  notSent: number;
  readonly timeouts: WaitTimeout[];
  readonly misses: SubstitutionMiss[];
}

/** The server could not be reached at all: a usage or network problem, not a difference. */
export class ReplayConnectError extends Error {}

const DEFAULT_TIMEOUT_MS = 5000;
/** Errors that mean nothing listens at the URL, as opposed to a server that refused. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

type Listener = (progress: boolean) => void;

export async function replayRecording(recording: Recording, options: ReplayOptions): Promise<ReplayedConnection[]> {
  return new Replay(recording, options).run();
}

/** One replayed connection: its socket and how far it got, in runs, for the waits. */
class Live {
  ws: WebSocket | undefined;
  runs = 0;
  private lastKey: string | undefined;
  lastRunCount = 0;
  /** Runs the replay is taken to be behind after a wait timed out (see Replay.sync). */
  shift = 0;
  private clientClose: ReplayClose | undefined;
  readonly positions: [number, number][];

  constructor(
    readonly recorded: RecordedConnection,
    readonly result: ReplayedConnection,
  ) {
    this.positions = runPositions(toRuns(recorded.serverMessages));
  }

  get open(): boolean {
    return this.ws !== undefined && this.ws.readyState === WebSocket.OPEN;
  }

  get done(): boolean {
    return this.result.close !== undefined || this.result.openError !== undefined;
  }

  received(message: unknown): void {
    this.result.messages.push(message);
    const key = shapeKey(shapeOf(message));
    if (key === this.lastKey) this.lastRunCount++;
    else {
      this.runs++;
      this.lastKey = key;
      this.lastRunCount = 1;
    }
  }

  /** Has the replay received what the recording had after `n` of its server messages? */
  ready(n: number): boolean {
    if (n === 0 || this.done) return true;
    const [runs, inLast] = this.positions[Math.min(n, this.positions.length - 1)]!;
    const target = runs - this.shift;
    if (target <= 0) return true;
    return this.runs > target || (this.runs === target && this.lastRunCount >= inLast);
  }

  /** The wait for `n` was given up: from here on the replay counts as caught up at this point. */
  resync(n: number): void {
    const [runs] = this.positions[Math.min(n, this.positions.length - 1)]!;
    this.shift = Math.max(this.shift, runs - this.runs + 1);
  }

  /** Closes as the recorded client did: the same code and reason, or no status, or a drop. */
  closeAsClient(close: RecordedClose): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    this.clientClose = { code: close.code, reason: close.reason, initiatedBy: 'client' };
    if (close.code === 1006) {
      ws.terminate();
      return;
    }
    if (close.code === 1005) {
      ws.close();
      return;
    }
    try {
      ws.close(close.code, close.reason);
    } catch {
      // A code a client may not send (1004, 1015, …): close anyway, reported as a difference.
      this.clientClose = { code: 1005, reason: '', initiatedBy: 'client' };
      ws.close();
    }
  }

  onClose(code: number, reason: string): void {
    this.result.close = this.clientClose ?? { code, reason, initiatedBy: 'server' };
  }
}

class Replay {
  private readonly timeoutMs: number;
  private readonly live: Live[];
  private readonly substitutions: Substitutions;
  private readonly listeners = new Set<Listener>();
  /** Per connection: recorded server messages passed so far in the timeline. */
  private readonly seen: number[];
  private everOpened = false;

  constructor(
    private readonly recording: Recording,
    private readonly options: ReplayOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.substitutions = new Substitutions(recording.connections);
    this.seen = recording.connections.map(() => 0);
    this.live = recording.connections.map(
      (c) =>
        new Live(c, {
          index: c.index,
          url: displayUrl(targetUrl(options.url, c.path, undefined)),
          messages: [],
          close: undefined,
          openError: undefined,
          notSent: 0,
          timeouts: [],
          misses: [],
        }),
    );
  }

  async run(): Promise<ReplayedConnection[]> {
    try {
      for (const step of this.recording.steps) {
        const live = this.live[step.connection]!;
        const name = `connection ${step.connection + 1}`;
        switch (step.kind) {
          case 'server':
            this.seen[step.connection]!++;
            break;
          case 'open':
            await this.sync(`opening ${name}`);
            await this.connect(live);
            break;
          case 'client':
            if (live.open) await this.sync(`client frame ${step.frame} of ${name}`);
            if (live.open) this.send(live, step.payload);
            else live.result.notSent++;
            break;
          case 'close':
            await this.sync(`the close of ${name}`);
            if (step.close.initiatedBy === 'client') live.closeAsClient(step.close);
            await this.closed(live, 'the recorded server closed here');
            break;
        }
      }
      // Connections the recording left open (a cut recording): wait for what they had received,
      // then close them; there is no recorded close to compare with.
      for (const live of this.live) {
        if (live.done || !live.ws) continue;
        await this.sync('the end of the recording');
        live.closeAsClient({ code: 1000, reason: 'relive replay: end of the recording', initiatedBy: 'client' });
        await this.closed(live, 'end of the recording');
      }
    } finally {
      for (const live of this.live) if (live.ws && !live.done) live.ws.terminate();
    }
    return this.live.map((l) => l.result);
  }

  /** Waits until every replayed connection has caught up with the recording at this point. */
  private async sync(before: string): Promise<void> {
    const behind = (): Live[] => this.live.filter((l) => l.ws && !l.ready(this.seen[l.result.index]!));
    if (await this.waitFor(() => behind().length === 0)) return;
    for (const l of behind()) {
      const n = this.seen[l.result.index]!;
      l.result.timeouts.push({ before, expected: n, received: l.result.messages.length });
      l.resync(n);
    }
  }

  /** Waits for the connection's close; past the timeout closes it from this side (1000). */
  private async closed(live: Live, why: string): Promise<void> {
    if (!live.ws || live.done) return;
    if (await this.waitFor(() => live.done)) return;
    if (live.open) live.closeAsClient({ code: 1000, reason: `relive replay: ${why}`, initiatedBy: 'client' });
    if (await this.waitFor(() => live.done)) return;
    live.ws.terminate();
    await this.waitFor(() => live.done);
  }

  private connect(live: Live): Promise<void> {
    const url = targetUrl(this.options.url, live.recorded.path, this.options.apiKey);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: string): void => {
        if (settled) return;
        settled = true;
        live.result.openError = error;
        live.ws = undefined;
        this.notify(true);
        resolve();
      };
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: this.timeoutMs });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      live.ws = ws;
      ws.on('unexpected-response', (req, res) => {
        fail(`HTTP ${res.statusCode ?? 0} at the upgrade`);
        res.resume();
        req.destroy();
      });
      ws.on('error', (err: Error & { code?: string }) => {
        if (settled) return;
        if (!this.everOpened && err.code !== undefined && UNREACHABLE.has(err.code)) {
          settled = true;
          reject(new ReplayConnectError(`cannot reach ${displayUrl(url)}: ${err.message}`));
          return;
        }
        fail(err.message);
      });
      ws.on('open', () => {
        settled = true;
        this.everOpened = true;
        resolve();
      });
      ws.on('message', (data: Buffer) => {
        const message = parseServerFrame(data);
        live.received(message);
        this.substitutions.received(live.result.index, message);
        this.notify(true);
      });
      ws.on('close', (code: number, reason: Buffer) => {
        // A refused upgrade closes the socket too; its report is the refusal.
        if (live.result.openError !== undefined) return;
        if (!settled) {
          fail(`closed ${code} during the upgrade`);
          return;
        }
        live.onClose(code, reason.toString('utf8'));
        this.notify(true);
      });
    });
  }

  private send(live: Live, payload: ClientFramePayload): void {
    let bytes: Buffer;
    if ('json' in payload) {
      const applied = this.substitutions.apply(payload.json);
      live.result.misses.push(...applied.misses);
      bytes = clientFrameBytes({ frame: payload.frame, json: applied.json });
    } else bytes = clientFrameBytes(payload);
    live.ws!.send(bytes, { binary: payload.frame === 'binary' });
  }

  /** Resolves true once `pred` holds, false after `timeoutMs` without any server message or close. */
  private waitFor(pred: () => boolean): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          this.listeners.delete(check);
          resolve(false);
        }, this.timeoutMs);
      };
      const check: Listener = (progress) => {
        if (pred()) {
          clearTimeout(timer);
          this.listeners.delete(check);
          resolve(true);
        } else if (progress) arm();
      };
      this.listeners.add(check);
      arm();
    });
  }

  private notify(progress: boolean): void {
    for (const l of [...this.listeners]) l(progress);
  }
}

/** A server frame as JSON; a frame that is not JSON is kept as its text (its shape is `$:string`). */
function parseServerFrame(data: Buffer): unknown {
  const text = data.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The WebSocket URL of one connection: scheme mapped to ws(s), the recorded path, the key. */
export function targetUrl(base: string, recordedPath: string, apiKey: string | undefined): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`--url must be http(s):// or ws(s)://, not ${u.protocol}`);
  if (u.pathname === '' || u.pathname === '/') u.pathname = recordedPath;
  if (apiKey !== undefined) u.searchParams.set('key', apiKey);
  else if (!u.searchParams.has('key')) u.searchParams.set('key', 'relive');
  return u.toString();
}

/** A URL fit for a report: no query, since that is where the key is. */
export function displayUrl(url: string): string {
  const u = new URL(url);
  u.search = '';
  return u.toString();
}
