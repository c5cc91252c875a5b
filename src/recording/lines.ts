/**
 * The lines of a wire recording (--record DIR), shared by the recorder that writes them and the
 * replay that reads them. docs/recording.md documents the format; change both together.
 */

/** Written into every `open` line, so a later reader can tell an older format apart. */
export const RECORDING_FORMAT = 1;

export interface LineBase {
  /** ISO time on the server's clock (a manual or scaled clock shows as such). */
  readonly at: string;
  /** Milliseconds since the connection opened, on the monotonic clock of the process. */
  readonly ms: number;
  /** The server's connection id (`c1`, `c2`, …; restarts from c1 in a new process). */
  readonly conn: string;
}

export type ClientFramePayload =
  | { readonly frame: 'text' | 'binary'; readonly json: unknown }
  | { readonly frame: 'text' | 'binary'; readonly data: string; readonly encoding: 'utf8' | 'base64' };

export type ClientLine = LineBase & { readonly dir: 'client' } & ClientFramePayload;

export interface ServerLine extends LineBase {
  readonly dir: 'server';
  readonly json: unknown;
}

export interface OpenEvent extends LineBase {
  readonly dir: 'event';
  readonly event: 'open';
  readonly v: number;
  readonly path: string;
  readonly apiVersion: string;
}

export interface SessionEvent extends LineBase {
  readonly dir: 'event';
  readonly event: 'session';
  readonly id: string;
  readonly resumed: boolean;
}

export interface CloseEvent extends LineBase {
  readonly dir: 'event';
  readonly event: 'close';
  readonly code: number;
  readonly reason: string;
  readonly initiatedBy: 'client' | 'server';
}

/** Lines the recorder had to leave out because the disk did not keep up (see AppendFile). */
export interface DroppedEvent extends LineBase {
  readonly dir: 'event';
  readonly event: 'dropped';
  readonly lines: number;
}

export type EventLine = OpenEvent | SessionEvent | CloseEvent | DroppedEvent;
export type RecordLine = ClientLine | ServerLine | EventLine;

/**
 * A client frame as a line payload: the parsed JSON when the bytes are JSON (text or binary frame,
 * Pipecat sends JSON in binary frames), else the bytes themselves: as text when they are valid
 * UTF-8, in base64 otherwise, so that bad input is replayed byte for byte.
 */
export function clientFramePayload(data: Buffer, isBinary: boolean): ClientFramePayload {
  const frame = isBinary ? 'binary' : 'text';
  const text = data.toString('utf8');
  // Decoding replaces invalid sequences with U+FFFD; only an exact round trip is real UTF-8.
  if (Buffer.from(text, 'utf8').equals(data)) {
    try {
      return { frame, json: JSON.parse(text) as unknown };
    } catch {
      return { frame, data: text, encoding: 'utf8' };
    }
  }
  return { frame, data: data.toString('base64'), encoding: 'base64' };
}

/** The bytes a client line stands for: the JSON re-serialized compactly, or the recorded bytes. */
export function clientFrameBytes(payload: ClientFramePayload): Buffer {
  if ('json' in payload) return Buffer.from(JSON.stringify(payload.json), 'utf8');
  return Buffer.from(payload.data, payload.encoding);
}
