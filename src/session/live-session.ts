/**
 * The session coordinator: applies client messages in order and decides when a model turn
 * starts, resumes or is interrupted. What it coordinates keeps its own state: the conversation
 * and its token count (conversation.ts), the user's pending input (user-input.ts), unanswered
 * function calls (tool-calls.ts), where compression may cut (compression-policy.ts), and the
 * model side, which runs generations and ends turns with the turn state and token use that go
 * with them (turn-runner.ts). It does no I/O of its own; the connection gives it an output and
 * the composition root gives it an engine, a synthesizer and a clock.
 */
import type { ClientContent, ContextUpdate, RealtimeInput, ToolResponse, ClientMessage } from '../protocol/client-schema.js';
import { CloseReasons, type CloseSpec } from '../protocol/close-codes.js';
import { msg } from '../protocol/server-messages.js';
import { compressionKeepFrom } from './compression-policy.js';
import { compressionSettings, type CompressionEvent, type CompressionSettings } from './context-window.js';
import { Conversation } from './conversation.js';
import { EngineLink } from './engine-link.js';
import { TokenAccountant } from './tokens.js';
import type { SessionConfig } from './config.js';
import { base64ByteLength, pcmBytesPerSecond, turnFromClient, type ContextTurn } from './context.js';
import type { Generation } from './generation.js';
import type { SessionId } from './ids.js';
import { realtimeBlobs } from './realtime-blobs.js';
import type { LiveSessionDeps, RestoredState, SessionOutput, SessionSnapshot, SessionStatus } from './session-ports.js';
import type { SpeechSession, SpeechSink, VoiceCapabilities } from './speech-port.js';
import { HistorySeeding } from './history-seeding.js';
import { ToolCalls } from './tool-calls.js';
import { TurnRunner } from './turn-runner.js';
import { statusOf, type TurnState } from './turn-state.js';
import type { TokenTotals } from './turn-usage.js';
import { UserInput } from './user-input.js';

export type { TokenTotals } from './turn-usage.js';
export type { CoreLogger, LiveSessionDeps, RestoredState, SessionOutput, SessionSnapshot, SessionStatus } from './session-ports.js';

export class LiveSession implements SpeechSession {
  readonly createdAt: number;
  private currentConfig: SessionConfig;
  private readonly conversation: Conversation;
  private readonly input: UserInput;
  private readonly calls: ToolCalls;
  /** Whether clientContent is taken now (3.1 takes it only as initial history). */
  private readonly seeding: HistorySeeding;
  private readonly engine: EngineLink;
  private readonly runner: TurnRunner;
  /** The runner's turn state, which input reads and queues replies on. */
  private readonly turn: TurnState<Generation>;
  private output: SessionOutput | undefined;
  private speech: SpeechSink | undefined;
  /** An INTERRUPT tool response came while the user spoke (3.8): it is answered when their speech ends. */
  private answerAfterSpeech = false;

  constructor(
    readonly id: SessionId,
    config: SessionConfig,
    private readonly deps: LiveSessionDeps,
    restored?: RestoredState,
  ) {
    this.currentConfig = config;
    this.createdAt = restored?.createdAt ?? deps.clock.now();
    const accountant = new TokenAccountant(deps.tokenizer, deps.tokenRates, config.setup.generationConfig?.mediaResolution);
    this.conversation = new Conversation(accountant, deps.preambleTokens, config, restored);
    this.input = new UserInput(config, restored?.pendingInput);
    this.calls = new ToolCalls(restored?.pendingCalls);
    this.seeding = new HistorySeeding(config, (restored?.turnsCompleted ?? 0) > 0);
    this.engine = new EngineLink(deps.engine, id, () => this.currentConfig, (text) => this.onEngineTranscript(text));
    const host = {
      output: () => this.output,
      config: () => this.currentConfig,
      fail: (close: CloseSpec, detail: string) => this.fail(close, detail),
      // The reply a turn owed: the input that waited for it, or the WHEN_IDLE responses already in the history.
      replyOwed: () => (this.input.hasTurnInput() ? this.commitUserTurn() : this.startTurn()),
    };
    const parts = { engine: this.engine.session, deps, conversation: this.conversation, calls: this.calls };
    this.runner = new TurnRunner(host, parts, restored?.turnsCompleted ?? 0);
    this.turn = this.runner.turn;
  }

