/**
 * One recording file, appended to through a write stream: lines keep their order, the event loop
 * never waits on the disk, and a failing disk is logged once and then ignored, because recording
 * must never disturb the sessions it records.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * Lines queued for the disk beyond this are dropped (and counted): a stalled disk must not grow
 * the server's memory without bound while audio keeps streaming.
 */
export const MAX_QUEUED_BYTES = 32 * 1024 * 1024;

export class AppendFile {
  private stream: WriteStream | undefined;
  /** Lines written before the stream exists: the previous writer of this path is still ending. */
  private backlog: string[] | undefined = [];
  private backlogBytes = 0;
  private failed = false;
  private ending: Promise<void> | undefined;
  /** An end() requested before the stream was opened. */
  private endWhenOpen: (() => void) | undefined;
  /** Lines dropped since the last one written; the recorder writes a `dropped` line for them. */
  dropped = 0;

  /**
   * @param after  resolves when an earlier AppendFile of the same path has ended, so that two
   *               writers of one file (a session resumed right after its connection closed) never
   *               interleave their lines.
   */
  constructor(
    readonly path: string,
    after: Promise<void>,
    private readonly onError: (err: Error) => void,
    private readonly maxQueuedBytes = MAX_QUEUED_BYTES,
  ) {
    void after.then(() => this.openStream());
  }

  /** Queues a line (with its newline). False when it was dropped. */
  write(line: string): boolean {
    if (this.failed || this.ending) return false;
    const queued = this.stream ? this.stream.writableLength : this.backlogBytes;
    if (queued + line.length > this.maxQueuedBytes) {
      this.dropped++;
      return false;
    }
    if (this.stream) this.stream.write(line);
    else {
      this.backlog!.push(line);
      this.backlogBytes += line.length;
    }
    return true;
  }

  /** Ends the file; resolves once every queued line is on disk (or the file failed). Never rejects. */
  end(): Promise<void> {
    this.ending ??= new Promise<void>((resolve) => {
      const finish = (): void => {
        const stream = this.stream;
        if (!stream || this.failed) return resolve();
        stream.once('close', () => resolve());
        stream.end();
      };
      // The stream opens once the previous writer has ended; end after that.
      if (this.stream || this.failed) finish();
      else this.endWhenOpen = finish;
    });
    return this.ending;
  }

  private openStream(): void {
    let stream: WriteStream;
    try {
      stream = createWriteStream(this.path, { flags: 'a' });
    } catch (err) {
      // A path fs refuses outright (a NUL byte in the directory given): the same as a failed open.
      this.failed = true;
      this.backlog = undefined;
      this.onError(err instanceof Error ? err : new Error(String(err)));
      this.endWhenOpen?.();
      return;
    }
    stream.on('error', (err) => {
      if (this.failed) return;
      this.failed = true;
      this.backlog = undefined;
      this.onError(err);
      // fs streams destroy themselves on error and then emit 'close', which settles a pending end().
    });
    this.stream = stream;
    for (const line of this.backlog ?? []) stream.write(line);
    this.backlog = undefined;
    this.backlogBytes = 0;
    this.endWhenOpen?.();
  }
}
