/**
 * One server under test, in its own process so the client's sockets and garbage never count
 * against it and the two event loops run on separate cores. Driven over the fork IPC channel:
 *
 *   child → parent  { type: 'ready', port }
 *   parent → child  { type: 'memory' }                → { type: 'memory', usage, connections }
 *   parent → child  { type: 'script', setup, turn }   (canned mode: the frames to replay)
 *   parent → child  { type: 'stop' }                  → closes every socket and exits
 *
 * Modes:
 *   relive-turn  createServer({ logger: false, port: 0, keepaliveIntervalMs: 0 })
 *   relive-idle  createServer({ logger: false, port: 0 })  (default 30 s keepalive, as deployed)
 *   relive-sqlite  createServer({ logger: false, port: 0, keepaliveIntervalMs: 0, store: SqliteStore.open(FILE) })
 *                with FILE in a fresh temp directory (removed on stop): the durable store, as the CLI runs
 *   relive-redis   createServer({ logger: false, port: 0, keepaliveIntervalMs: 0, vad: false, speechRecognizer: false,
 *                store: await RedisStore.open(URL), nodeId: ID })
 *                with URL and ID the arguments after the mode: one node of a cluster on that Redis
 *                (cluster layer on with its defaults), the way `relive serve --store URL --node-id ID` runs
 *   relive-history createServer({ logger: false, port: 0, keepaliveIntervalMs: 0, contextWindowTokens: 2_000_000 })
 *                a window large enough for a 1,000,000-token history (no compression can apply)
 *   echo         bare `ws` server echoing every message back
 *   canned       bare `ws` server replaying byte-identical relive frames, without any logic
 *   bare         bare `ws` server that answers the first message with one small frame, then idles
 *
 * Every bare server uses the transport options relive uses: loopback, permessage-deflate off,
 * client tracking on, 15 MiB maxPayload.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { createServer } from '../src/modes/emulate.js';
import type { ReliveServer } from '../src/server/create-server.js';
import { RedisStore } from '../src/store/redis-store.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { GeminiEngine } from '../src/engine/gemini/gemini-engine.js';

export type ChildMode = 'relive-turn' | 'relive-idle' | 'relive-sqlite' | 'relive-redis' | 'relive-history' | 'relive-voice' | 'relive-novad' | 'relive-gateway' | 'echo' | 'canned' | 'bare';

export type ParentMessage =
  | { type: 'memory' }
  | { type: 'load' }
  | { type: 'stop' }
  | { type: 'script'; setup: string; turn: string[] };

export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'memory'; usage: NodeJS.MemoryUsage; connections: number }
  | { type: 'scripted' }
  /** CPU time used since start, and the event loop's delay p99 since the last `load` (which resets it). */
  | { type: 'load'; cpuMs: number; loopDelayP99Ms: number }
  | { type: 'error'; message: string };

const HOST = '127.0.0.1';
const MAX_PAYLOAD = 15 * 1024 * 1024;
/** What `bare` answers the first message with: the size of a setupComplete without session id. */
const ACK = Buffer.from('{\n  "setupComplete": {}\n}\n');

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('server child needs --expose-gc');
  // Several full collections with turns of the event loop between them, so weak callbacks and
  // finalizers run and what they free is collected too.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 50));
  gc();
  return process.memoryUsage();
}

interface Running {
  connections(): number;
  stop(): Promise<void>;
  script?(setup: Buffer, turn: Buffer[]): void;
}

async function startRelive(keepalive: boolean, contextWindowTokens?: number): Promise<{ port: number; running: Running }> {
  const server: ReliveServer = createServer(
    keepalive ? { logger: false, port: 0, host: HOST } : { logger: false, port: 0, host: HOST, keepaliveIntervalMs: 0, ...(contextWindowTokens ? { contextWindowTokens } : {}) },
  );
  const { port } = await server.listen();
  return { port, running: { connections: () => server.sessions.liveCount, stop: () => server.close() } };
}

/** relive on a SQLite file of its own, in the OS temp directory (the same disk the commit bench uses). */
/** relive with voice activity detection (Silero) on or off, no recognizer: the audio-ingest bench. */
async function startReliveVoice(vad: boolean): Promise<{ port: number; running: Running }> {
  const server = createServer({ logger: false, port: 0, host: HOST, keepaliveIntervalMs: 0, speechRecognizer: false, ...(vad ? {} : { vad: false }) });
  const { port } = await server.listen();
  return { port, running: { connections: () => server.sessions.liveCount, stop: () => server.close() } };
}

