/**
 * Reads a recording (docs/recording.md) into its connections and one timeline of steps in file
 * order: the order the recorder saw, which is causal within a connection and across them (a
 * resumption's setup comes after the update that gave it its handle).
 */
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ClientFramePayload } from '../recording/lines.js';

/** The endpoint a connection without an `open` line (a cut recording) is replayed on. */
export const DEFAULT_PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';

export interface RecordedClose {
  readonly code: number;
  readonly reason: string;
  readonly initiatedBy: 'client' | 'server';
}

export interface RecordedConnection {
  /** 0-based, in the order the connections opened. */
  readonly index: number;
  /** The recording server's id; ids repeat across server restarts, indices do not. */
  readonly conn: string;
  readonly path: string;
  sessionId: string | undefined;
  readonly serverMessages: unknown[];
  clientFrames: number;
  close: RecordedClose | undefined;
}

export type Step =
  | { readonly kind: 'open'; readonly connection: number }
  /** `frame` is 1-based among the connection's client frames. */
  | { readonly kind: 'client'; readonly connection: number; readonly frame: number; readonly payload: ClientFramePayload }
  /** `index` is 0-based among the connection's server messages. */
  | { readonly kind: 'server'; readonly connection: number; readonly index: number }
  | { readonly kind: 'close'; readonly connection: number; readonly close: RecordedClose };

export interface Recording {
  readonly connections: RecordedConnection[];
  readonly steps: Step[];
  /** Lines skipped and gaps the recorder reported; the replay goes on without them. */
  readonly warnings: string[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses recording lines, one at a time (`push`), into a Recording (`finish`). */
function createParser(): { push(raw: string): void; finish(): Recording } {
  const connections: RecordedConnection[] = [];
  const steps: Step[] = [];
  const warnings: string[] = [];
  /** The connection a conn id refers to now: an `open` line starts a new one (ids repeat after a restart). */
  const current = new Map<string, RecordedConnection>();
  const connectionOf = (conn: string, path?: string): RecordedConnection => {
    let c = current.get(conn);
    if (!c || path !== undefined) {
      c = { index: connections.length, conn, path: path ?? DEFAULT_PATH, sessionId: undefined, serverMessages: [], clientFrames: 0, close: undefined };
      connections.push(c);
      current.set(conn, c);
      steps.push({ kind: 'open', connection: c.index });
    }
    return c;
  };
  let n = 0;
  const push = (raw: string): void => {
    n++;
    const text = raw.trim();
    if (text === '') return;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      // The last line of a recording cut by a crash is the usual case.
      warnings.push(`line ${n}: not JSON, skipped`);
      return;
    }
    if (!isObj(line) || typeof line.conn !== 'string' || typeof line.dir !== 'string') {
      warnings.push(`line ${n}: not a recording line (no conn or dir), skipped`);
      return;
    }
    const conn = line.conn;
    if (line.dir === 'event') {
      switch (line.event) {
        case 'open':
          connectionOf(conn, typeof line.path === 'string' && line.path.startsWith('/') ? line.path : DEFAULT_PATH);
          break;
        case 'session':
          connectionOf(conn).sessionId = typeof line.id === 'string' ? line.id : undefined;
          break;
        case 'close': {
          const c = connectionOf(conn);
          if (typeof line.code !== 'number') {
            warnings.push(`line ${n}: close without a code, skipped`);
            break;
          }
          c.close = {
            code: line.code,
            reason: typeof line.reason === 'string' ? line.reason : '',
            initiatedBy: line.initiatedBy === 'client' ? 'client' : 'server',
          };
          steps.push({ kind: 'close', connection: c.index, close: c.close });
          // Lines after the close under the same id belong to whatever opens next.
          current.delete(conn);
          break;
        }
        case 'dropped':
          warnings.push(`line ${n}: the recorder dropped ${String(line.lines)} line(s) here (the disk did not keep up); the replay may differ from this point`);
          break;
        default:
          warnings.push(`line ${n}: unknown event ${JSON.stringify(line.event)}, skipped`);
      }
      return;
    }
    if (line.dir === 'server') {
      const c = connectionOf(conn);
      steps.push({ kind: 'server', connection: c.index, index: c.serverMessages.length });
      c.serverMessages.push(line.json);
      return;
    }
    if (line.dir === 'client') {
      const payload = clientPayload(line);
      if (!payload) {
        warnings.push(`line ${n}: client frame without json or data, skipped`);
        return;
      }
      const c = connectionOf(conn);
      steps.push({ kind: 'client', connection: c.index, frame: ++c.clientFrames, payload });
      return;
    }
    warnings.push(`line ${n}: unknown dir ${JSON.stringify(line.dir)}, skipped`);
  };
  return { push, finish: () => ({ connections, steps, warnings }) };
}

/** Parses recording text already in memory, one string a line. */
export function parseRecording(lines: Iterable<string>): Recording {
  const parser = createParser();
  for (const line of lines) parser.push(line);
  return parser.finish();
}

function clientPayload(line: Obj): ClientFramePayload | undefined {
  const frame = line.frame === 'binary' ? 'binary' : 'text';
  if ('json' in line) return { frame, json: line.json };
  if (typeof line.data === 'string') return { frame, data: line.data, encoding: line.encoding === 'base64' ? 'base64' : 'utf8' };
  return undefined;
}

/** Reads a recording file line by line (recordings with audio run to hundreds of megabytes). */
export async function readRecording(path: string): Promise<Recording> {
  // Opened first so that a missing or unreadable file is an error here, not a silent empty read.
  const handle = await open(path, 'r');
  try {
    const parser = createParser();
    const rl = createInterface({ input: handle.createReadStream({ encoding: 'utf8', autoClose: false }), crlfDelay: Infinity });
    for await (const line of rl) parser.push(line);
    return parser.finish();
  } finally {
    await handle.close();
  }
}
