/**
 * One model generation: reads the engine's events and turns them into server messages, in TEXT
 * or AUDIO, while keeping the exact record of what reached the client. Ends in one of four ways:
 * complete, a blocking tool call, aborted (barge-in, or an output that ends it, cut-turn.ts), or
 * failed.
 */
import { errorMessage } from '../errors.js';
import type { CloseSpec } from '../protocol/close-codes.js';
import { msg, type ServerMessage } from '../protocol/server-messages.js';
import type { SessionConfig } from './config.js';
import { base64ByteLength, pcmBytesPerSecond, type ContextPart, type ContextTurn } from './context.js';
import type { Engine, EngineSession } from './engine.js';
import { newFunctionCallId } from './ids.js';
import { Speaker } from './speaker.js';
import type { SpeechSynthesizer } from './speech.js';

export interface GenerationOutput {
  /** Sends a message. An output may abort the generation instead (cut-turn.ts): then it did not go out. */
  send(message: ServerMessage): void;
  /** Resolves when the connection can take more (backpressure). */
  ready(): Promise<void>;
}

/**
 * Called synchronously as a toolCall is sent, before `run()` settles: a client may answer
 * within the same tick, and its response must find the call already pending.
 */
export type OnToolCall = (calls: readonly IssuedCall[]) => void;

/** Called as a filler turn ends (EngineEvent turnBreak), with what the client received of it. */
export type OnTurnBreak = (parts: ContextPart[]) => void;

export interface IssuedCall {
  readonly id: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
  readonly blocking: boolean;
}

export type GenerationOutcome =
  | { kind: 'complete' }
  | { kind: 'toolCall' }
  | { kind: 'aborted' }
  | { kind: 'failed'; close: CloseSpec; detail: string };

export interface GenerationDeps {
  /** For what the engine can do (`hearsInput`); the generation itself runs on the session's EngineSession. */
  readonly engine: Engine;
  readonly speech: SpeechSynthesizer | undefined;
  readonly audioChunkMs: number;
}

export class Generation {
  private readonly controller = new AbortController();
  private readonly parts: ContextPart[] = [];
  private speaker: Speaker | undefined;
  /** The engine's own speech sent so far (a native-audio model), and the words it carries. */
  private nativeSeconds = 0;
  private nativeTranscript = '';
  /** Calls issued by this generation, blocking or not. */
  readonly calls: IssuedCall[] = [];
  /** The backend's own count for this generation, when it gave one. */
  usage: { promptTokens: number; responseTokens: number } | undefined;

  constructor(
    private readonly engineSession: EngineSession,
    private readonly deps: GenerationDeps,
    private readonly config: SessionConfig,
    private readonly history: readonly ContextTurn[],
    private readonly userTurns: number,
    private readonly out: GenerationOutput,
    private readonly onToolCall: OnToolCall,
    private readonly onTurnBreak: OnTurnBreak = () => undefined,
  ) {}

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  abort(): void {
    this.controller.abort();
  }

  /** The model's side of the conversation as the client received it. */
  sentParts(): ContextPart[] {
    const spoken = this.speaker?.spoken();
    // Copies: the history must not change if this generation's last text part grows later.
    const parts = this.parts.map((p) => ({ ...p }));
    if (spoken) parts.unshift({ kind: 'audio', seconds: spoken.seconds, transcript: spoken.transcript });
    if (this.nativeSeconds > 0) {
      const transcript = this.nativeTranscript.trim();
      parts.unshift(transcript ? { kind: 'audio', seconds: this.nativeSeconds, transcript } : { kind: 'audio', seconds: this.nativeSeconds });
    }
    return parts;
  }

  /** What the client received of the turn so far, and a fresh start for the next turn of the same generation. */
  private takeTurn(): ContextPart[] {
    const parts = this.sentParts();
    this.parts.length = 0;
    this.speaker = undefined;
    this.nativeSeconds = 0;
    this.nativeTranscript = '';
    return parts;
  }

