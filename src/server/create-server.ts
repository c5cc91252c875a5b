/**
 * The server module: wires resolved parts (an engine, speech, a store, a clock, a logger, …: see
 * parts.ts) into an HTTP server that carries the Live WebSocket endpoint and the control API on
 * one port. It knows no implementation of any part; the presets in src/modes/ choose them.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { errorMessage } from '../errors.js';
import { CloseReasons } from '../protocol/close-codes.js';
import { matchLiveEndpoint, readCredential } from '../protocol/endpoint.js';
import type { Timer } from '../session/clock.js';
import { HandleCodec, principalOf } from '../session/handles.js';
import { FaultInjector } from './faults.js';
import type { VoiceReport } from './voice-report.js';
import { createMetrics } from './metrics.js';
import { Connection } from './connection.js';
import type { AttachedConnection } from './attached-connection.js';
import type { ServerContext } from './context.js';
import { createControlApi } from './control-api.js';
import type { ClusterMember, ServerParts } from './parts.js';
import { SessionRegistry } from './registry.js';
import { sessionsView, type SessionsView } from './sessions-view.js';

export interface ReliveServer {
  /**
   * Loads the handle secret, joins the cluster, loads the voice detector and listens; resolves with the address and which voice features this server has (`voice`: see
   * logVoiceReport, which the command line logs right after its listening line).
   */
  listen(): Promise<{ host: string; port: number; url: string; voice: VoiceReport }>;
  /**
   * Graceful drain: refuses new connections, sends goAway to every open one, serves them until the
   * notice runs out (or they all leave), then closes the rest at their deadline. Resolves when no
   * connection is left and every store write has finished.
   */
  drain(noticeMs?: number): Promise<void>;
  /** Closes every connection at once (1001) and the listener, frees workers and the store. */
  close(): Promise<void>;
  /** The sessions live on this server: read-only snapshots, and goAway or close one. */
  readonly sessions: SessionsView;
  /** WebSocket connections open now, set up or not. */
  readonly connections: number;
  /** This node's id (the `holder` of the sessions it serves; the cluster's name for it). */
  readonly nodeId: string;
  readonly http: Server;
  /** Fault rules in force (also through /relive/v1/faults). */
  readonly faults: FaultInjector;
}

const SECRET_KEY = 'handleSecret';
const EXPIRY_SWEEP_MS = 10 * 60_000;

/**
 * A server on `parts`, not yet listening. It closes at close() the engine, the store and what
 * `parts.owned` lists; nothing else it was given.
 */
