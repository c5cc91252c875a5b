/**
 * The gateway: each relive session is answered by an upstream Gemini Live session (the real
 * service by default). relive owns the client-facing session — its handles, its history, its
 * lifetimes — and the upstream's connection cap, goAways and resumptions stay behind it.
 *
 * Per generation: the turns the upstream lacks are sent (user input as clientContent, function
 * results as toolResponse with the upstream's call ids), then the upstream's output is relayed
 * until its turnComplete. The user's audio and video go upstream as they arrive (AudioRelay), so
 * the model hears the user, and in AUDIO modality the model's own speech comes back as it is:
 * relive's detector still decides the turns, and relive synthesizes speech only for text.
 */
import { connect } from 'node:net';
import { CloseReasons } from '../../protocol/close-codes.js';
import type { ContextPart, ContextTurn } from '../../session/context.js';
import { isUserInput } from '../../session/context.js';
import type { Engine, EngineEvent, EngineRequest, HeardInput, Listener } from '../../session/engine.js';
import { UpstreamLink, type UpstreamOptions } from './upstream-link.js';
import type { HandleStore } from '../../client/handle-store.js';

export interface GeminiEngineOptions {
  /** Default https://generativelanguage.googleapis.com; another relive for tests. */
  readonly baseUrl?: string;
  /** Default GEMINI_API_KEY from the environment (read by the caller). */
  readonly apiKey?: string;
  readonly apiVersion?: string;
  /** Use this upstream model whatever the client asked for. */
  readonly model?: string;
  /** How long an upstream session outlives its client connection, waiting for a resume; default 2 min. */
  readonly releaseGraceMs?: number;
  /**
   * Where each session's upstream handle is kept (see sessionHandleStore: relive's own store), so
   * a restarted relive resumes the upstream sessions; default memory only.
   */
  readonly handleStore?: (sessionId: string) => HandleStore;
  /** Where failures to reach the upstream are told (pino's logger fits); default nowhere. */
  readonly log?: EngineLog;
}

export interface EngineLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const noLog: EngineLog = { info() {}, warn() {} };

/** How long the start-up check waits for the upstream to answer at all. */
const PROBE_TIMEOUT_MS = 5_000;

/** How long realtime input waits before trying again to open an upstream session that failed to open. */
const REOPEN_AFTER_FAILURE_MS = 5_000;

export class GeminiEngine implements Engine {
  readonly name = 'gemini';
  private readonly links = new Map<string, Promise<UpstreamLink>>();
  /** The same links once open, for describe(). */
  private readonly ready = new Map<string, UpstreamLink>();
  /** When opening a session's upstream last failed: hear() does not retry for a while. */
  private readonly failedAt = new Map<string, number>();
  /** Links whose client connection ended, closed when their grace period runs out. */
  private readonly closing = new Map<string, NodeJS.Timeout>();
  private readonly releaseGraceMs: number;
  private readonly handleStore: ((sessionId: string) => HandleStore) | undefined;
  private readonly options: UpstreamOptions;
  private readonly log: EngineLog;

  constructor(options: GeminiEngineOptions = {}) {
    this.options = {
      baseUrl: options.baseUrl ?? 'https://generativelanguage.googleapis.com',
      apiKey: options.apiKey,
      apiVersion: options.apiVersion ?? 'v1beta',
      model: options.model,
    };
    this.releaseGraceMs = options.releaseGraceMs ?? 120_000;
    this.handleStore = options.handleStore;
    this.log = options.log ?? noLog;
  }