  async run(): Promise<GenerationOutcome> {
    const signal = this.controller.signal;
    /** Sends unless aborted, before or by the output itself; false when the message did not go out. */
    const send = (m: ServerMessage): boolean => {
      if (signal.aborted) return false;
      this.out.send(m);
      return !signal.aborted;
    };
    const stopped = (): GenerationOutcome => ({ kind: 'aborted' });
    const audio = this.config.modality === 'AUDIO';
    // An engine that hears audio may also speak (a native-audio model): its text is synthesized
    // only if it sends text, so a synthesizer is required only then.
    const speaker = (): Speaker | undefined => {
      if (!audio || this.speaker) return this.speaker;
      if (!this.deps.speech) throw new MissingSynthesizer();
      this.speaker = new Speaker(
        this.deps.speech,
        { send, ready: () => this.out.ready() },
        { voice: this.config.voice, chunkMs: this.deps.audioChunkMs, transcription: this.config.outputTranscription, bundled: this.config.profile.bundledParts, languageCode: this.config.transcriptionDetail.outputLanguage, wordTimes: this.config.transcriptionDetail.outputWords },
        signal,
      );
      return this.speaker;
    };
    if (audio && !this.deps.engine.hearsInput && !this.deps.speech) return { kind: 'failed', close: internal, detail: 'AUDIO modality without a speech synthesizer' };
    try {
      for await (const event of this.engineSession.generate({ config: this.config, history: this.history, userTurns: this.userTurns }, signal)) {
        if (signal.aborted) return stopped();
        switch (event.type) {
          case 'text':
            if (audio) {
              speaker()!.push(event.text);
            } else {
              await this.out.ready();
              // Only what went out is history: a barge-in may land during the wait above.
              if (send(msg.text(event.text))) this.appendText(event.text, false);
            }
            break;
          case 'thought':
            if (!this.speaker && this.config.setup.generationConfig?.thinkingConfig?.includeThoughts) {
              if (!send(msg.text(event.text, true))) return stopped();
            }
            this.appendText(event.text, true);
            break;
          case 'toolCall': {
            // What was said before the call reaches the client before the call does.
            await this.speaker?.flush();
            if (signal.aborted) return stopped();
            const issued = event.calls.map((c) => ({
              id: newFunctionCallId(),
              name: c.name,
              args: c.args ?? {},
              blocking: !isNonBlocking(this.config, c.name),
            }));
            if (!send(msg.toolCall(issued.map(({ id, name, args }) => ({ name, args, id }))))) return stopped();
            for (const c of issued) {
              this.calls.push(c);
              this.parts.push({ kind: 'functionCall', id: c.id, name: c.name, args: c.args });
            }
            this.onToolCall(issued);
            if (issued.some((c) => c.blocking)) return { kind: 'toolCall' };
            break;
          }
          case 'fail':
            return { kind: 'failed', close: event.close, detail: 'engine failed the turn' };
          case 'usage':
            this.usage = { promptTokens: event.promptTokens, responseTokens: event.responseTokens };
            break;
          case 'audio': {
            if (!audio) break;
            await this.out.ready();
            // Only what went out is history, as with synthesized speech.
            if (!send(msg.audio(event.data, event.mimeType))) return stopped();
            this.nativeSeconds += base64ByteLength(event.data) / pcmBytesPerSecond(event.mimeType);
            break;
          }
          case 'turnBreak': {
            if (!this.config.profile.fillerTurns) break;
            // The filler's words reach the client before its turn ends.
            await this.speaker?.flush();
            if (signal.aborted) return stopped();
            this.onTurnBreak(this.takeTurn());
            break;
          }
          case 'outputTranscript':
            if (!audio || event.text.length === 0) break;
            if (this.config.outputTranscription && !send(msg.outputTranscription(event.text))) return stopped();
            this.nativeTranscript += event.text;
            break;
          default: {
            const never: never = event;
            throw new Error(`unknown engine event ${JSON.stringify(never)}`);
          }
        }
      }
      await this.speaker?.flush();
      return signal.aborted ? stopped() : { kind: 'complete' };
    } catch (err) {
      if (signal.aborted) return stopped();
      if (err instanceof MissingSynthesizer) return { kind: 'failed', close: internal, detail: 'AUDIO modality without a speech synthesizer' };
      return { kind: 'failed', close: internal, detail: errorMessage(err) };
    }
  }

  private appendText(text: string, thought: boolean): void {
    const last = this.parts[this.parts.length - 1];
    if (last?.kind === 'text' && (last.thought === true) === thought) last.text += text;
    else this.parts.push(thought ? { kind: 'text', text, thought: true } : { kind: 'text', text });
  }
}

class MissingSynthesizer extends Error {}

const internal: CloseSpec = { code: 1011, reason: 'Internal error occurred.' };

/**
 * How the model runs a call to `name`: as declared, when the model runs that behaviour; else the
 * model's default (3.8: NON_BLOCKING when `behavior` is absent; 3.1 runs everything BLOCKING).
 */
function isNonBlocking(config: SessionConfig, name: string): boolean {
  const profile = config.profile;
  for (const tool of config.tools) {
    for (const fd of tool.functionDeclarations ?? []) {
      if (fd.name !== name) continue;
      const declared = fd.behavior;
      if ((declared === 'BLOCKING' || declared === 'NON_BLOCKING') && profile.functionBehaviors.includes(declared)) return declared === 'NON_BLOCKING';
      return profile.defaultFunctionBehavior === 'NON_BLOCKING';
    }
  }
  return profile.defaultFunctionBehavior === 'NON_BLOCKING';
}
