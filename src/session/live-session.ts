/**
 * The session state machine: applies client messages in order, runs model turns, and keeps the
 * conversation exactly as the client experienced it. It does no I/O of its own; the connection
 * gives it an output and the composition root gives it an engine, a synthesizer and a clock.
 *
 * Turn signals follow PROTOCOL.md §6: modelTurn… → generationComplete → turnComplete; a barge-in
 * gives interrupted → (toolCallCancellation) → turnComplete and no generationComplete.
 */
import type { ClientContent, ContextUpdate, RealtimeInput, ToolResponse, ClientMessage } from '../protocol/client-schema.js';
import { CloseReasons, type CloseSpec } from '../protocol/close-codes.js';
import { msg } from '../protocol/server-messages.js';
import type { Clock } from './clock.js';
import { compressionSettings, ContextWindow, modalityDetails, type CompressionEvent, type CompressionSettings } from './context-window.js';
import { profileFor } from './models.js';
import { addCounts, sumCounts, TokenAccountant, type TextTokenizer, type TokenCounts, type TokenRates } from './tokens.js';
import type { SessionConfig } from './config.js';
import { base64ByteLength, isUserInput, pcmBytesPerSecond, turnFromClient, type ContextPart, type ContextTurn } from './context.js';
import { Generation, type GenerationDeps, type GenerationOutput, type IssuedCall } from './generation.js';
import type { SessionId } from './ids.js';
import type { EngineSession, HeardInput } from './engine.js';

export interface SessionOutput extends GenerationOutput {
  /** Ends the connection with this close (bad input, a scripted failure). */
  close(spec: CloseSpec, detail: string): void;
  /** A turnComplete was just sent: the moment for a resumption update. */
  turnCompleted?(): void;
  /** The first video frame arrived: the shorter session lifetime applies from now on. */
  videoReceived?(): void;
}

/** The state a session is restored with when it is resumed from a checkpoint. */
export interface RestoredState {
  readonly history: readonly ContextTurn[];
  /** Log index of history[0]: turns before it were dropped by compression. */
  readonly firstTurn: number;
  readonly userTurns: number;
  readonly turnsCompleted: number;
  readonly pendingInput: readonly ContextPart[];
  readonly pendingCalls: readonly IssuedCall[];
  /** When the session was created (not this resumption). */
  readonly createdAt?: number;
}

/** What a checkpoint records of a session (see store.ts). */
export interface SessionSnapshot extends RestoredState {
  readonly setup: SessionConfig['setup'];
}

/** The few log calls the core makes; pino's logger satisfies it. */
export interface CoreLogger {
  info(obj: object, message: string): void;
  warn(obj: object, message: string): void;
}

export interface LiveSessionDeps extends GenerationDeps {
  readonly clock: Clock;
  /** Strict conformance: refuse what the real service refuses (unknown tool response ids). */
  readonly strict: boolean;
  readonly log: CoreLogger;
  readonly tokenizer: TextTokenizer;
  readonly tokenRates: TokenRates;
  /** Tokens the model adds to every prompt (PROTOCOL.md §5.6: a per-model setting, default 0). */
  readonly preambleTokens: number;
  /** The model's context window; default from the model table. */
  readonly contextWindowTokens?: number;
  /** Told of every compression (the Prometheus counter). */
  readonly onCompression?: (event: CompressionEvent) => void;
}

/** Token use of the session so far, for the control API. */
export interface TokenTotals {
  promptTokens: number;
  responseTokens: number;
}

export type SessionStatus = 'idle' | 'generating' | 'awaitingTool' | 'ended';

