/**
 * One connection's session behind the gateway. Per generation: the turns the upstream lacks are
 * sent (turn-sync.ts), then the upstream's output is relayed until its turnComplete. The user's
 * audio and video go upstream as they arrive (AudioRelay), so the model hears the user, and in
 * AUDIO modality the model's own speech comes back as it is: relive's detector still decides the
 * turns, and relive synthesizes speech only for text.
 *
 * The upstream session itself is in the UpstreamSlot, which outlives this object for the grace
 * period; what is this connection's own (when opening the upstream last failed) is kept here.
 */
import type { Clock } from '../../session/clock.js';
import type { EngineEvent, EngineRequest, EngineSession, EngineSessionContext, HeardInput } from '../../session/engine.js';
import { errorMessage } from '../../errors.js';
import { contextLost, CONTEXT_LOSS_RATIO } from '../../protocol/context-loss.js';
import { sendNewTurns, toContent } from './turn-sync.js';
import { closeForOpenFailure, passThrough } from './upstream-close.js';
import type { UpstreamLink } from './upstream-link.js';
import type { UpstreamSlot } from './upstream-slot.js';

export interface EngineLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What every gateway session shares: the engine's clock and log, and the upstream's address for log lines. */
export interface GatewayEnv {
  readonly clock: Clock;
  readonly log: EngineLog;
  readonly upstreamUrl: string;
  /** Counts the upstream sessions re-seeded after losing their context. */
  readonly reseeds: { inc(): void };
}

/** How long realtime input waits before trying again to open an upstream session that failed to open. */
const REOPEN_AFTER_FAILURE_MS = 5_000;

export class GatewaySession implements EngineSession {
  /** When opening the upstream last failed: hear() does not retry for a while. */
  private failedAt: number | undefined;

  constructor(
    private readonly context: EngineSessionContext,
    private readonly slot: UpstreamSlot,
    private readonly env: GatewayEnv,
  ) {
    slot.hold(this);
  }

