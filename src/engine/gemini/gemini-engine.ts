/**
 * The gateway: each relive session is answered by an upstream Gemini Live session (the real
 * service by default). relive owns the client-facing session — its handles, its history, its
 * lifetimes — and the upstream's connection cap, goAways and resumptions stay behind it.
 *
 * The engine keeps one UpstreamSlot per relive session (the upstream session, kept across the
 * session's connections for a grace period); each connection's session object is a GatewaySession
 * (gateway-session.ts), which sends the turns and relays the upstream's output and the user's audio.
 */
import { connect } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import type { HandleStore } from '../../client/handle-store.js';
import { CloseReasons } from '../../protocol/close-codes.js';
import { systemClock, type Clock } from '../../session/clock.js';
import type { Engine, EngineSession, EngineSessionContext } from '../../session/engine.js';
import { GatewaySession, type EngineLog } from './gateway-session.js';
import { UpstreamLink, type UpstreamOptions } from './upstream-link.js';
import { UpstreamSlot } from './upstream-slot.js';

export type { EngineLog } from './gateway-session.js';

export interface GeminiEngineOptions {
  /** Default https://generativelanguage.googleapis.com; another relive for tests. */
  readonly baseUrl?: string;
  /** Default GEMINI_API_KEY from the environment (read by the caller). */
  readonly apiKey?: string;
  readonly apiVersion?: string;
  /** Use this upstream model whatever the client asked for. */
  readonly model?: string;
  /** The WebSocket class of upstream connections (a proxy-aware one, say); default the `ws` package's. */
  readonly WebSocket?: UpstreamOptions['WebSocket'];
  /** How long an upstream session outlives its client connection, waiting for a resume; default 2 min. */
  readonly releaseGraceMs?: number;
  /**
   * Where each session's upstream handle is kept (see sessionHandleStore: relive's own store), so
   * a restarted relive resumes the upstream sessions; default memory only.
   */
  readonly handleStore?: (sessionId: string) => HandleStore;
  /** Where failures to reach the upstream are told (pino's logger fits); default nowhere. */
  readonly log?: EngineLog;
  /** The clock of the grace period and of the retry pause after a failed open: the server's; default the system clock. */
  readonly clock?: Clock;
}

const noLog: EngineLog = { info() {}, warn() {} };

/** How long the start-up check waits for the upstream to answer at all. */
const PROBE_TIMEOUT_MS = 5_000;

export class GeminiEngine implements Engine {
  readonly name = 'gemini';
  readonly hearsInput = true;
  /** Each relive session's upstream, by session id: kept across its connections for the grace period. */
  private readonly slots = new Map<string, UpstreamSlot>();
  private readonly releaseGraceMs: number;
  private readonly handleStore: ((sessionId: string) => HandleStore) | undefined;
  private readonly options: UpstreamOptions;
  private readonly log: EngineLog;
  private readonly clock: Clock;
  /** Upstream sessions found without their context after a resume and re-seeded (protocol/context-loss.ts). */
  private readonly reseeds = new Counter({
    name: 'relive_gateway_context_reseeds_total',
    help: 'Upstream sessions resumed by handle that had lost their context (promptTokenCount far below before) and were re-seeded from relive\'s transcript.',
    registers: [],
  });

  constructor(options: GeminiEngineOptions = {}) {
    this.options = {
      baseUrl: options.baseUrl ?? 'https://generativelanguage.googleapis.com',
      apiKey: options.apiKey,
      apiVersion: options.apiVersion ?? 'v1beta',
      model: options.model,
      ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    };
    this.releaseGraceMs = options.releaseGraceMs ?? 120_000;
    this.handleStore = options.handleStore;
    this.log = options.log ?? noLog;
    this.clock = options.clock ?? systemClock;
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

  /** A connection's session: a resumed one finds the upstream its last connection left in the grace period. */
  open(context: EngineSessionContext): EngineSession {
    const id = context.sessionId;
    let slot = this.slots.get(id);
    if (!slot) {
      const created: UpstreamSlot = new UpstreamSlot({
        clock: this.clock,
        graceMs: this.releaseGraceMs,
        openLink: (config) => UpstreamLink.open(config, this.options, this.handleStore?.(id)),
        onEmpty: () => {
          if (this.slots.get(id) === created) this.slots.delete(id);
        },
      });
      slot = created;
      this.slots.set(id, slot);
    }
    return new GatewaySession(context, slot, { clock: this.clock, log: this.log, upstreamUrl: this.options.baseUrl, reseeds: this.reseeds });
  }

  registerMetrics(registry: Registry): void {
    registry.registerMetric(this.reseeds);
  }

  /** Closes every upstream session now (server shutdown). */
  close(): void {
    for (const slot of this.slots.values()) slot.close();
    this.slots.clear();
  }
}