export class LiveSession {
  readonly createdAt: number;
  readonly history: ContextTurn[];
  turnsCompleted: number;
  /** Turns compression has dropped from the front since the session began: the log index of history[0]. */
  firstTurn: number;
  /** User input turns the session has had, counted as they are appended (invariant 7: no rescans). */
  userTurns: number;
  private generation: Generation | undefined;
  /** A model turn has started and its turnComplete is not sent yet. */
  private turnOpen = false;
  private readonly pendingCalls = new Map<string, IssuedCall>();
  /** Realtime input not yet part of a user turn. */
  private pendingInput: ContextPart[];
  private videoSeen = false;
  private readonly window: ContextWindow;
  /** The prompt of the turn in progress and what the model has said in it, for usageMetadata. */
  private turnPrompt: TokenCounts = {};
  private turnResponse: TokenCounts = {};
  readonly totals: TokenTotals = { promptTokens: 0, responseTokens: 0 };
  /** Input (or a WHEN_IDLE tool response) arrived during a turn that may not be interrupted. */
  private replyAfterTurn = false;
  /** The backend's token counts for the turn in progress, summed over its generations. */
  private backendUsage: { promptTokens: number; responseTokens: number } | undefined;
  /** A voice detector decides turn ends (see enableVoiceDetection). */
  private voiceDetection = false;
  /** Speech heard since the last turn, and what the recognizer made of it. */
  private heardSeconds = 0;
  private heardTranscript: string | undefined;
  /** Manual-mode turns wait for their transcript (expectTranscripts), and one is waiting now. */
  private transcriptsFollow = false;
  private awaitingTranscript = false;
  /** The user is speaking: transcripts an engine reports now belong to the turn to come. */
  private speaking = false;
  /** This session's side of the engine, open from construction until end(). */
  private readonly engineSession: EngineSession;
  /** The next generation ends after this many content messages (a premature or empty turnComplete). */
  private nextCut: number | undefined;
  private output: SessionOutput | undefined;
  private ended = false;

  constructor(
    readonly id: SessionId,
    public config: SessionConfig,
    private readonly deps: LiveSessionDeps,
    restored?: RestoredState,
  ) {
    this.createdAt = restored?.createdAt ?? deps.clock.now();
    this.history = restored ? [...restored.history] : [];
    this.firstTurn = restored?.firstTurn ?? 0;
    this.userTurns = restored?.userTurns ?? 0;
    this.turnsCompleted = restored?.turnsCompleted ?? 0;
    this.pendingInput = restored ? structuredClone([...restored.pendingInput]) : [];
    for (const call of restored?.pendingCalls ?? []) this.pendingCalls.set(call.id, call);
    const accountant = new TokenAccountant(deps.tokenizer, deps.tokenRates, config.setup.generationConfig?.mediaResolution);
    this.window = new ContextWindow(accountant, deps.preambleTokens);
    this.window.setFixed(config.systemInstruction, config.tools);
    for (const turn of this.history) this.window.appended(turn);
    const session = this;
    this.engineSession = deps.engine.open({
      sessionId: id,
      get config() {
        return session.config;
      },
      transcribed: (text) => this.engineTranscribed(text),
    });
  }

  /** What the engine holds for this session, for the control API. */
  describeEngine(): Record<string, unknown> | undefined {
    return this.engineSession.describe?.();
  }

  /** Tokens of the prompt now, and the compression settings in force (undefined: compression off). */
  get contextTokens(): number {
    return this.window.tokens;
  }

  get compression(): CompressionSettings | undefined {
    return compressionSettings(this.config.compression, this.deps.contextWindowTokens ?? profileFor(this.config.model).contextWindowTokens);
  }

  get compressionEvents(): readonly CompressionEvent[] {
    return this.window.events;
  }

  get status(): SessionStatus {
    if (this.ended) return 'ended';
    if (this.generation) return 'generating';
    if (this.turnOpen) return 'awaitingTool';
    return 'idle';
  }

  /**
   * At a resumable point: nothing generating and no blocking call unanswered (PROTOCOL.md §5.3).
   * Unanswered NON_BLOCKING calls are part of the checkpoint.
   */
  get resumable(): boolean {
    return this.status === 'idle';
  }

  /** The state a checkpoint stores. The history is shared, not copied: the store writes only its new tail. */
  snapshot(): SessionSnapshot {
    return {
      setup: this.config.setup,
      history: this.history,
      firstTurn: this.firstTurn,
      userTurns: this.userTurns,
      turnsCompleted: this.turnsCompleted,
      pendingInput: structuredClone(this.pendingInput),
      pendingCalls: [...this.pendingCalls.values()],
    };
  }

