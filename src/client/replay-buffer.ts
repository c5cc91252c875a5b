/**
 * Client messages the server may not have consumed yet, kept so that a resumed session gets them
 * again (PROTOCOL.md §5.4): everything sent since the newest handle, plus what could not be sent
 * while no connection was ready. Audio is bounded in seconds, so a long outage keeps the most
 * recent speech and counts what it had to drop; every other message is kept.
 */
export interface BufferedMessage {
  readonly wire: Record<string, unknown>;
  /** Seconds of audio the message carries (0 for anything else). */
  readonly audioSeconds: number;
  /** Which connection it went out on, and its index there (setup is 0); absent while unsent. */
  connection?: number;
  index?: number;
  /** A turnComplete came after it: the transcript holds it, so a seeded session must not get it again. */
  covered?: boolean;
}

export interface DroppedInput {
  messages: number;
  audioSeconds: number;
}

export class ReplayBuffer {
  private entries: BufferedMessage[] = [];
  private audioSeconds = 0;
  private droppedSinceReport: DroppedInput = { messages: 0, audioSeconds: 0 };
  /** Everything ever dropped, for stats. */
  readonly droppedTotal: DroppedInput = { messages: 0, audioSeconds: 0 };

  constructor(private readonly maxAudioSeconds: number) {}

  get size(): number {
    return this.entries.length;
  }

  add(wire: Record<string, unknown>, audioSeconds: number): BufferedMessage {
    const entry: BufferedMessage = { wire, audioSeconds };
    this.entries.push(entry);
    this.audioSeconds += audioSeconds;
    this.trimAudio();
    return entry;
  }

  /** Messages in order that have not gone out on `connection` yet (unsent, or sent on an older one). */
  toSendOn(connection: number): BufferedMessage[] {
    return this.entries.filter((e) => e.connection !== connection);
  }

  /** The server consumed everything up to `index` on `connection` (transparent mode). */
  consumedThrough(connection: number, index: number): void {
    this.keep((e) => !(e.connection === connection && e.index !== undefined && e.index <= index));
  }

  /** Without indices: messages sent on `connection` before its message number `index` count as consumed. */
  consumedBefore(connection: number, index: number): void {
    this.keep((e) => !(e.connection === connection && e.index !== undefined && e.index < index));
  }

  /** A turn ended on `connection`: what went out on it so far is in the transcript now. */
  coverSentOn(connection: number): void {
    for (const e of this.entries) if (e.connection === connection) e.covered = true;
  }

  /** A fresh session seeded from the transcript needs only what the transcript lacks. */
  dropCovered(): void {
    this.keep((e) => !e.covered);
  }

  /** What was dropped since the last call: reported once, with the restore it affected. */
  takeDropped(): DroppedInput {
    const d = this.droppedSinceReport;
    this.droppedSinceReport = { messages: 0, audioSeconds: 0 };
    return d;
  }

  private keep(pred: (e: BufferedMessage) => boolean): void {
    const kept = this.entries.filter(pred);
    if (kept.length === this.entries.length) return;
    this.entries = kept;
    this.audioSeconds = kept.reduce((sum, e) => sum + e.audioSeconds, 0);
  }

  /** Oldest audio goes first; text, tool responses and turn ends are never dropped. */
  private trimAudio(): void {
    if (this.audioSeconds <= this.maxAudioSeconds) return;
    const kept: BufferedMessage[] = [];
    for (const e of this.entries) {
      if (this.audioSeconds > this.maxAudioSeconds && e.audioSeconds > 0 && onlyAudio(e.wire)) {
        this.audioSeconds -= e.audioSeconds;
        for (const d of [this.droppedSinceReport, this.droppedTotal]) {
          d.messages++;
          d.audioSeconds += e.audioSeconds;
        }
        continue;
      }
      kept.push(e);
    }
    this.entries = kept;
  }
}

/** A realtimeInput that carries audio and nothing else that matters (no text, no activity signal). */
function onlyAudio(wire: Record<string, unknown>): boolean {
  const ri = wire.realtimeInput as Record<string, unknown> | undefined;
  if (!ri) return false;
  return Object.keys(ri).every((k) => k === 'audio' || k === 'mediaChunks');
}