  /** The session's config; only a contextUpdate changes it (system instruction and tools). */
  get config(): SessionConfig {
    return this.currentConfig;
  }

  get history(): readonly ContextTurn[] {
    return this.conversation.history;
  }

  /** Turns compression has dropped from the front since the session began: the log index of history[0]. */
  get firstTurn(): number {
    return this.conversation.firstTurn;
  }

  /** User input turns the session has had. */
  get userTurns(): number {
    return this.conversation.userTurns;
  }

  get turnsCompleted(): number {
    return this.runner.turnsCompleted;
  }

  /** Token use of the session so far, for the control API. */
  get totals(): Readonly<TokenTotals> {
    return this.runner.totals;
  }

  /** Tokens of the prompt now. */
  get contextTokens(): number {
    return this.conversation.tokens;
  }

  /** The compression settings in force (undefined: compression off). */
  get compression(): CompressionSettings | undefined {
    return compressionSettings(this.config.compression, this.deps.contextWindowTokens ?? this.config.profile.contextWindowTokens);
  }

  get compressionEvents(): readonly CompressionEvent[] {
    return this.conversation.compressionEvents;
  }

  get status(): SessionStatus {
    return statusOf(this.turn.phase);
  }

  /**
   * At an interaction boundary (PROTOCOL.md §12.2): no model turn open and no function call the
   * model still owes an answer for, blocking or not (a NON_BLOCKING call's response may still make
   * it speak). A call quieted by a SILENT willContinue response does not hold it.
   */
  get resumable(): boolean {
    return this.turn.phase.kind === 'idle' && !this.calls.owed;
  }

  /** The state a checkpoint stores. The history is shared, not copied: the store writes only its new tail. */
  snapshot(): SessionSnapshot {
    return {
      setup: this.config.setup,
      history: this.conversation.history,
      firstTurn: this.conversation.firstTurn,
      userTurns: this.conversation.userTurns,
      turnsCompleted: this.runner.turnsCompleted,
      pendingInput: this.input.snapshot(),
      pendingCalls: this.calls.calls,
    };
  }

  /** Ids of function calls the client has not answered yet. */
  get pendingCallIds(): string[] {
    return this.calls.ids;
  }

  attach(output: SessionOutput): void {
    this.output = output;
  }

  /** What the engine holds for this session (the gateway's upstream), for the control API. */
  describeEngine(): Record<string, unknown> | undefined {
    return this.engine.describe();
  }

  /** The connection is gone: stop generating; nothing more is sent. */
  end(): void {
    this.runner.end();
    this.output = undefined;
    this.engine.release();
  }

