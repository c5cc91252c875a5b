/**
 * What a goAway costs the app: input lost and time without a serving connection, for relive-gemini/client
 * against a naive client that does what apps built on the SDK do — nothing at goAway, and after the
 * close a reconnect with its newest handle, input sent meanwhile going nowhere.
 *
 * Both stream real-time audio (20 ms chunks every 20 ms) with a text turn every 200 ms, against
 * relive in its own process, which is sent a goAway (timeLeft 50 ms) through the control API every
 * 250 ms. Afterwards the server's record of the session is compared with what the app sent.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { connectResilient } from '../src/client/index.js';
import { startChild, type ServerChild } from './child.js';

export interface HandoverOptions {
  readonly handovers: number;
  readonly goAwayEveryMs: number;
}

export interface ClientResult {
  /** Time from losing the serving connection to the next setupComplete, per handover (ms). */
  readonly gaps: number[];
  readonly sentAudioSeconds: number;
  readonly recordedAudioSeconds: number;
  readonly sentTexts: number;
  readonly recordedTexts: number;
}

export interface HandoverResults {
  readonly resilient: ClientResult;
  readonly naive: ClientResult;
}

const CHUNK = Buffer.alloc(640).toString('base64');
const CHUNK_SECONDS = 0.02;
const MODEL = 'gemini-live-2.5-flash-preview';

export async function measureHandover(options: HandoverOptions): Promise<HandoverResults> {
  const child = await startChild('relive-turn');
  try {
    const resilient = await runResilient(child, options);
    const naive = await runNaive(child, options);
    return { resilient, naive };
  } finally {
    await child.stop();
  }
}

interface Workload {
  /** Sends one 20 ms audio chunk; `text` also sends a realtime text turn. */
  send(text?: string): void;
  sessionId(): string | undefined;
  handovers(): number;
}

/** Streams until `handovers` goAways have been answered, then returns what was sent. */
async function drive(child: ServerChild, options: HandoverOptions, w: Workload): Promise<{ audioSeconds: number; texts: number }> {
  let chunks = 0;
  let texts = 0;
  const pump = setInterval(() => {
    chunks++;
    const withText = chunks % 10 === 0;
    if (withText) texts++;
    w.send(withText ? `turn ${texts}` : undefined);
  }, 20);
  const deadline = performance.now() + options.handovers * options.goAwayEveryMs * 4 + 10_000;
  try {
    while (w.handovers() < options.handovers) {
      if (performance.now() > deadline) throw new Error(`handover bench: only ${w.handovers()} of ${options.handovers} handovers`);
      await sleep(options.goAwayEveryMs);
      const id = w.sessionId();
      if (id) await fetch(`${httpBase(child)}/relive/v1/sessions/${id}:goAway`, { method: 'POST', body: '{"timeLeft":"0.05s"}' });
    }
    await sleep(200);
  } finally {
    clearInterval(pump);
  }
  // A last text turn commits the audio sent after the previous one into the session's record.
  chunks++;
  texts++;
  w.send('end');
  await sleep(200);
  return { audioSeconds: chunks * CHUNK_SECONDS, texts };
}

async function record(child: ServerChild, id: string): Promise<{ audioSeconds: number; texts: number }> {
  const detail = (await (await fetch(`${httpBase(child)}/relive/v1/sessions/${id}`)).json()) as { context: { role: string; parts: { text?: string; seconds?: number }[] }[] };
  const parts = detail.context.filter((t) => t.role === 'user').flatMap((t) => t.parts);
  return { audioSeconds: parts.reduce((s, p) => s + (p.seconds ?? 0), 0), texts: parts.filter((p) => p.text !== undefined).length };
}

async function runResilient(child: ServerChild, options: HandoverOptions): Promise<ClientResult> {
  const gaps: number[] = [];
  let id: string | undefined;
  const session = await connectResilient({
    model: MODEL,
    // Silence streamed: ALL_INPUT keeps every second of it in the record, so loss is countable.
    config: { responseModalities: ['TEXT' as never], realtimeInputConfig: { turnCoverage: 'TURN_INCLUDES_ALL_INPUT' as never } },
    baseUrl: httpBase(child),
    apiKey: 'bench',
    keepalive: { intervalMs: 0 },
    callbacks: {
      onmessage: (m) => {
        id ??= m.setupComplete?.sessionId;
      },
      onevent: (e) => {
        if (e.type === 'connected' && e.gapMs !== undefined) gaps.push(e.gapMs);
      },
    },
  });
  const sent = await drive(child, options, {
    send: (text) => {
      session.sendRealtimeInput({ audio: { data: CHUNK, mimeType: 'audio/pcm;rate=16000' } });
      if (text) session.sendRealtimeInput({ text });
    },
    sessionId: () => id,
    handovers: () => gaps.length,
  });
  session.close();
  const rec = await record(child, id!);
  return { gaps, sentAudioSeconds: sent.audioSeconds, recordedAudioSeconds: rec.audioSeconds, sentTexts: sent.texts, recordedTexts: rec.texts };
}

/** The reconnect loop apps write around the SDK: resume with the newest handle after a close. */
async function runNaive(child: ServerChild, options: HandoverOptions): Promise<ClientResult> {
  const url = child.url;
  const gaps: number[] = [];
  let id: string | undefined;
  let handle: string | undefined;
  let ws: WebSocket | undefined;
  let stopped = false;
  let lostAt: number | undefined;
  const open = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      socket.on('open', () => socket.send(JSON.stringify({ setup: { model: `models/${MODEL}`, generationConfig: { responseModalities: ['TEXT'] }, realtimeInputConfig: { turnCoverage: 'TURN_INCLUDES_ALL_INPUT' }, sessionResumption: handle ? { handle } : {} } })));
      socket.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString()) as { setupComplete?: { sessionId?: string }; sessionResumptionUpdate?: { newHandle?: string; resumable?: boolean } };
        if (m.setupComplete) {
          id ??= m.setupComplete.sessionId;
          ws = socket;
          if (lostAt !== undefined) gaps.push(performance.now() - lostAt);
          lostAt = undefined;
          resolve();
        }
        if (m.sessionResumptionUpdate?.resumable && m.sessionResumptionUpdate.newHandle) handle = m.sessionResumptionUpdate.newHandle;
      });
      socket.on('close', () => {
        if (ws === socket) ws = undefined;
        if (stopped) return;
        lostAt ??= performance.now();
        void open();
      });
      socket.on('error', () => undefined);
    });
  await open();
  const sent = await drive(child, options, {
    send: (text) => {
      // As with the SDK: a send while no socket is open goes nowhere.
      if (ws?.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ realtimeInput: { audio: { data: CHUNK, mimeType: 'audio/pcm;rate=16000' } } }));
      if (text) ws.send(JSON.stringify({ realtimeInput: { text } }));
    },
    sessionId: () => id,
    handovers: () => gaps.length,
  });
  stopped = true;
  ws?.close(1000);
  await sleep(100);
  const rec = await record(child, id!);
  return { gaps, sentAudioSeconds: sent.audioSeconds, recordedAudioSeconds: rec.audioSeconds, sentTexts: sent.texts, recordedTexts: rec.texts };
}

function httpBase(child: ServerChild): string {
  return `http://127.0.0.1:${child.port}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
