/**
 * `connectResilient`: `ai.live.connect` with session management built in. Same `model`, `config`
 * and `callbacks` as the SDK (plus `onevent` for the lifecycle), same LiveServerMessage objects, a
 * session with the same send methods; connection rotation, reconnects, replay and handle
 * persistence happen underneath.
 */
import type { LiveConnectConfig } from '@google/genai';
import type { ClientClock } from './clock.js';
import type { HandleStore } from './handle-store.js';
import { modelCatalog } from '../session/model-table.js';
import { ResilientSession, type ResilientCallbacks, type ResilientSettings } from './resilient-session.js';

export interface ConnectResilientParameters {
  model: string;
  config?: LiveConnectConfig;
  callbacks: ResilientCallbacks;
  /** An API key, or an ephemeral token (`auth_tokens/…`). */
  apiKey?: string;
  /** Default https://generativelanguage.googleapis.com; a relive server's URL to use relive. */
  baseUrl?: string;
  /** Default v1beta. */
  apiVersion?: string;
  /**
   * Ask for `lastConsumedClientMessageIndex`, which makes replay exact. Default: on, except
   * against Google's Gemini API host, where the SDK refuses it and the library falls back to turn
   * boundaries (see docs/client.md).
   */
  transparent?: boolean;
  /** Where the newest handle is kept, so a reload or restart resumes; default none. */
  handleStore?: HandleStore;
  replay?: { maxAudioSeconds?: number };
  /** `firstMaxAttempts`: retries of the very first connection before this rejects (default maxAttempts). */
  reconnect?: { maxAttempts?: number; firstMaxAttempts?: number; initialDelayMs?: number; maxDelayMs?: number };
  /** Ping interval and pong timeout for detecting a dead TCP connection (Node only; 0 disables). */
  keepalive?: { intervalMs?: number; timeoutMs?: number };
  /** A WebSocket class to use instead of the platform's (or `ws` in Node 20). */
  WebSocket?: ResilientSettings['WebSocket'];
  random?: () => number;
  /**
   * Every timer the library runs (backoff, rotation deadline, keepalive, the wait for a closing
   * socket); default real time. Same shape as relive's session Clock, so a ManualClock fits.
   */
  clock?: ClientClock;
  /**
   * After every resume by handle, compare the next turn's usageMetadata.promptTokenCount with what
   * the session held before; under half of it, the server lost the context: the library re-seeds it
   * from its transcript and emits `contextLost`. Default off.
   */
  contextCheck?: boolean;
  /**
   * The model takes history (clientContent) only as the first thing a new session gets, with
   * `historyConfig.initialHistoryInClientContent` (gemini-3.1-flash-live*). Default: from relive's
   * model profile of `model` (docs/models.md).
   */
  initialHistoryOnly?: boolean;
}

const GEMINI_API_HOST = 'generativelanguage.googleapis.com';

export async function connectResilient(params: ConnectResilientParameters): Promise<ResilientSession> {
  const baseUrl = params.baseUrl ?? `https://${GEMINI_API_HOST}`;
  const stored = await params.handleStore?.load();
  const session = new ResilientSession({
    url: liveUrl(baseUrl, params.apiVersion ?? 'v1beta', params.apiKey),
    model: params.model,
    config: params.config,
    callbacks: params.callbacks,
    transparent: params.transparent ?? new URL(baseUrl).hostname !== GEMINI_API_HOST,
    handleStore: params.handleStore,
    stored,
    maxReplayAudioSeconds: params.replay?.maxAudioSeconds ?? 30,
    reconnect: {
      maxAttempts: params.reconnect?.maxAttempts ?? 10,
      firstMaxAttempts: params.reconnect?.firstMaxAttempts,
      initialDelayMs: params.reconnect?.initialDelayMs ?? 250,
      maxDelayMs: params.reconnect?.maxDelayMs ?? 10_000,
    },
    keepalive: { intervalMs: params.keepalive?.intervalMs ?? 15_000, timeoutMs: params.keepalive?.timeoutMs ?? 10_000 },
    WebSocket: params.WebSocket,
    random: params.random ?? Math.random,
    clock: params.clock,
    contextCheck: params.contextCheck ?? false,
    initialHistoryOnly: params.initialHistoryOnly ?? modelCatalog().lookup(params.model).profile.clientContent === 'initialHistory',
  });
  await session.start();
  return session;
}

/** The BidiGenerateContent URL the SDK would open for this base URL, version and credential. */
export function liveUrl(baseUrl: string, apiVersion: string, apiKey: string | undefined): string {
  const url = new URL(baseUrl);
  url.protocol = url.protocol === 'http:' || url.protocol === 'ws:' ? 'ws:' : 'wss:';
  const prefix = url.pathname.replace(/\/+$/, '');
  const ephemeral = apiKey?.startsWith('auth_tokens/') ?? false;
  const method = ephemeral ? 'BidiGenerateContentConstrained' : 'BidiGenerateContent';
  url.pathname = `${prefix}/ws/google.ai.generativelanguage.${apiVersion}.GenerativeService.${method}`;
  url.search = '';
  if (apiKey !== undefined) url.searchParams.set(ephemeral ? 'access_token' : 'key', apiKey);
  return url.toString();
}
