/**
 * `--record DIR`: every session's wire traffic, both directions, as newline-delimited JSON in
 * `DIR/<sessionId>.ndjson`, appended across the session's connections (a resumption continues the
 * same file). A connection that never reaches a session (a refused setup, bad input) goes to
 * `DIR/connection-<time>-<conn>.ndjson` when it closes. docs/recording.md has the line format.
 *
 * Recording must never disturb a session: taps never throw, writes are queued on append streams
 * (the event loop never waits on the disk), and a failing disk is logged and otherwise ignored.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { clientFramePayload, RECORDING_FORMAT } from '../recording/lines.js';
import type { ServerMessage } from '../protocol/server-messages.js';
import type { Clock } from '../session/clock.js';
import { AppendFile } from './append-file.js';
import type { ConnectionInfo, ConnectionTap, WireRecorder } from './wire-tap.js';
import { errorMessage } from '../errors.js';

export interface NdjsonRecorderOptions {
  readonly dir: string;
  /** The server's clock: `at` shows manual and scaled time as the sessions saw it. */
  readonly clock: Clock;
  readonly log: Logger;
  /** Bytes queued per file before lines are dropped; default 32 MiB (tests make it small). */
  readonly maxQueuedBytes?: number;
}

/** Failures logged (one per file) before the recorder stops logging them. */
const MAX_FAILURES_LOGGED = 100;

interface OpenFile {
  readonly file: AppendFile;
  refs: number;
}

export class NdjsonRecorder implements WireRecorder {
  readonly dir: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Files with at least one connection writing to them. */
  private readonly files = new Map<string, OpenFile>();
  /** Files whose last writer left and that are still being written out. */
  private readonly endings = new Map<string, Promise<void>>();
  /** Taps of open connections, so that flush() can write out what they still buffer. */
  private readonly taps = new Set<NdjsonTap>();
  /** Paths whose failure was already logged: a full disk must not flood the log. */
  private readonly failedPaths = new Set<string>();
  private flushed = false;
  private readonly maxQueuedBytes: number | undefined;

  constructor(options: NdjsonRecorderOptions) {
    this.dir = options.dir;
    this.maxQueuedBytes = options.maxQueuedBytes;
    this.clock = options.clock;
    this.log = options.log;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      // Logged, not thrown: the server serves without its recording rather than not at all.
      this.log.error({ err: errorMessage(err), dir: this.dir }, 'recording directory cannot be created; nothing will be recorded');
    }
  }

  open(info: ConnectionInfo): ConnectionTap {
    if (this.flushed) return NO_TAP;
    try {
      const tap = new NdjsonTap(this, info);
      this.taps.add(tap);
      return tap;
    } catch (err) {
      this.failed('', err);
      return NO_TAP;
    }
  }

  async flush(): Promise<void> {
    this.flushed = true;
    // Connections still open (server close does not wait for every close handshake): what they
    // buffered is written where it belongs, so a rejected setup at shutdown is not lost.
    for (const tap of [...this.taps]) tap.detach();
    const open = [...this.files.values()].map((f) => f.file.end());
    this.files.clear();
    await Promise.all([...open, ...this.endings.values()]);
  }

  // The rest is for NdjsonTap.

  now(): string {
    const t = this.clock.now();
    return Number.isFinite(t) ? new Date(t).toISOString() : String(t);
  }

  isFlushed(): boolean {
    return this.flushed;
  }

  acquire(name: string): AppendFile {
    const path = join(this.dir, name);
    let entry = this.files.get(path);
    if (!entry) {
      const file = new AppendFile(path, this.endings.get(path) ?? Promise.resolve(), (err) => this.failed(path, err), this.maxQueuedBytes);
      entry = { file, refs: 0 };
      this.files.set(path, entry);
    }
    entry.refs++;
    return entry.file;
  }

  release(file: AppendFile): void {
    const entry = this.files.get(file.path);
    if (!entry || entry.file !== file || --entry.refs > 0) return;
    // The last connection of this file left: close it, so that a long-running server does not
    // hold a descriptor per session it ever saw. A resumption reopens it after this end.
    this.files.delete(file.path);
    const ending = file.end();
    this.endings.set(file.path, ending);
    void ending.then(() => {
      if (this.endings.get(file.path) === ending) this.endings.delete(file.path);
    });
  }

  forget(tap: NdjsonTap): void {
    this.taps.delete(tap);
  }

  failed(path: string, err: unknown): void {
    if (this.failedPaths.has(path) || this.failedPaths.size > MAX_FAILURES_LOGGED) return;
    this.failedPaths.add(path);
    if (this.failedPaths.size > MAX_FAILURES_LOGGED) {
      this.log.error({ dir: this.dir }, 'recording keeps failing; further failures are not logged');
      return;
    }
    this.log.error({ err: errorMessage(err), path: path || undefined }, 'recording failed; the session goes on unrecorded');
  }
}