export function assembleServer(parts: ServerParts): ReliveServer {
  const { settings, clock, log, store } = parts;
  const registry = new SessionRegistry();
  let handles: HandleCodec | undefined;
  const connections = new Set<AttachedConnection>();
  let draining = false;
  const nodeId = settings.nodeId;
  let cluster: ClusterMember | undefined;

  const ctx: ServerContext = {
    clock,
    engine: parts.engine,
    // Asked for at first use: a text-only deployment never starts a synthesis worker.
    get speech() {
      return parts.speech();
    },
    log,
    registry,
    apiKeys: new Set(settings.apiKeys),
    strict: settings.strict,
    maxFrameBytes: settings.maxFrameBytes,
    setupTimeoutMs: settings.setupTimeoutMs,
    keepaliveIntervalMs: settings.keepaliveIntervalMs,
    unknownModels: settings.unknownModels,
    extraModels: settings.extraModels,
    models: settings.models,
    sessionIdInSetupComplete: settings.sessionIdInSetupComplete,
    audioChunkMs: settings.audioChunkMs,
    outboundHighWaterMark: settings.outboundHighWaterMark,
    unknownFieldsLogged: new Set(),
    unknownModelsLogged: new Set(),
    store,
    nodeId,
    get cluster() {
      return cluster;
    },
    get draining() {
      return draining;
    },
    get handles() {
      if (!handles) throw new Error('listen() loads the handle secret before any connection is served');
      return handles;
    },
    lifetimes: settings.lifetimes,
    lifetimeClose: settings.lifetimeClose === 'deadline' ? CloseReasons.deadlineExpired : CloseReasons.aborted,
    sessionCapClose: CloseReasons.deadlineExpired,
    connections,
    pendingWrites: new Set(),
    tokens: {
      tokenizer: parts.tokenizer,
      tokenRates: settings.tokenRates,
      preambleTokens: settings.preambleTokens,
      contextWindowTokens: settings.contextWindowTokens,
    },
    faults: new FaultInjector(),
    voice: {
      // Loaded at listen().
      vad: undefined,
      recognizer: parts.recognizer,
      transcriptWaitMs: settings.transcriptWaitMs,
    },
    metrics: createMetrics(
      () => registry.liveCount,
      () => connections.size,
      parts.joinCluster ? async () => cluster?.nodes() : undefined,
    ),
    recorder: parts.recorder,
  };
  parts.engine.registerMetrics?.(ctx.metrics.registry);

  const startedAt = clock.now();
  const control = createControlApi(ctx, settings.adminToken, startedAt);
  const http = createHttpServer((req, res) => {
    control.handle(req, res).catch((err: unknown) => {
      log.error({ err: errorMessage(err) }, 'control request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  // No subprotocol, permessage-deflate declined (optional per PROTOCOL.md §1.1; it costs memory per socket).
  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxFrameBytes, perMessageDeflate: false, clientTracking: true });

  http.on('upgrade', (req, socket, head) => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q < 0 ? raw : raw.slice(0, q);
    const endpoint = matchLiveEndpoint(pathname);
    if (!endpoint) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (draining) {
      // Clients see a failed connect at once and retry elsewhere (another node, or this one restarted).
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const credential = readCredential(q < 0 ? '' : raw.slice(q + 1), req.headers);
    const fault = ctx.faults.empty ? undefined : ctx.faults.strike('upgrade', { principal: principalOf(credential?.value) });
    if (fault?.type === 'rejectUpgrade') {
      const body = JSON.stringify({ error: { code: fault.status, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } });
      socket.end(`HTTP/1.1 ${fault.status} Injected Fault\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      new Connection(ws, req, endpoint, credential, ctx);
    });
  });
  http.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });

  async function settleWrites(): Promise<void> {
    while (ctx.pendingWrites.size > 0) await Promise.all([...ctx.pendingWrites]);
  }

  /** Deletes sessions whose handles have expired, now and then: the store does not grow without bound. */
  let sweepTimer: Timer | undefined;
  function scheduleExpirySweep(): void {
    sweepTimer = clock.setTimer(EXPIRY_SWEEP_MS, () => {
      store
        .expire(clock.now() - ctx.lifetimes.handleTtlMs)
        .then((n) => n > 0 && log.info({ expired: n }, 'expired sessions deleted'))
        .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'expiry sweep failed'))
        .finally(() => {
          if (!closed) scheduleExpirySweep();
        });
    });
  }

  let closed = false;
  async function closeAll(): Promise<void> {
    if (closed) return;
    closed = true;
    sweepTimer?.cancel();
    draining = true;
    for (const ws of wss.clients) ws.close(1001, 'Server shutting down.');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const ws of wss.clients) ws.terminate();
      }, 1000);
      timer.unref();
      wss.close(() => resolve());
      if (wss.clients.size === 0) resolve();
    });
    await new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections?.();
    await Promise.all([...ctx.connections].map((c) => c.closed));
    await settleWrites();
    // After the last detach: until then the node answers for its sessions.
    await cluster?.close();
    // After every connection closed, so that each recording ends with its close line.
    await ctx.recorder?.flush().catch((err: unknown) => log.error({ err: errorMessage(err) }, 'recording flush failed'));
    for (const part of parts.owned) await part.close();
    await ctx.engine.close?.();
    await store.close();
  }

  return {
    sessions: sessionsView(registry, ctx.lifetimes.goAwayNoticeMs),
    get connections() {
      return ctx.connections.size;
    },
    nodeId,
    http,
    faults: ctx.faults,
    async listen() {
      // Nodes starting together on one store agree on the first secret written.
      const secret = settings.secret ?? (await store.initMeta(SECRET_KEY, HandleCodec.newSecret()));
      handles = new HandleCodec(Buffer.from(secret));
      // A store that expires detached sessions by itself (Redis) does so once their handles have.
      store.expireDetachedAfter?.(ctx.lifetimes.handleTtlMs);
      if (parts.joinCluster) {
        // Joining releases the sessions of dead nodes (and only those): other nodes' live sessions stay.
        cluster = await parts.joinCluster({
          nodeId,
          store,
          now: () => clock.now(),
          yieldSession: async (id) => {
            const entry = registry.get(id);
            if (!entry) return false;
            await entry.connection.yieldSession();
            return true;
          },
          actOnSession: (id, action) => {
            const entry = registry.get(id);
            if (!entry) return false;
            if (action.type === 'goAway') entry.connection.goAway(action.timeLeftMs);
            else entry.connection.close({ code: action.code, reason: action.reason }, 'closed through the control API of another node');
            return true;
          },
          liveSessions: () => registry.liveCount,
          log,
        });
        log.info({ node: nodeId }, 'joined the cluster');
      } else if (settings.releaseOrphans) {
        // Sessions a killed process left attached: their handle validity starts now.
        const released = await store.releaseOrphans(clock.now());
        if (released > 0) log.info({ released }, 'sessions left attached by a previous process released');
      }
      scheduleExpirySweep();
      // The detector's model loads once, here, so that no session waits for it. Without it,
      // audio turns still end at audioStreamEnd or activityEnd.
      const { vad, report: voice } = await parts.loadVoice();
      ctx.voice.vad = vad;
      const host = settings.host;
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(settings.port, host, () => {
          http.off('error', reject);
          const port = (http.address() as AddressInfo).port;
          const urlHost = host.includes(':') ? `[${host}]` : host;
          const url = `http://${urlHost}:${port}`;
          cluster?.setUrl(url);
          resolve({ host, port, url, voice });
        });
      });
    },
    async drain(noticeMs = ctx.lifetimes.goAwayNoticeMs) {
      draining = true;
      const open = [...ctx.connections];
      log.info({ connections: open.length, noticeMs }, 'draining: goAway to every connection');
      for (const c of open) c.goAway(noticeMs);
      // Connections close themselves at their deadline on the server's clock. The backstop runs on
      // real time: under a manual clock nobody may advance it, and a drain must still end.
      let backstop: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(open.map((c) => c.closed)),
        new Promise<void>((resolve) => {
          backstop = setTimeout(resolve, noticeMs + 1000);
        }),
      ]);
      clearTimeout(backstop);
      await closeAll();
    },
    close: closeAll,
  };
}
