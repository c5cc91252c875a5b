/**
 * The composition root's library form: wires engine, speech, clock and logger into an HTTP
 * server that carries the Live WebSocket endpoint and the control API on one port.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import { ScriptedEngine } from '../engine/scripted/scripted-engine.js';
import { createFliteSynthesizer } from '../media/tts/flite-synthesizer.js';
import { matchLiveEndpoint, readCredential } from '../protocol/endpoint.js';
import { systemClock } from '../session/clock.js';
import type { SpeechSynthesizer } from '../session/speech.js';
import { Connection } from './connection.js';
import type { ServerContext } from './context.js';
import { createControlApi } from './control-api.js';
import { DEFAULTS, type ServerOptions } from './options.js';
import { SessionRegistry } from './registry.js';

export interface ReliveServer {
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number; url: string }>;
  /** Closes every connection (1001) and the listener, and frees workers. */
  close(): Promise<void>;
  readonly registry: SessionRegistry;
  readonly http: Server;
}

export function createServer(options: ServerOptions = {}): ReliveServer {
  const clock = options.clock ?? systemClock;
  const log = options.logger === false ? pino({ enabled: false }) : (options.logger ?? pino({ name: 'relive' }));
  const ownSpeech = options.speech === undefined;
  let speech: SpeechSynthesizer | undefined = options.speech;
  const registry = new SessionRegistry(options.endedSessionsKept ?? DEFAULTS.endedSessionsKept);
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULTS.maxFrameBytes;

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
    const credential = readCredential(q < 0 ? '' : raw.slice(q + 1), req.headers);
    wss.handleUpgrade(req, socket, head, (ws) => {
      new Connection(ws, req, endpoint, credential, ctx);
    });
  });
  http.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });

  return {
    registry,
    http,
    listen() {
      const host = options.host ?? DEFAULTS.host;
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(options.port ?? DEFAULTS.port, host, () => {
          http.off('error', reject);
          const port = (http.address() as AddressInfo).port;
          const urlHost = host.includes(':') ? `[${host}]` : host;
          resolve({ host, port, url: `http://${urlHost}:${port}` });
        });
      });
    },
    async close() {
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
      if (ownSpeech && speech) await speech.close();
    },
  };
}