/** relive as a gateway (the gemini engine) in front of the upstream at `upstreamUrl`. */
async function startReliveGateway(upstreamUrl: string): Promise<{ port: number; running: Running }> {
  const server = createServer({ logger: false, port: 0, host: HOST, keepaliveIntervalMs: 0, vad: false, speechRecognizer: false, engine: new GeminiEngine({ baseUrl: upstreamUrl, apiKey: 'bench' }) });
  const { port } = await server.listen();
  return { port, running: { connections: () => server.sessions.liveCount, stop: () => server.close() } };
}

async function startReliveSqlite(): Promise<{ port: number; running: Running }> {
  const dir = mkdtempSync(join(tmpdir(), 'relive-bench-'));
  // Also when the parent goes away and this process exits without a stop.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const server = createServer({ logger: false, port: 0, host: HOST, keepaliveIntervalMs: 0, store: SqliteStore.open(join(dir, 'relive.db')) });
  const { port } = await server.listen();
  return {
    port,
    running: {
      connections: () => server.sessions.liveCount,
      stop: async () => {
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      },
    },
  };
}

/** One cluster node on the Redis at `url`, named `nodeId`; the server closes the store when it stops. */
async function startReliveRedis(url: string, nodeId: string): Promise<{ port: number; running: Running }> {
  // No voice models to load: the resume bench sends text only, and two nodes start faster without.
  const server = createServer({ logger: false, port: 0, host: HOST, keepaliveIntervalMs: 0, vad: false, speechRecognizer: false, store: await RedisStore.open(url), nodeId });
  const { port } = await server.listen();
  return { port, running: { connections: () => server.sessions.liveCount, stop: () => server.close() } };
}

async function startBare(mode: 'echo' | 'canned' | 'bare'): Promise<{ port: number; running: Running }> {
  const wss = new WebSocketServer({ host: HOST, port: 0, perMessageDeflate: false, clientTracking: true, maxPayload: MAX_PAYLOAD });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  let setupFrame: Buffer = ACK;
  let turnFrames: Buffer[] = [ACK];
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => undefined);
    if (mode === 'echo') {
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    } else if (mode === 'canned') {
      let first = true;
      ws.on('message', () => {
        if (first) {
          first = false;
          ws.send(setupFrame, { binary: true });
          return;
        }
        for (const f of turnFrames) ws.send(f, { binary: true });
      });
    } else {
      ws.once('message', () => ws.send(ACK, { binary: true }));
    }
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    port,
    running: {
      connections: () => wss.clients.size,
      script(setup, turn) {
        setupFrame = setup;
        turnFrames = turn;
      },
      stop: () =>
        new Promise<void>((resolve) => {
          for (const ws of wss.clients) ws.close(1001, 'bench done');
          const timer = setTimeout(() => {
            for (const ws of wss.clients) ws.terminate();
          }, 1000);
          timer.unref();
          wss.close(() => resolve());
        }),
    },
  };
}

async function main(): Promise<void> {
  const mode = process.argv[2] as ChildMode;
  // The parent owns this process: without the IPC channel there is nobody to report to.
  process.on('disconnect', () => process.exit(0));
  const { port, running } =
    mode === 'relive-turn' || mode === 'relive-idle'
      ? await startRelive(mode === 'relive-idle')
      : mode === 'relive-history'
        ? await startRelive(false, 2_000_000)
        : mode === 'relive-sqlite'
          ? await startReliveSqlite()
          : mode === 'relive-redis'
            ? await startReliveRedis(process.argv[3]!, process.argv[4]!)
            : mode === 'relive-voice' || mode === 'relive-novad'
              ? await startReliveVoice(mode === 'relive-voice')
              : mode === 'relive-gateway'
                ? await startReliveGateway(process.argv[3]!)
                : await startBare(mode);
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  process.on('message', (raw: ParentMessage) => {
    void (async () => {
      try {
        if (raw.type === 'memory') {
          const usage = await settledMemory();
          send({ type: 'memory', usage, connections: running.connections() });
        } else if (raw.type === 'load') {
          const cpu = process.cpuUsage();
          send({ type: 'load', cpuMs: (cpu.user + cpu.system) / 1000, loopDelayP99Ms: loopDelay.percentile(99) / 1e6 });
          loopDelay.reset();
        } else if (raw.type === 'script') {
          running.script?.(Buffer.from(raw.setup, 'base64'), raw.turn.map((t) => Buffer.from(t, 'base64')));
          send({ type: 'scripted' });
        } else if (raw.type === 'stop') {
          await running.stop();
          process.disconnect();
          process.exit(0);
        }
      } catch (err) {
        send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  send({ type: 'ready', port });
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