  async *generate(request: EngineRequest, signal: AbortSignal): AsyncGenerator<EngineEvent> {
    let link: UpstreamLink;
    try {
      link = await this.link(request.config);
    } catch (err) {
      yield { type: 'fail', close: closeForOpenFailure(err) };
      return;
    }
    if (link.state.closed) {
      yield { type: 'fail', close: this.upstreamClosed(link.state.closed) };
      return;
    }
    let skipping = link.draining;
    sendNewTurns(link, request.history, request.config.profile.clientContent === 'anytime');
    let toolCalled = false;
    // Marked at the moment of the barge-in, before the next generation starts reading.
    const onAbort = (): void => {
      if (!toolCalled) link.draining = true;
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    try {
      for (;;) {
        const item = await link.next(signal);
        if (!item) return;
        if (item.kind === 'closed') {
          yield { type: 'fail', close: this.upstreamClosed(item) };
          return;
        }
        const m = item.message;
        const sc = m.serverContent;
        if (skipping) {
          // The end of the turn relive walked away from (a barge-in): not this generation's output.
          if (sc?.turnComplete && sc.interactionStatus !== 'IN_PROGRESS') skipping = false;
          continue;
        }
        for (const part of sc?.modelTurn?.parts ?? []) {
          if (typeof part.text === 'string' && part.text.length > 0) yield part.thought ? { type: 'thought', text: part.text } : { type: 'text', text: part.text };
          const blob = part.inlineData;
          if (blob?.data && blob.mimeType?.startsWith('audio/')) yield { type: 'audio', data: blob.data, mimeType: blob.mimeType };
        }
        if (sc?.outputTranscription?.text) yield { type: 'outputTranscript', text: sc.outputTranscription.text };
        if (m.toolCall?.functionCalls?.length) {
          const calls = m.toolCall.functionCalls;
          for (const c of calls) link.unmatchedCallIds.push(c.id ?? '');
          toolCalled = true;
          yield { type: 'toolCall', calls: calls.map((c) => ({ name: c.name ?? '', args: (c.args ?? {}) as Record<string, unknown> })) };
          toolCalled = false;
        }
        // An extended-thinking filler turn ends IN_PROGRESS: the answer follows in the same
        // interaction, and the client's model (if it has filler turns too) ends a turn there.
        if (sc?.turnComplete && sc.interactionStatus === 'IN_PROGRESS') {
          yield { type: 'turnBreak' };
          continue;
        }
        if (sc?.turnComplete) {
          link.draining = false;
          const usage = m.usageMetadata;
          if (usage?.promptTokenCount !== undefined) this.checkContext(link, request, usage.promptTokenCount, usage.responseTokenCount ?? 0);
          if (usage?.promptTokenCount !== undefined || usage?.responseTokenCount !== undefined) {
            yield { type: 'usage', promptTokens: usage.promptTokenCount ?? 0, responseTokens: usage.responseTokenCount ?? 0 };
          }
          return;
        }
      }
    } finally {
      // Stopped before the upstream's turnComplete by a barge-in, the upstream's turn goes on and its
      // end must be skipped (onAbort); stopped after a blocking call, the same upstream turn
      // continues once the result is sent, so nothing is skipped.
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The first turnComplete after an upstream resume: a prompt far below what the upstream counted
   * before means it lost the conversation. It gets relive's transcript of everything before this
   * turn's input as context (no reply asked), so the next answer knows the history again. The
   * old turns arrive after this one's: the order is off by one turn, nothing is missing.
   */
  private checkContext(link: UpstreamLink, request: EngineRequest, promptTokens: number, responseTokens: number): void {
    const before = link.countedTokens;
    link.countedTokens = promptTokens + responseTokens;
    if (!link.checkContext) return;
    link.checkContext = false;
    if (!contextLost(promptTokens, before)) return;
    const history = request.history;
    let inputStart = history.length;
    while (inputStart > 0 && history[inputStart - 1]!.role === 'user') inputStart--;
    const turns = history
      .slice(0, inputStart)
      .map((t) => toContent(t))
      .filter((c) => c.parts.length > 0);
    const facts = { session: this.context.sessionId, promptTokens, tokensBefore: before, ratio: CONTEXT_LOSS_RATIO, turns: turns.length };
    // A model that takes history only before its first turn (3.1) cannot be given it now.
    if (request.config.profile.clientContent !== 'anytime') {
      this.env.log.warn(facts, 'gateway upstream lost its context after a resume; this model takes no history mid-session, so it goes on without it');
      return;
    }
    if (turns.length === 0) return;
    link.session.sendClientContent({ turns, turnComplete: false });
    link.countedTokens = 0;
    this.env.reseeds.inc();
    this.env.log.warn(facts, 'gateway upstream lost its context after a resume: re-seeded from relive\'s transcript');
  }

  /** The user's audio and video, relayed upstream as they arrive (opening the upstream session at the first). */
  hear(input: HeardInput): void {
    // A link that failed to open is reported by the next generation; audio arriving meanwhile (a
    // chunk every 20 ms) must not start an upstream connection attempt each.
    if (this.failedAt !== undefined && this.env.clock.now() - this.failedAt < REOPEN_AFTER_FAILURE_MS && !this.slot.inUse) return;
    void this.link(this.context.config).then(
      (link) => {
        // This connection's session: a resumed relive session is a new session object.
        link.onInputTranscript = (text) => this.context.transcribed(text);
        link.relay.hear(input);
      },
      () => undefined,
    );
  }

  /**
   * The client's connection ended. The upstream session is kept for a while (UpstreamSlot): a
   * client that resumes finds it and goes on with the same upstream context.
   */
  close(): void {
    this.failedAt = undefined;
    this.slot.release(this);
  }

  describe(): Record<string, unknown> | undefined {
    return this.slot.describe();
  }

  private link(config: EngineRequest['config']): Promise<UpstreamLink> {
    const { link, opened } = this.slot.use(config);
    if (opened) {
      link.then(
        () => {
          this.failedAt = undefined;
        },
        (err: unknown) => {
          this.failedAt = this.env.clock.now();
          const close = closeForOpenFailure(err);
          this.env.log.warn(
            { session: this.context.sessionId, upstreamUrl: this.env.upstreamUrl, cause: errorMessage(err), close },
            `upstream session could not be opened; the client's session is closed with ${close.code} "${close.reason}"`,
          );
        },
      );
    }
    return link;
  }

  /** The upstream session ended for good (its own close, or reconnects given up): logged, and its close for the client. */
  private upstreamClosed(upstream: { code: number; reason: string }): { code: number; reason: string } {
    const close = passThrough(upstream);
    this.env.log.warn(
      { session: this.context.sessionId, upstreamUrl: this.env.upstreamUrl, upstreamClose: upstream, close },
      `upstream session closed; the client's session is closed with ${close.code} "${close.reason}"`,
    );
    return close;
  }
}