  /**
   * Start-up check: does the upstream's host accept a TCP connection? (Not fetch: it refuses
   * "bad ports" such as 1 before trying, and a WebSocket setup would open a billed session.) Logs
   * one line either way and never throws: an upstream down at start may come up later.
   */
  async checkUpstream(): Promise<boolean> {
    const upstreamUrl = this.options.baseUrl;
    const url = new URL(upstreamUrl);
    const secure = url.protocol === 'https:' || url.protocol === 'wss:';
    const port = Number(url.port) || (secure ? 443 : 80);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const cause = await new Promise<string | undefined>((resolve) => {
      const socket = connect({ host, port });
      socket.setTimeout(PROBE_TIMEOUT_MS, () => {
        socket.destroy();
        resolve(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`);
      });
      socket.once('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ? `${err.code} ${host}:${port}` : err.message));
    });
    if (cause === undefined) {
      this.log.info({ upstreamUrl }, 'gateway upstream reachable');
      return true;
    }
    this.log.warn(
      { upstreamUrl, cause },
      `gateway upstream ${upstreamUrl} cannot be reached (${cause}): sessions will close with 1011 "${CloseReasons.unavailable.reason}" until it can; check --upstream-url and the network`,
    );
    return false;
  }

  async *generate(request: EngineRequest, signal: AbortSignal): AsyncGenerator<EngineEvent> {
    let link: UpstreamLink;
    try {
      link = await this.link(request);
    } catch (err) {
      yield { type: 'fail', close: upstreamClose(err) };
      return;
    }
    if (link.state.closed) {
      yield { type: 'fail', close: this.upstreamClosed(request.sessionId, link.state.closed) };
      return;
    }
    let skipping = link.draining;
    this.sendNewTurns(link, request.history);
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
          yield { type: 'fail', close: this.upstreamClosed(request.sessionId, item) };
          return;
        }
        const m = item.message;
        const sc = m.serverContent;
        if (skipping) {
          // The end of the turn relive walked away from (a barge-in): not this generation's output.
          if (sc?.turnComplete) skipping = false;
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
        if (sc?.turnComplete) {
          link.draining = false;
          const usage = m.usageMetadata;
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
   * The client's connection ended. The upstream session is kept for a while: a client that
   * resumes (its own goAway rotation, a network blip) finds it and goes on with the same upstream
   * context instead of a re-seeded one.
   */
  release(sessionId: string): void {
    this.failedAt.delete(sessionId);
    const link = this.links.get(sessionId);
    if (!link) return;
    clearTimeout(this.closing.get(sessionId));
    const timer = setTimeout(() => {
      this.closing.delete(sessionId);
      if (this.links.get(sessionId) !== link) return;
      this.links.delete(sessionId);
      this.ready.delete(sessionId);
      void link.then((l) => l.close()).catch(() => undefined);
    }, this.releaseGraceMs);
    timer.unref();
    this.closing.set(sessionId, timer);
  }

  /** Closes every upstream session now (server shutdown). */
  close(): void {
    for (const timer of this.closing.values()) clearTimeout(timer);
    this.closing.clear();
    for (const link of this.links.values()) void link.then((l) => l.close()).catch(() => undefined);
    this.links.clear();
    this.ready.clear();
  }

  /** The user's audio and video, relayed upstream as they arrive (opening the upstream session at the first). */
  hear(listener: Listener, input: HeardInput): void {
    // A link that failed to open is reported by the next generation; audio arriving meanwhile (a
    // chunk every 20 ms) must not start an upstream connection attempt each.
    const failedAt = this.failedAt.get(listener.sessionId);
    if (failedAt !== undefined && Date.now() - failedAt < REOPEN_AFTER_FAILURE_MS && !this.links.has(listener.sessionId)) return;
    void this.link(listener).then(
      (link) => {
        // The newest listener: a resumed relive session is a new session object.
        link.onInputTranscript = (text) => listener.transcribed(text);
        link.relay.hear(input);
      },
      () => undefined,
    );
  }

  describe(sessionId: string): Record<string, unknown> | undefined {
    const ready = this.ready.get(sessionId);
    if (ready) return { upstream: { ...ready.state, audioSentSeconds: round3(ready.relay.sentSeconds) } };
    return this.links.has(sessionId) ? { upstream: 'connecting' } : undefined;
  }

  private link(request: Pick<EngineRequest, 'sessionId' | 'config'>): Promise<UpstreamLink> {
    const id = request.sessionId;
    // Resumed within the grace period: the upstream session is still there.
    clearTimeout(this.closing.get(id));
    this.closing.delete(id);
    let link = this.links.get(id);
    if (!link) {
      link = UpstreamLink.open(request.config, this.options, this.handleStore?.(id));
      this.links.set(id, link);
      link.then(
        (l) => {
          this.failedAt.delete(id);
          if (this.links.get(id) === link) this.ready.set(id, l);
        },
        (err: unknown) => {
          this.failedAt.set(id, Date.now());
          if (this.links.get(id) === link) this.links.delete(id);
          const close = upstreamClose(err);
          this.log.warn(
            { session: id, upstreamUrl: this.options.baseUrl, cause: err instanceof Error ? err.message : String(err), close },
            `upstream session could not be opened; the client's session is closed with ${close.code} "${close.reason}"`,
          );
        },
      );
    }
    return link;
  }

  /** The upstream session ended for good (its own close, or reconnects given up): logged, and its close for the client. */
  private upstreamClosed(sessionId: string, upstream: { code: number; reason: string }): { code: number; reason: string } {
    const close = passThrough(upstream);
    this.log.warn(
      { session: sessionId, upstreamUrl: this.options.baseUrl, upstreamClose: upstream, close },
      `upstream session closed; the client's session is closed with ${close.code} "${close.reason}"`,
    );
    return close;
  }

  /** Sends what the upstream does not have yet: history to seed a new upstream session, then the new input. */
  private sendNewTurns(link: UpstreamLink, history: readonly ContextTurn[]): void {
    matchCallIds(link, history);
    // The trailing input is what this generation answers; what precedes it is known upstream, or,
    // for a new upstream session (a relive session resumed), context sent without asking for a reply.
    let inputStart = history.length;
    while (inputStart > 0 && history[inputStart - 1]!.role === 'user') inputStart--;
    const seen = link.synced ? indexOfTurn(history, link.synced) : -1;
    // A synced turn compression has dropped, or an upstream that began with the conversation in it:
    // everything before the new input is there already.
    const from = link.synced ? (seen >= 0 ? seen + 1 : inputStart) : link.hasContext ? inputStart : 0;
    const fresh = history.slice(from);
    if (fresh.length === 0) return;
    link.synced = history[history.length - 1];
    const inputFrom = Math.max(0, inputStart - from);
    // Model turns right after the synced one are the upstream's own reply; anything after them
    // before the input came from the client (history prefilled with turnComplete false).
    let contextFrom = 0;
    if (from > 0) while (contextFrom < inputFrom && fresh[contextFrom]!.role === 'model') contextFrom++;
    const context = fresh.slice(contextFrom, inputFrom).map((t) => toContent(t)).filter((c) => c.parts.length > 0);
    if (context.length > 0) link.session.sendClientContent({ turns: context, turnComplete: false });
    const input = fresh.slice(inputFrom);
    // Speech the upstream has heard as it came: ending the activity asks for the reply, and only
    // the rest of the input (typed text) goes as content. Speech without relayed audio (restored
    // from the store) goes as its transcript.
    const spoken = input.some((t) => t.role === 'user' && t.parts.some((p) => p.kind === 'audio')) && link.relay.pending;
    const responses = input.flatMap((t) => t.parts.filter((p): p is Extract<ContextPart, { kind: 'functionResponse' }> => p.kind === 'functionResponse'));
    if (responses.length > 0) {
      link.session.sendToolResponse({
        functionResponses: responses.map((r) => ({ id: link.callIds.get(r.id) ?? r.id, name: r.name, response: r.response })),
      });
    }
    const turns = input
      .filter(isUserInput)
      .map((t) => toContent(t, !spoken))
      .filter((c) => c.parts.length > 0);
    if (spoken) {
      if (turns.length > 0) link.session.sendClientContent({ turns, turnComplete: false });
      link.relay.endTurn();
    } else if (turns.length > 0) link.session.sendClientContent({ turns, turnComplete: true });
  }
}

/**
 * Where `turn` is in `history`: by identity, or, for a session restored from the store (new
 * objects, same turns), by content, looking from the end.
 */
function indexOfTurn(history: readonly ContextTurn[], turn: ContextTurn): number {
  const same = history.lastIndexOf(turn);
  if (same >= 0) return same;
  const wanted = JSON.stringify(turn);
  for (let i = history.length - 1; i >= 0; i--) if (JSON.stringify(history[i]) === wanted) return i;
  return -1;
}

/** relive's ids for calls the upstream made, in order: the session issues one per call it was handed. */
function matchCallIds(link: UpstreamLink, history: readonly ContextTurn[]): void {
  if (link.unmatchedCallIds.length === 0) return;
  for (const turn of history) {
    for (const part of turn.parts) {
      if (part.kind !== 'functionCall' || link.callIds.has(part.id)) continue;
      const upstream = link.unmatchedCallIds.shift();
      if (upstream === undefined) return;
      link.callIds.set(part.id, upstream);
    }
  }
}

/** A turn as Live Content: text, and speech as its transcript (context for an upstream session that never heard it). */
function toContent(turn: ContextTurn, withSpeech = true): { role: string; parts: { text: string }[] } {
  const parts: { text: string }[] = [];
  for (const p of turn.parts) {
    if (p.kind === 'text' && !p.thought) parts.push({ text: p.text });
    else if (p.kind === 'audio' && p.transcript && withSpeech) parts.push({ text: p.transcript.trim() });
  }
  return { role: turn.role, parts };
}

/**
 * The upstream's close, passed through verbatim (PROTOCOL.md §7.2) when it is one a server can
 * send. A transport failure (1006: refused, reset, no answer; the reason is then a socket error
 * such as "connect ECONNREFUSED") is what the real service reports as its backend being
 * unavailable.
 */
function passThrough(close: { code: number; reason: string }): { code: number; reason: string } {
  if (close.code < 1000 || close.code > 4999 || [1004, 1005, 1006, 1015].includes(close.code)) return { ...CloseReasons.unavailable };
  return { code: close.code, reason: close.reason || CloseReasons.unavailable.reason };
}

function upstreamClose(err: unknown): { code: number; reason: string } {
  const message = err instanceof Error ? err.message : String(err);
  const m = /code (\d+)\): (.*)$/.exec(message);
  return m ? passThrough({ code: Number(m[1]), reason: m[2]! }) : { ...CloseReasons.unavailable };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
