/**
 * The composition root's library form: wires engine, speech, store, clock and logger into an HTTP
 * server that carries the Live WebSocket endpoint and the control API on one port.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import { ScriptedEngine } from '../engine/scripted/scripted-engine.js';
import { createFliteSynthesizer, fliteUnavailable } from '../media/tts/flite-synthesizer.js';
import { CloseReasons } from '../protocol/close-codes.js';
import { matchLiveEndpoint, readCredential } from '../protocol/endpoint.js';
import { systemClock, type Timer } from '../session/clock.js';
import { HandleCodec } from '../session/handles.js';
import { DEFAULT_LIFETIMES } from '../session/lifetimes.js';
import type { SpeechSynthesizer } from '../session/speech.js';
import { DEFAULT_TOKEN_RATES } from '../session/tokens.js';
import { MemoryStore } from '../store/memory-store.js';
import { RedisStore } from '../store/redis-store.js';
import { ClusterNode } from '../cluster/cluster-node.js';
import { checkNodeId, newNodeId } from '../cluster/node-id.js';
import { createO200kTokenizer } from '../tokenizer/o200k.js';
import { FaultInjector } from './faults.js';
import { createSileroVad, sileroFailure } from '../media/vad/silero-vad.js';
import { createPocketsphinxRecognizer, pocketsphinxUnavailable } from '../media/stt/pocketsphinx.js';
import type { VoiceFeature, VoiceReport } from './voice-report.js';
import { createMetrics } from './metrics.js';
import { principalOf } from '../session/handles.js';
import { Connection } from './connection.js';
import type { AttachedConnection } from './attached-connection.js';
import type { ServerContext } from './context.js';
import { createControlApi } from './control-api.js';
import { NdjsonRecorder } from './ndjson-recorder.js';
import { DEFAULTS, type ClusterSettings, type ServerOptions } from './options.js';
import type { SessionStore } from '../session/store.js';
import { SessionRegistry } from './registry.js';

export interface ReliveServer {
  /** Loads the handle secret and starts listening; resolves with the bound address. */
  /**
   * Listens; resolves with the address and which voice features this server has (`voice`: see
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
  readonly registry: SessionRegistry;
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

export function createServer(options: ServerOptions = {}): ReliveServer {
  const clock = options.clock ?? systemClock;
  const log = options.logger === false ? pino({ enabled: false }) : (options.logger ?? pino({ name: 'relive' }));
  const ownSpeech = options.speech === undefined;
  let speech: SpeechSynthesizer | undefined = options.speech;
  const registry = new SessionRegistry();
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULTS.maxFrameBytes;
  const store = options.store ?? new MemoryStore();
  let handles: HandleCodec | undefined;
  const connections = new Set<AttachedConnection>();
  let draining = false;
  const nodeId = checkNodeId(options.nodeId ?? newNodeId());
  const clusterSettings = resolveCluster(options, store);
  let cluster: ClusterNode | undefined;

  const ctx: ServerContext = {
    clock,
    engine: options.engine ?? new ScriptedEngine({ clock, scenario: options.scenario }),
    // Created lazily: a text-only deployment never starts a synthesis worker.
    get speech() {
      speech ??= createFliteSynthesizer();
      return speech;
    },
    log,
    registry,
    apiKeys: new Set(options.apiKeys ?? []),
    strict: options.strict ?? false,
    maxFrameBytes,
    setupTimeoutMs: options.setupTimeoutMs ?? DEFAULTS.setupTimeoutMs,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
    unknownModels: options.unknownModels ?? 'accept',
    extraModels: options.extraModels ?? [],
    sessionIdInSetupComplete: options.sessionIdInSetupComplete ?? true,
    audioChunkMs: options.audioChunkMs ?? DEFAULTS.audioChunkMs,
    outboundHighWaterMark: options.outboundHighWaterMark ?? DEFAULTS.outboundHighWaterMark,
    unknownFieldsLogged: new Set(),
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
    lifetimes: { ...DEFAULT_LIFETIMES, ...options.lifetimes },
    lifetimeClose: options.lifetimeClose === 'deadline' ? CloseReasons.deadlineExpired : CloseReasons.aborted,
    sessionCapClose: CloseReasons.deadlineExpired,
    connections,
    pendingWrites: new Set(),
    tokens: {
      tokenizer: options.tokenizer ?? createO200kTokenizer(),
      tokenRates: { ...DEFAULT_TOKEN_RATES, audioTokensPerSecond: options.audioTokensPerSecond ?? DEFAULT_TOKEN_RATES.audioTokensPerSecond },
      preambleTokens: options.preambleTokens ?? 0,
      contextWindowTokens: options.contextWindowTokens,
    },
    faults: new FaultInjector(),
    voice: {
      vad: options.vad || undefined,
      recognizer: options.speechRecognizer === false ? undefined : (options.speechRecognizer ?? createPocketsphinxRecognizer({ log })),
      transcriptWaitMs: options.transcriptWaitMs ?? 1500,
    },
    metrics: createMetrics(
      () => registry.liveCount,
      () => connections.size,
      clusterSettings ? async () => cluster?.nodes() : undefined,
    ),
    recorder: options.recordDir === undefined ? undefined : new NdjsonRecorder({ dir: options.recordDir, clock, log }),
  };

  const startedAt = clock.now();
  const control = createControlApi(ctx, options.adminToken, startedAt);
  const http = createHttpServer((req, res) => {
    control.handle(req, res).catch((err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'control request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  // No subprotocol, permessage-deflate declined (optional per PROTOCOL.md §1.1; it costs memory per socket).
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes, perMessageDeflate: false, clientTracking: true });

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
        .catch((err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'expiry sweep failed'))
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
    await ctx.recorder?.flush().catch((err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'recording flush failed'));
    if (ownSpeech && speech) await speech.close();
    await ctx.engine.close?.();
    if (options.speechRecognizer === undefined) await ctx.voice.recognizer?.close();
    await store.close();
  }

  return {
    registry,
    get connections() {
      return ctx.connections.size;
    },
    nodeId,
    http,
    faults: ctx.faults,
    async listen() {
      // Nodes starting together on one store agree on the first secret written.
      const secret = options.secret ?? (await store.initMeta(SECRET_KEY, HandleCodec.newSecret()));
      handles = new HandleCodec(Buffer.from(secret));
      // A shared Redis expires a detached session's keys once its handles have: on this server's validity.
      if (store instanceof RedisStore) store.handleTtlMs = ctx.lifetimes.handleTtlMs;
      if (clusterSettings) {
        // Joining releases the sessions of dead nodes (and only those): other nodes' live sessions stay.
        cluster = await ClusterNode.start({
          ...clusterSettings,
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
      } else if (options.releaseOrphans !== false) {
        // Sessions a killed process left attached: their handle validity starts now.
        const released = await store.releaseOrphans(clock.now());
        if (released > 0) log.info({ released }, 'sessions left attached by a previous process released');
      }
      scheduleExpirySweep();
      // The detector's model loads once, here, so that no session waits for it. Without it,
      // audio turns still end at audioStreamEnd or activityEnd.
      let vadFailure: string | undefined;
      if (options.vad === undefined) {
        ctx.voice.vad = await createSileroVad().catch((err: unknown) => {
          vadFailure = sileroFailure(err);
          return undefined;
        });
      }
      const voice = voiceReport(options, ctx, vadFailure);
      const host = options.host ?? DEFAULTS.host;
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(options.port ?? DEFAULTS.port, host, () => {
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

/** What the voice line says, from the options and what loaded. */
function voiceReport(options: ServerOptions, ctx: ServerContext, vadFailure: string | undefined): VoiceReport {
  const activityDetection: VoiceFeature =
    options.vad === false
      ? { on: false, chosen: true, detail: 'vad: false' }
      : options.vad
        ? { on: true, detail: options.vad.name }
        : ctx.voice.vad
          ? { on: true, detail: 'Silero v5 on onnxruntime-node' }
          : { on: false, detail: vadFailure ?? 'not loaded' };
  let transcription: VoiceFeature;
  if (ctx.engine.hearsInput) transcription = { on: true, detail: `by the ${ctx.engine.name} engine, which hears the audio` };
  else if (options.speechRecognizer === false) transcription = { on: false, chosen: true, detail: 'speechRecognizer: false' };
  else if (options.speechRecognizer) transcription = { on: true, detail: options.speechRecognizer.name };
  else {
    const missing = pocketsphinxUnavailable();
    transcription = missing ? { on: false, detail: missing, fix: 'apt-get install pocketsphinx pocketsphinx-en-us' } : { on: true, detail: 'pocketsphinx' };
  }
  let speechSynthesis: VoiceFeature;
  if (options.speech) speechSynthesis = { on: true, detail: 'the speech option' };
  else {
    const missing = fliteUnavailable();
    speechSynthesis = missing ? { on: false, detail: missing } : { on: true, detail: 'flite' };
  }
  return { activityDetection, transcription, speechSynthesis };
}

/** The cluster settings in force: on by default when the store is a RedisStore. */
function resolveCluster(options: ServerOptions, store: SessionStore): (ClusterSettings & { redisUrl: string }) | undefined {
  if (options.cluster === false) return undefined;
  const redisUrl = options.cluster?.redisUrl ?? (store instanceof RedisStore ? store.url : undefined);
  if (redisUrl === undefined) {
    if (options.cluster) throw new Error('cluster: no Redis to meet on (use a RedisStore or give cluster.redisUrl)');
    return undefined;
  }
  return { ...options.cluster, redisUrl };
}
