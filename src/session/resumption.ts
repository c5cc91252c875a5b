/**
 * Session resumption for one connection: the index of the last client message applied, and the
 * rule that a handle leaves only after its checkpoint is durable (DESIGN invariant 2).
 *
 * - Every client message after setup has an index; between `handling()` and `handled(index)` the
 *   session handles it, and then the index is recorded as applied.
 * - A turn that ends inside the handling of a message (a barge-in: the new input cuts the old turn)
 *   does not update at once: the update waits until that message is applied, so the checkpoint and
 *   the index it carries agree.
 * - An update snapshots the session and the index synchronously, commits the checkpoint, and only
 *   when the commit resolves issues the handle and sends `sessionResumptionUpdate`. A fenced commit
 *   means the session was resumed elsewhere (1008 takenOver); any other failure is 1011. After
 *   either, or after `stop()`, nothing more is sent.
 *
 * Pure: it reaches the store, the socket and the handle codec only through the ports below.
 */
import { CloseReasons, type CloseSpec } from '../protocol/close-codes.js';
import { msg, type ServerMessage } from '../protocol/server-messages.js';
import { errorMessage } from '../errors.js';
import type { SessionSnapshot } from './live-session.js';
import { FencedError } from './store.js';

/** What resumption reads of the session. */
export interface ResumableSession {
  readonly id: string;
  /** False while a turn or a tool call is open: no checkpoint can be taken then. */
  readonly resumable: boolean;
  readonly status: string;
  snapshot(): SessionSnapshot;
}

export interface ResumptionPorts {
  readonly session: ResumableSession;
  /**
   * What the setup asked (`sessionResumption`): undefined sends no updates (the index is still
   * kept, for the checkpoint taken at the close); `transparent` updates carry the index.
   */
  readonly asked: { readonly transparent: boolean } | undefined;
  /** Commits a checkpoint; resolves with its seq once durable (the Checkpointer). */
  commit(snapshot: SessionSnapshot, lastConsumedClientMessageIndex: number, now: number): Promise<number>;
  /** Issues the handle of a durable checkpoint (the handle codec, bound to the principal). */
  issue(target: { sessionId: string; seq: number }): string;
  send(message: ServerMessage): void;
  close(spec: CloseSpec, detail: string): void;
  now(): number;
  readonly log: { debug(obj: object, message: string): void; error(obj: object, message: string): void };
}

export class Resumption {
  private applied = 0;
  /** Between `handling` and `handled`: a turn that ends then defers its update to the end of the message. */
  private applying = false;
  private due = false;
  private stopped = false;

  constructor(private readonly ports: ResumptionPorts) {}

  /** Index of the last client message fully applied to the session (PROTOCOL.md §5.4). */
  get appliedIndex(): number {
    return this.applied;
  }

  /** The handle of the checkpoint the session starts from (already durable): sent right after setupComplete. */
  start(seq: number): void {
    this.ports.send(msg.resumptionUpdate(this.ports.issue({ sessionId: this.ports.session.id, seq })));
    this.ports.log.debug({ seq }, 'resumption handle issued');
  }

  /** The handling of a client message starts: a turn that ends from now on defers its update to `handled`. */
  handling(): void {
    this.applying = true;
  }

  /**
   * Message `index` is applied in full: the index moves, and an update deferred by a barge-in goes
   * out now. (A message whose handling threw is never `handled`: the connection closes on it.)
   */
  handled(index: number): void {
    this.applying = false;
    this.applied = index;
    if (this.due) {
      this.due = false;
      void this.update();
    }
  }

  /** A message that changes nothing (a non-protocol message, ignored): it is consumed all the same. */
  skip(index: number): void {
    this.applied = index;
  }

  /** A turn ended: the moment for an update, at once or at the end of the message being applied. */
  turnCompleted(): void {
    if (this.applying) this.due = true;
    else void this.update();
  }

  /** The connection is closing: no update is sent from now on (commits under way finish unheard). */
  stop(): void {
    this.stopped = true;
  }

  /** Commits a checkpoint and sends its handle, or says the session is not resumable now. */
  private async update(): Promise<void> {
    const { session, log, asked } = this.ports;
    if (this.stopped || !asked) return;
    if (!session.resumable) {
      this.ports.send(msg.resumptionUpdate());
      log.debug({ status: session.status }, 'resumption update: not resumable now');
      return;
    }
    // Both read now, together: a message applied while the commit runs is not in this checkpoint.
    const index = this.applied;
    const snapshot = session.snapshot();
    try {
      const seq = await this.ports.commit(snapshot, index, this.ports.now());
      if (this.stopped) return;
      const handle = this.ports.issue({ sessionId: session.id, seq });
      this.ports.send(msg.resumptionUpdate(handle, asked.transparent ? index : undefined));
      log.debug({ seq, lastConsumedClientMessageIndex: index }, 'resumption handle issued');
    } catch (err) {
      if (this.stopped) return;
      this.stopped = true;
      if (err instanceof FencedError) this.ports.close(CloseReasons.takenOver, 'lease lost: the session was resumed elsewhere');
      else {
        log.error({ err: errorMessage(err) }, 'checkpoint commit failed');
        this.ports.close(CloseReasons.internal, 'checkpoint commit failed');
      }
    }
  }
}
