/**
 * What `--log-level debug` says about one connection's traffic: each client message with its kind
 * and size, the model's turns as they start and end, tool calls. A microphone sends a chunk every
 * 20 to 100 ms, so streamed media is summarized at debug (its first chunk, then a line every few
 * seconds and one when the stream pauses); trace has a line for every chunk.
 */
import type { Logger } from 'pino';
import type { ClientMessage } from '../protocol/client-schema.js';
import type { ServerMessage } from '../protocol/server-messages.js';

/** Real time between two summaries of a media stream. */
export const MEDIA_SUMMARY_INTERVAL_MS = 5_000;

/** What a client message is, as a log reads it: `clientContent`, `realtimeInput.audio`, … */
export function messageKind(message: ClientMessage): string {
  if (message.kind !== 'realtimeInput') return message.kind;
  const ri = message.realtimeInput;
  const parts = Object.keys(ri).filter((k) => ri[k as keyof typeof ri] !== undefined);
  return parts.length > 0 ? `realtimeInput.${parts.join('+')}` : 'realtimeInput';
}

/** A chunk of a media stream: realtime audio, video or media chunks and nothing else. */
function isMediaChunk(message: ClientMessage): boolean {
  if (message.kind !== 'realtimeInput') return false;
  const { audio, video, mediaChunks, ...rest } = message.realtimeInput;
  return (audio !== undefined || video !== undefined || mediaChunks !== undefined) && Object.values(rest).every((v) => v === undefined);
}

interface MediaTally {
  chunks: number;
  bytes: number;
  since: number;
}

export class ClientTrafficLog {
  /** Per media kind: chunks received since its last line. */
  private readonly media = new Map<string, MediaTally>();

  constructor(
    private readonly log: () => Logger,
    /** Real time: log pacing must not follow a manual or scaled server clock. */
    private readonly now: () => number = Date.now,
  ) {}

  /** A client message after setup, `index` as transparent resumption counts it, `bytes` its frame. */
  message(index: number, message: ClientMessage, bytes: number): void {
    const log = this.log();
    if (!log.isLevelEnabled('debug')) return;
    const kind = messageKind(message);
    if (!isMediaChunk(message)) {
      // A pause in the stream (audioStreamEnd, a text turn, …): what it sent so far is told first.
      this.flush();
      log.debug({ index, kind, bytes }, 'client message');
      return;
    }
    if (log.isLevelEnabled('trace')) {
      log.trace({ index, kind, bytes }, 'client message');
      return;
    }
    const tally = this.media.get(kind);
    if (!tally) {
      this.media.set(kind, { chunks: 0, bytes: 0, since: this.now() });
      log.debug({ index, kind, bytes }, `client message: ${kind} stream starts (further chunks summarized)`);
      return;
    }
    tally.chunks++;
    tally.bytes += bytes;
    if (this.now() - tally.since >= MEDIA_SUMMARY_INTERVAL_MS) this.summarize(kind, tally, log);
  }

  /** Summarizes what each stream sent since its last line, and forgets the streams. */
  flush(): void {
    const log = this.log();
    for (const [kind, tally] of this.media) if (tally.chunks > 0) this.summarize(kind, tally, log);
    this.media.clear();
  }

  private summarize(kind: string, tally: MediaTally, log: Logger): void {
    log.debug({ kind, chunks: tally.chunks, bytes: tally.bytes, overMs: this.now() - tally.since }, `client ${kind} stream`);
    tally.chunks = 0;
    tally.bytes = 0;
    tally.since = this.now();
  }
}

/** The model's side of the session at debug: turns starting and ending, tool calls. */
export class ModelTurnLog {
  private turnOpen = false;
  private interrupted = false;
  private contentMessages = 0;

  constructor(private readonly log: () => Logger) {}

  /** A message the session sends the client. */
  sent(message: ServerMessage): void {
    const log = this.log();
    if (!log.isLevelEnabled('debug')) return;
    if ('toolCall' in message) {
      this.start(log);
      log.debug({ calls: message.toolCall.functionCalls.map((c) => c.name) }, 'tool call sent');
      return;
    }
    if (!('serverContent' in message)) return;
    const content = message.serverContent;
    if (content.modelTurn) {
      this.start(log);
      this.contentMessages++;
    }
    if (content.interrupted) {
      this.interrupted = true;
      log.debug({}, 'model turn interrupted');
    }
    // interrupted and turnComplete come in messages of their own.
    if (content.turnComplete) {
      log.debug(
        { contentMessages: this.contentMessages, interrupted: this.interrupted, totalTokens: message.usageMetadata?.totalTokenCount },
        'model turn ended',
      );
      this.turnOpen = false;
      this.interrupted = false;
      this.contentMessages = 0;
    }
  }

  private start(log: Logger): void {
    if (this.turnOpen) return;
    this.turnOpen = true;
    log.debug({}, 'model turn started');
  }
}
