/**
 * The user's audio and video on their way to the upstream model, which listens itself (a
 * native-audio model hears tone and timing that no transcript carries).
 *
 * relive decides where the user's turns begin and end (its own voice detector, or the client's
 * activityStart/activityEnd), so the upstream session runs with its automatic activity detection
 * off and is told the same boundaries: activityStart when speech begins, then the audio as it
 * arrives, then activityEnd when relive ends the turn. Audio heard outside an activity is held
 * (bounded), because a turn that ends with no detected start (no detector, audioStreamEnd) must
 * still reach the model whole; at a detected start only the last moments of it are sent, so the
 * model hears the onset the detector needed time to notice.
 */
import type { LiveSendRealtimeInputParameters } from '@google/genai';
import { base64ByteLength, pcmBytesPerSecond } from '../../session/context.js';
import type { HeardInput } from '../../session/engine.js';

/** Audio held while no activity is open; older audio is dropped (a minute of silence is no turn). */
const MAX_HELD_SECONDS = 60;
/** Held audio sent ahead of a detected start: the detector notices speech after it began. */
const PREROLL_SECONDS = 0.5;

interface HeldChunk {
  readonly data: string;
  readonly mimeType: string;
  readonly seconds: number;
}

export class AudioRelay {
  private open = false;
  private held: HeldChunk[] = [];
  private heldSeconds = 0;
  /** Seconds of audio sent upstream, for the control API. */
  sentSeconds = 0;

  constructor(private readonly send: (params: LiveSendRealtimeInputParameters) => void) {}

  hear(input: HeardInput): void {
    switch (input.type) {
      case 'video':
        // Frames are context whenever they come; the model looks at the newest when it answers.
        this.send({ video: { data: input.data, mimeType: input.mimeType } });
        return;
      case 'activityStart':
        if (this.open) return;
        this.open = true;
        this.send({ activityStart: {} });
        this.flush(PREROLL_SECONDS);
        return;
      case 'audio': {
        const chunk = { data: input.data, mimeType: input.mimeType, seconds: base64ByteLength(input.data) / pcmBytesPerSecond(input.mimeType) };
        if (this.open) {
          this.forward(chunk);
          return;
        }
        this.held.push(chunk);
        this.heldSeconds += chunk.seconds;
        while (this.heldSeconds > MAX_HELD_SECONDS && this.held.length > 1) this.heldSeconds -= this.held.shift()!.seconds;
        return;
      }
      default: {
        const never: never = input;
        throw new Error(`unknown input ${JSON.stringify(never)}`);
      }
    }
  }

  /** Audio was heard since the last turn ended: an activity is open, or audio is held. */
  get pending(): boolean {
    return this.open || this.held.length > 0;
  }

  /**
   * relive ended the user's spoken turn: the upstream's activity ends with it, which asks the
   * upstream for its reply. Audio held without a detected start is the whole turn (no detector).
   */
  endTurn(): void {
    if (!this.open) {
      this.send({ activityStart: {} });
      this.flush(Infinity);
    }
    this.open = false;
    this.send({ activityEnd: {} });
  }

  /** Sends the last `seconds` of held audio and forgets the rest. */
  private flush(seconds: number): void {
    let from = this.held.length;
    let total = 0;
    while (from > 0 && total < seconds) total += this.held[--from]!.seconds;
    for (const chunk of this.held.slice(from)) this.forward(chunk);
    this.held = [];
    this.heldSeconds = 0;
  }

  private forward(chunk: HeldChunk): void {
    this.send({ audio: { data: chunk.data, mimeType: chunk.mimeType } });
    this.sentSeconds += chunk.seconds;
  }
}