  handle(message: ClientMessage): void {
    if (!this.turn.live) return;
    switch (message.kind) {
      case 'setup':
        this.fail(CloseReasons.invalidArgument, 'setup sent twice');
        return;
      case 'clientContent':
        this.onClientContent(message.clientContent);
        return;
      case 'realtimeInput':
        this.onRealtimeInput(message.realtimeInput);
        return;
      case 'toolResponse':
        this.onToolResponse(message.toolResponse);
        return;
      case 'contextUpdate':
        this.onContextUpdate(message.contextUpdate);
        return;
      default: {
        const never: never = message;
        throw new Error(`unhandled message ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Ends the next model turn with turnComplete after `afterChunks` content messages, with no
   * generationComplete: the premature (or, at 0, empty) turnComplete real models send
   * (PROTOCOL.md §6.6, an injected fault). The history keeps what was sent, as after a barge-in.
   */
  cutNextTurn(afterChunks: number): void {
    this.runner.cutNext(afterChunks);
  }

  /** The voice input opens its port (speech-port.ts): what it provides sets how spoken turns are taken. */
  openSpeech(provides: VoiceCapabilities): SpeechSink {
    this.input.voiceOpened(provides);
    this.speech ??= {
      speechStarted: () => this.onSpeechStarted(),
      speechEnded: (seconds, transcript) => this.onSpeechEnded(seconds, transcript),
      heard: (text) => this.onHeard(text),
    };
    return this.speech;
  }

  private onClientContent(cc: ClientContent): void {
    const refused = this.seeding.refusal(cc);
    if (refused) {
      this.fail(CloseReasons.invalidArgument, refused);
      return;
    }
    // "A message here will interrupt any current model generation" (PROTOCOL.md §3.2).
    if (this.turn.open) this.runner.interrupt();
    for (const content of cc.turns ?? []) this.conversation.append(turnFromClient(content));
    if (cc.turnComplete) this.startTurn();
  }

  private onRealtimeInput(ri: RealtimeInput): void {
    this.seeding.close();
    const auto = this.config.automaticActivityDetection;
    if ((ri.activityStart || ri.activityEnd) && auto) {
      this.fail(CloseReasons.invalidArgument, 'activityStart/activityEnd with automatic activity detection on');
      return;
    }
    if (ri.activityStart) {
      if (this.turn.open && this.config.activityInterrupts) this.runner.interrupt();
      // A new activity while the last one waits for its transcript: the last one goes as it is.
      if (this.input.awaitingTranscript) this.onSpeechEnded(undefined, undefined);
      this.input.speechBegan();
      this.engine.hear({ type: 'activityStart' });
    }
    for (const blob of realtimeBlobs(ri)) {
      if (blob.data) this.engine.hear({ type: blob.kind === 'image' ? 'video' : 'audio', data: blob.data, mimeType: blob.mimeType });
      if (blob.kind === 'image') {
        if (this.input.addImage(blob.mimeType)) this.output?.videoReceived?.();
      } else {
        this.input.addAudio(base64ByteLength(blob.data) / pcmBytesPerSecond(blob.mimeType));
      }
    }
    if (ri.text !== undefined && ri.text.length > 0) {
      this.input.addText(ri.text);
      // Realtime text is a complete utterance under server-side activity detection.
      if (auto) this.commitUserTurn();
    }
    // Manual mode only (see above): the turn goes now, or once the recognizer has its words.
    if (ri.activityEnd && !this.input.activityEnded()) this.commitUserTurn();
    // With a voice detector running, the detector decides where speech ends (audioStreamEnd flushes it there).
    if (ri.audioStreamEnd && auto && !this.input.detectsSpeech && this.input.hasAudio) this.commitUserTurn();
  }

  private onSpeechStarted(): void {
    if (!this.turn.live || !this.input.detectsSpeech) return;
    if (this.turn.open && this.config.activityInterrupts) this.runner.interrupt();
    this.input.speechBegan();
    this.engine.hear({ type: 'activityStart' });
  }

  private onSpeechEnded(seconds: number | undefined, transcript: string | undefined): void {
    if (!this.turn.live) return;
    if (seconds !== undefined) {
      // The detector measured the speech: the user's turn is those seconds.
      if (!this.input.detectsSpeech) return;
      this.input.speechMeasured(seconds, transcript);
    } else {
      // A manual activity's words (or none, in time): its turn waited for them at activityEnd.
      if (!this.input.awaitingTranscript) return;
      this.input.transcriptArrived(transcript);
    }
    this.commitUserTurn();
  }

  private onHeard(text: string): void {
    if (!this.turn.live || text.length === 0) return;
    // A transcription model says the words as they come as interim transcripts; the utterance's
    // whole text follows as its final transcript (transcribe, below).
    if (this.config.profile.transcribeOnly) this.output?.send(msg.interimInputTranscription(text, this.inputDetail()));
    else if (this.config.inputTranscription) this.output?.send(msg.inputTranscription(text, false, this.inputDetail()));
  }

  /**
   * What an engine that hears audio made of the user's speech (engine-link.ts). During speech
   * it waits for the turn; afterwards it belongs to the newest spoken user turn.
   */
  private onEngineTranscript(text: string): void {
    if (this.turn.phase.kind === 'ended' || text.length === 0) return;
    if (this.config.inputTranscription) this.output?.send(msg.inputTranscription(text, false, this.inputDetail()));
    if (!this.input.keepEngineTranscript(text)) this.conversation.transcribeLastSpeech(text);
  }

  private commitUserTurn(): void {
    if (this.config.profile.transcribeOnly) {
      this.transcribe();
      return;
    }
    const owed = this.answerAfterSpeech;
    this.answerAfterSpeech = false;
    if (!this.input.hasTurnInput()) {
      // The speech the answer waited for made no turn: the answer goes now.
      if (owed) this.interruptWith();
      return;
    }
    if (this.turn.open) {
      if (!this.config.activityInterrupts) {
        this.turn.queueReply();
        return;
      }
      this.runner.interrupt();
    }
    this.conversation.append({ role: 'user', parts: this.input.take() });
    this.startTurn();
  }

  private onToolResponse(tr: ToolResponse): void {
    const owedBefore = this.calls.owed;
    const answer = this.calls.answer(tr.functionResponses ?? [], this.deps.strict);
    for (const fr of answer.ignored) this.deps.log.warn({ session: this.id, id: fr.id, name: fr.name }, 'toolResponse for an unknown function call ignored');
    if (answer.refused) {
      this.fail(CloseReasons.entityNotFound, `toolResponse for unknown id ${answer.refused.id ?? answer.refused.name ?? ''}`);
      return;
    }
    if (answer.parts.length === 0) return;
    if (this.turn.phase.kind === 'awaitingTool') {
      this.conversation.append({ role: 'user', parts: answer.parts });
      if (!this.calls.hasBlocking) this.runner.resume();
      return;
    }
    // NON_BLOCKING answers. While the model talks, the answer goes into the history after what it
    // says in this turn (cut short or whole): what the next turn answers is the result.
    if (this.turn.open) this.runner.afterTurn(answer.parts);
    else this.conversation.append({ role: 'user', parts: answer.parts });
    if (answer.schedule === 'INTERRUPT') {
      // 3.8 waits until the user stops speaking; the turn their speech makes answers both.
      if (this.config.profile.interruptWaitsForSpeech && this.input.speaking) this.answerAfterSpeech = true;
      else this.interruptWith();
    } else if (answer.schedule === 'WHEN_IDLE') {
      if (this.turn.open) this.turn.queueReply();
      else this.startTurn();
    } else if (owedBefore && this.resumable) {
      // SILENT, and nothing more is owed: the boundary the client waits for a handle at.
      this.output?.settled?.();
    }
  }

  /**
   * A transcription model's end of an utterance: the input is kept (the control API shows it) and
   * its words go out as the final transcript, `finished: true`. The model never takes a turn.
   */
  private transcribe(): void {
    if (!this.input.hasTurnInput()) return;
    const parts = this.input.take();
    this.conversation.append({ role: 'user', parts });
    const words = parts.flatMap((p) => (p.kind === 'audio' && p.transcript ? [p.transcript] : [])).join(' ').trim();
    if (words) this.output?.send(msg.inputTranscription(words, true, this.inputDetail()));
  }

  /** The language asked for on input transcripts (`inputAudioTranscription.languageCodes[0]`). */
  private inputDetail(): { languageCode?: string } {
    const language = this.config.transcriptionDetail.inputLanguage;
    return language ? { languageCode: language } : {};
  }

  /** An INTERRUPT answer: the model stops what it says and speaks about the result now. */
  private interruptWith(): void {
    if (this.turn.open) this.runner.interrupt();
    this.startTurn();
  }

  private onContextUpdate(cu: ContextUpdate): void {
    const systemInstruction = cu.systemInstruction ?? this.config.systemInstruction;
    // Presence matters: a set-but-empty list clears the tools (PROTOCOL.md §3.5).
    const tools = cu.tools !== undefined ? (cu.tools.tools ?? []) : this.config.tools;
    this.currentConfig = { ...this.config, systemInstruction, tools, setup: { ...this.config.setup, systemInstruction, tools: [...tools] } };
    this.conversation.setFixed(systemInstruction, tools);
  }

  private startTurn(): void {
    // Not attached yet: nothing could be sent. The connection attaches before it delivers input.
    if (!this.output) return;
    // A transcription model answers nothing (clientContent and realtime text are only kept).
    if (this.config.profile.transcribeOnly) return;
    this.seeding.close();
    this.compressIfNeeded();
    this.runner.start();
  }

  /** Sliding-window compression, evaluated before a turn runs (PROTOCOL.md §5.5). */
  private compressIfNeeded(): void {
    const settings = this.compression;
    if (!settings) return;
    const event = this.conversation.compress(settings, (history) => compressionKeepFrom(history, this.calls.ids), this.deps.clock.now());
    if (!event) return;
    this.deps.log.info({ session: this.id, ...event }, 'context window compressed');
    this.deps.onCompression?.(event);
  }

  private fail(close: CloseSpec, detail: string): void {
    this.output?.close(close, detail);
  }
}