  /** Ids of function calls the client has not answered yet. */
  get pendingCallIds(): string[] {
    return [...this.pendingCalls.keys()];
  }

  attach(output: SessionOutput): void {
    this.output = output;
  }

  /** The connection is gone: stop generating; nothing more is sent. */
  end(): void {
    this.ended = true;
    this.generation?.abort();
    this.generation = undefined;
    this.output = undefined;
    this.engineSession.close();
  }

  handle(message: ClientMessage): void {
    if (this.ended) return;
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

  private onClientContent(cc: ClientContent): void {
    // "A message here will interrupt any current model generation" (PROTOCOL.md §3.2).
    if (this.turnOpen) this.interrupt();
    for (const content of cc.turns ?? []) this.append(turnFromClient(content));
    if (cc.turnComplete) this.startTurn();
  }

  private onRealtimeInput(ri: RealtimeInput): void {
    const auto = this.config.automaticActivityDetection;
    if ((ri.activityStart || ri.activityEnd) && auto) {
      this.fail(CloseReasons.invalidArgument, 'activityStart/activityEnd with automatic activity detection on');
      return;
    }
    if (ri.activityStart && this.turnOpen && this.config.activityInterrupts) this.interrupt();
    if (ri.activityStart) {
      // A new activity while the last one waits for its transcript: the last one goes as it is.
      if (this.awaitingTranscript) this.activityTranscribed(undefined);
      this.speaking = true;
      this.hear({ type: 'activityStart' });
    }
    for (const blob of [...(ri.mediaChunks ?? []).slice(0, 1), ri.audio, ri.video]) {
      if (!blob) continue;
      const mime = blob.mimeType ?? '';
      if (blob.data) {
        if (mime.startsWith('image/')) this.hear({ type: 'video', data: blob.data, mimeType: mime });
        else if (mime.startsWith('audio/') || mime === '') this.hear({ type: 'audio', data: blob.data, mimeType: mime || 'audio/pcm;rate=16000' });
      }
      if (mime.startsWith('image/')) {
        this.pendingInput.push({ kind: 'image', mimeType: mime });
        if (!this.videoSeen) {
          this.videoSeen = true;
          this.output?.videoReceived?.();
        }
      }
      else if (mime.startsWith('audio/') || mime === '') this.addAudio(base64ByteLength(blob.data ?? '') / pcmBytesPerSecond(mime));
    }
    if (ri.text !== undefined && ri.text.length > 0) {
      this.pendingInput.push({ kind: 'text', text: ri.text });
      // Realtime text is a complete utterance under server-side activity detection.
      if (auto) this.commitUserTurn();
    }
    if (ri.activityEnd) {
      if (this.transcriptsFollow && !auto) this.awaitingTranscript = true;
      else this.commitUserTurn();
    }
    // With a voice detector running, the detector decides where speech ends (audioStreamEnd flushes it there).
    if (ri.audioStreamEnd && auto && !this.voiceDetection && this.pendingInput.some((p) => p.kind === 'audio')) this.commitUserTurn();
  }

  private addAudio(seconds: number): void {
    // Without a detector, all audio until the turn ends is the user's speech.
    if (!this.voiceDetection) this.speaking = true;
    const last = this.pendingInput[this.pendingInput.length - 1];
    if (last?.kind === 'audio') last.seconds += seconds;
    else this.pendingInput.push({ kind: 'audio', seconds });
  }

  /**
   * A voice detector hears this session's audio (automatic activity detection): turns end where
   * speech ends, and a spoken turn holds the speech only, unless turnCoverage says all input.
   */
  enableVoiceDetection(): void {
    this.voiceDetection = this.config.automaticActivityDetection;
  }

  /** Start of speech: a barge-in when the model is answering (START_OF_ACTIVITY_INTERRUPTS). */
  speechStarted(): void {
    if (this.ended || !this.voiceDetection) return;
    if (this.turnOpen && this.config.activityInterrupts) this.interrupt();
    this.speaking = true;
    this.hear({ type: 'activityStart' });
  }

  /** Realtime input for an engine that hears it itself. */
  private hear(input: HeardInput): void {
    if (this.deps.engine.hearsInput) this.engineSession.hear?.(input);
  }

  /**
   * What an engine that hears audio made of the user's speech. During speech it waits for the
   * turn; afterwards it belongs to the newest spoken user turn (a late piece of one utterance that
   * arrives after the next has begun goes with the next). Only a turn not yet checkpointed keeps
   * it in the store: one checkpointed before its transcript arrived keeps it in memory only.
   */
  private engineTranscribed(text: string): void {
    if (this.ended || text.length === 0) return;
    if (this.config.inputTranscription) this.output?.send(msg.inputTranscription(text));
    if (this.speaking) {
      this.heardTranscript = (this.heardTranscript ?? '') + text;
      return;
    }
    for (let i = this.history.length - 1; i >= 0; i--) {
      const turn = this.history[i]!;
      if (turn.role !== 'user') continue;
      const speech = turn.parts.find((p): p is Extract<ContextPart, { kind: 'audio' }> => p.kind === 'audio');
      if (!speech) continue;
      speech.transcript = (speech.transcript ?? '') + text;
      return;
    }
  }

  /** End of speech: the user's turn is `seconds` of speech, with its transcript when there is one. */
  speechEnded(seconds: number, transcript?: string): void {
    if (this.ended || !this.voiceDetection) return;
    this.heardSeconds += seconds;
    if (transcript) this.heardTranscript = this.heardTranscript ? `${this.heardTranscript} ${transcript}` : transcript;
    this.commitUserTurn();
  }

  /**
   * A recognizer hears this session: in manual mode a turn waits at activityEnd for the text of
   * its speech (activityTranscribed), as a spoken turn under the detector does, so the model
   * answers the words and the transcription comes before the reply, as the real service sends it.
   */
  expectTranscripts(): void {
    this.transcriptsFollow = true;
  }

  /** The transcript of the activity that just ended, or undefined when none came in time: the turn goes now. */
  activityTranscribed(transcript: string | undefined): void {
    if (this.ended || !this.awaitingTranscript) return;
    this.awaitingTranscript = false;
    if (transcript) this.heardTranscript = this.heardTranscript ? `${this.heardTranscript} ${transcript}` : transcript;
    this.commitUserTurn();
  }

  /** Text the recognizer made of the user's speech: inputTranscription when the client asked for it. */
  transcribed(text: string): void {
    if (this.ended || !this.config.inputTranscription || text.length === 0) return;
    this.output?.send(msg.inputTranscription(text));
  }

  /** Something to answer: under a voice detector, silence alone is not a turn (PROTOCOL.md §6.5). */
  private hasTurnInput(): boolean {
    if (this.pendingInput.length === 0) return false;
    if (!this.voiceDetection || this.config.turnCoverage === 'ALL_INPUT' || this.heardSeconds > 0) return true;
    return this.pendingInput.some((p) => p.kind !== 'audio');
  }

  /** The input a turn is made of: under a voice detector, silence is not part of a spoken turn. */
  private takeInput(): ContextPart[] {
    const input = this.pendingInput;
    this.pendingInput = [];
    const seconds = this.heardSeconds;
    const transcript = this.heardTranscript;
    this.heardSeconds = 0;
    this.heardTranscript = undefined;
    this.speaking = false;
    const speech: ContextPart = transcript ? { kind: 'audio', seconds, transcript } : { kind: 'audio', seconds };
    if (!this.voiceDetection || this.config.turnCoverage === 'ALL_INPUT') {
      // All audio since the last turn counts; the transcript rides on it.
      return transcript ? input.map((p) => (p.kind === 'audio' ? { ...p, transcript } : p)) : input;
    }
    const rest = input.filter((p) => p.kind !== 'audio');
    return seconds > 0 ? [speech, ...rest] : rest;
  }

  private commitUserTurn(): void {
    if (!this.hasTurnInput()) return;
    if (this.turnOpen) {
      if (!this.config.activityInterrupts) {
        this.replyAfterTurn = true;
        return;
      }
      this.interrupt();
    }
    this.append({ role: 'user', parts: this.takeInput() });
    this.startTurn();
  }

  private onToolResponse(tr: ToolResponse): void {
    const parts: ContextPart[] = [];
    let schedule: 'SILENT' | 'WHEN_IDLE' | 'INTERRUPT' = 'SILENT';
    for (const fr of tr.functionResponses ?? []) {
      // Match on id; Mastra sends no name, and a response without id can only match by name.
      const call = fr.id !== undefined ? this.pendingCalls.get(fr.id) : [...this.pendingCalls.values()].find((c) => c.name === fr.name);
      if (!call) {
        if (this.deps.strict) {
          this.fail(CloseReasons.entityNotFound, `toolResponse for unknown id ${fr.id ?? fr.name ?? ''}`);
          return;
        }
        this.deps.log.warn({ session: this.id, id: fr.id, name: fr.name }, 'toolResponse for an unknown function call ignored');
        continue;
      }
      parts.push({ kind: 'functionResponse', id: call.id, name: call.name, response: fr.response ?? {} });
      if (!fr.willContinue) this.pendingCalls.delete(call.id);
      if (!call.blocking) {
        // The top-level field wins over the one inside `response` (PROTOCOL.md §11 #11).
        const s = fr.scheduling ?? (fr.response?.scheduling as string | undefined) ?? 'WHEN_IDLE';
        if (s === 'INTERRUPT' || (s === 'WHEN_IDLE' && schedule === 'SILENT')) schedule = s;
      }
    }
    if (parts.length === 0) return;
    this.append({ role: 'user', parts });
    const waitingOnBlocking = this.turnOpen && !this.generation;
    if (waitingOnBlocking) {
      if (![...this.pendingCalls.values()].some((c) => c.blocking)) this.runGeneration();
      return;
    }
    if (schedule === 'INTERRUPT') {
      if (this.turnOpen) this.interrupt();
      this.startTurn();
    } else if (schedule === 'WHEN_IDLE') {
      if (this.turnOpen) this.replyAfterTurn = true;
      else this.startTurn();
    }
  }

  private onContextUpdate(cu: ContextUpdate): void {
    const systemInstruction = cu.systemInstruction ?? this.config.systemInstruction;
    // Presence matters: a set-but-empty list clears the tools (PROTOCOL.md §3.5).
    const tools = cu.tools !== undefined ? (cu.tools.tools ?? []) : this.config.tools;
    this.config = { ...this.config, systemInstruction, tools, setup: { ...this.config.setup, systemInstruction, tools: [...tools] } };
    this.window.setFixed(systemInstruction, tools);
  }

  private startTurn(): void {
    this.turnOpen = true;
    this.compressIfNeeded();
    this.turnPrompt = this.window.promptDetails();
    this.turnResponse = {};
    this.runGeneration();
  }

  /** Sliding-window compression, evaluated before a turn runs (PROTOCOL.md §5.5). */
  private compressIfNeeded(): void {
    const settings = this.compression;
    if (!settings || this.window.tokens <= settings.triggerTokens) return;
    let keepFrom = this.history.length - 1;
    while (keepFrom > 0 && !isUserInput(this.history[keepFrom]!)) keepFrom--;
    // An unanswered call must stay with the response still to come.
    const pending = new Set(this.pendingCalls.keys());
    if (pending.size > 0) {
      const callTurn = this.history.findIndex((t) => t.parts.some((p) => p.kind === 'functionCall' && pending.has(p.id)));
      if (callTurn >= 0 && callTurn < keepFrom) {
        keepFrom = callTurn;
        while (keepFrom > 0 && !isUserInput(this.history[keepFrom]!)) keepFrom--;
      }
    }
    const cut = this.window.compress(this.history, settings, keepFrom, this.deps.clock.now());
    if (cut === 0) return;
    this.history.splice(0, cut);
    this.firstTurn += cut;
    const event = this.window.events[this.window.events.length - 1]!;
    this.deps.log.info({ session: this.id, ...event }, 'context window compressed');
    this.deps.onCompression?.(event);
  }

  /**
   * Ends the next model turn with turnComplete after `afterChunks` content messages, with no
   * generationComplete: the premature (or, at 0, empty) turnComplete real models send
   * (PROTOCOL.md §6.6). The history keeps what was sent, as after a barge-in.
   */
  cutNextTurn(afterChunks: number): void {
    this.nextCut = afterChunks;
  }

  private runGeneration(): void {
    const out = this.output;
    if (!out) return;
    const cutAfter = this.nextCut;
    this.nextCut = undefined;
    const onToolCall = (calls: readonly IssuedCall[]): void => {
      for (const call of calls) this.pendingCalls.set(call.id, call);
      if (calls.some((c) => c.blocking)) {
        // The generation ends here; the turn stays open until the responses arrive.
        this.generation = undefined;
        this.recordModel(generation);
      }
    };
    const generation = new Generation(this.engineSession, this.deps, this.config, this.history, this.userTurns, out, onToolCall, cutAfter);
    this.generation = generation;
    void generation.run().then((outcome) => {
      // Settled already: interrupted, or ended by a blocking call.
      if (this.generation !== generation) return;
      this.generation = undefined;
      this.recordModel(generation);
      switch (outcome.kind) {
        case 'complete':
          out.send(msg.generationComplete());
          this.finishTurn();
          return;
        case 'truncated':
          this.finishTurn();
          return;
        case 'toolCall':
        case 'aborted':
          return;
        case 'failed':
          this.fail(outcome.close, outcome.detail);
          return;
      }
    });
  }

  /** Barge-in: cut the generation, keep only what the client received, withdraw pending calls. */
  private interrupt(): void {
    const generation = this.generation;
    this.generation = undefined;
    const cancelled = [...this.pendingCalls.keys()];
    if (generation) {
      generation.abort();
      this.recordModel(generation);
      for (const call of generation.calls) if (!cancelled.includes(call.id)) cancelled.push(call.id);
    }
    this.pendingCalls.clear();
    this.output?.send(msg.interrupted());
    if (cancelled.length > 0) this.output?.send(msg.toolCallCancellation(cancelled));
    this.finishTurn(false);
  }

  private finishTurn(runQueued = true): void {
    // A backend that counts (OpenAI-compatible usage) is believed over relive's own estimate.
    const backend = this.backendUsage;
    this.backendUsage = undefined;
    const promptTokenCount = backend?.promptTokens ?? sumCounts(this.turnPrompt);
    const responseTokenCount = backend?.responseTokens ?? sumCounts(this.turnResponse);
    this.totals.promptTokens += promptTokenCount;
    this.totals.responseTokens += responseTokenCount;
    this.output?.send(
      msg.turnComplete({
        promptTokenCount,
        responseTokenCount,
        totalTokenCount: promptTokenCount + responseTokenCount,
        promptTokensDetails: modalityDetails(this.turnPrompt),
        responseTokensDetails: modalityDetails(this.turnResponse),
      }),
    );
    this.turnOpen = false;
    this.turnsCompleted++;
    if (runQueued && this.replyAfterTurn) {
      this.replyAfterTurn = false;
      if (this.hasTurnInput()) this.commitUserTurn();
      else this.startTurn();
    }
    this.output?.turnCompleted?.();
  }

  private recordModel(generation: Generation): void {
    const usage = generation.usage;
    if (usage) {
      const sum = this.backendUsage ?? { promptTokens: 0, responseTokens: 0 };
      this.backendUsage = { promptTokens: sum.promptTokens + usage.promptTokens, responseTokens: sum.responseTokens + usage.responseTokens };
    }
    const parts = generation.sentParts();
    if (parts.length > 0) this.append({ role: 'model', parts });
  }

  private append(turn: ContextTurn): void {
    this.history.push(turn);
    if (isUserInput(turn)) this.userTurns++;
    const counts = this.window.appended(turn);
    if (this.turnOpen && turn.role === 'model') this.turnResponse = addCounts(this.turnResponse, counts);
  }

  private fail(close: CloseSpec, detail: string): void {
    this.output?.close(close, detail);
  }
}