/** Lines of one connection: buffered until its session is known, then appended to the session's file. */
class NdjsonTap implements ConnectionTap {
  private readonly openedAt = performance.now();
  private readonly openedAtClock: string;
  /** Lines before the session is known; undefined once they went to a file. */
  private pending: string[] | undefined = [];
  private file: AppendFile | undefined;
  private done = false;

  constructor(
    private readonly recorder: NdjsonRecorder,
    private readonly info: ConnectionInfo,
  ) {
    this.openedAtClock = recorder.now();
    this.emit({ dir: 'event', event: 'open', v: RECORDING_FORMAT, path: info.path, apiVersion: info.apiVersion });
  }

  clientFrame(data: Buffer, isBinary: boolean): void {
    this.guard(() => this.emit({ dir: 'client', ...clientFramePayload(data, isBinary) }));
  }

  serverMessage(message: ServerMessage): void {
    this.guard(() => this.emit({ dir: 'server', json: message }));
  }

  session(id: string, resumed: boolean): void {
    this.guard(() => {
      if (this.done || this.file) return;
      this.file = this.recorder.acquire(`${safeName(id)}.ndjson`);
      this.writePending(this.file);
      this.emit({ dir: 'event', event: 'session', id, resumed });
    });
  }

  closed(code: number, reason: string, initiatedBy: 'client' | 'server'): void {
    this.guard(() => {
      this.emit({ dir: 'event', event: 'close', code, reason, initiatedBy });
      this.detach();
    });
  }

  /** The connection is over (or the server closes): its lines are all handed to a file. */
  detach(): void {
    if (this.done) return;
    this.done = true;
    this.recorder.forget(this);
    if (this.file) {
      this.recorder.release(this.file);
      return;
    }
    const stamp = this.openedAtClock.replace(/[-:]/g, '');
    const file = this.recorder.acquire(`connection-${safeName(stamp)}-${safeName(this.info.conn)}.ndjson`);
    this.writePending(file);
    this.recorder.release(file);
  }

  private writePending(file: AppendFile): void {
    for (const line of this.pending ?? []) this.write(file, line);
    this.pending = undefined;
  }

  private emit(fields: Record<string, unknown>): void {
    if (this.done || this.recorder.isFlushed()) return;
    const line = this.line(fields);
    if (this.file) this.write(this.file, line);
    else this.pending?.push(line);
  }

  private line(fields: Record<string, unknown>): string {
    // Microseconds are plenty, and keep the lines short.
    const ms = Math.round((performance.now() - this.openedAt) * 1000) / 1000;
    return `${JSON.stringify({ at: this.recorder.now(), ms, conn: this.info.conn, ...fields })}\n`;
  }

  private write(file: AppendFile, line: string): void {
    if (file.dropped > 0) {
      // Said in the file itself, so that a replay knows this part of the recording has a gap.
      const gap = this.line({ dir: 'event', event: 'dropped', lines: file.dropped });
      const count = file.dropped;
      file.dropped = 0;
      if (!file.write(gap)) file.dropped = count;
    }
    file.write(line);
  }

  /** A tap must never throw into the connection that calls it. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.recorder.failed('', err);
    }
  }
}

const NO_TAP: ConnectionTap = {
  clientFrame: () => undefined,
  serverMessage: () => undefined,
  session: () => undefined,
  closed: () => undefined,
};

/** Session ids are UUIDs; anything else a store might hand out must still make a plain file name. */
function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}

