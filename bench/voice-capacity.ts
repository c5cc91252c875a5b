/**
 * How many sessions streaming real-time audio one relive process carries before its ingest lag
 * (a chunk's arrival → voice activity detection done with it; with detection off, → the session
 * has counted it) passes 20 ms at the p99, or its event loop falls behind by as much.
 *
 * Each step is a fresh server child (so its metrics hold that step alone) and N raw clients, each
 * sending 40 ms chunks of real speech with pauses (flite, 16 kHz) every 40 ms, in 8 staggered phases, for a few
 * seconds; turns are detected and answered as in real use. CPU per session is the child's CPU
 * time (all its threads) over the streaming window, divided by N.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createFliteSynthesizer } from '../src/media/tts/flite-synthesizer.js';
import { resamplePcm16 } from '../src/media/pcm/resampler.js';
import { startChild, type ServerChild } from './child.js';

export interface VoiceStep {
  readonly sessions: number;
  readonly ingestP99Ms: number;
  readonly loopDelayP99Ms: number;
  /** Percent of one core per session. */
  readonly cpuPerSessionPct: number;
  /** The child's CPU over the window in cores (above 1: onnxruntime's threads helped). */
  readonly cores: number;
  /** The client's own worst lateness sending a tick (if large, the client limited the step). */
  readonly clientLateMs: number;
  readonly ok: boolean;
}

export interface VoiceCapacityOptions {
  readonly steps: readonly number[];
  readonly seconds: number;
  readonly chunkMs: number;
  readonly limitMs: number;
}

const SLOTS = 8;
const SETUP = JSON.stringify({ setup: { model: 'models/gemini-live-2.5-flash-preview', generationConfig: { responseModalities: ['TEXT'] } } });

/** Frames of a loop of speech and pauses, pre-encoded once. */
async function speechFrames(chunkMs: number): Promise<string[]> {
  const tts = createFliteSynthesizer({ workers: 1 });
  try {
    const pcm24 = await tts.synthesize('Could you tell me what the weather will be like in Paris tomorrow afternoon?');
    const speech = await resamplePcm16(pcm24, 24_000, 16_000);
    const pause = Buffer.alloc(16_000 * 2); // 1 s
    const loop = Buffer.concat([speech, pause]);
    const bytes = Math.round((chunkMs * 16_000) / 1000) * 2;
    const frames: string[] = [];
    for (let at = 0; at + bytes <= loop.length; at += bytes) {
      frames.push(JSON.stringify({ realtimeInput: { audio: { data: loop.subarray(at, at + bytes).toString('base64'), mimeType: 'audio/pcm;rate=16000' } } }));
    }
    return frames;
  } finally {
    await tts.close();
  }
}

async function openSessions(child: ServerChild, n: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(child.url, { perMessageDeflate: false });
          const timer = setTimeout(() => reject(new Error('voice bench: setup timed out')), 10_000);
          ws.once('open', () => ws.send(SETUP));
          ws.once('message', () => {
            clearTimeout(timer);
            resolve(ws);
          });
          ws.once('error', reject);
        }),
      ),
    );
    sockets.push(...batch);
  }
  return sockets;
}

/** The p99 of the server's ingest-lag histogram, interpolated within its bucket. */
async function ingestP99Ms(child: ServerChild): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${child.port}/metrics`)).text();
  const buckets = [...text.matchAll(/relive_audio_ingest_lag_seconds_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => ({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) }));
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (total === 0) return Number.NaN;
  const target = total * 0.99;
  let lower = 0;
  let below = 0;
  for (const b of buckets) {
    if (b.count >= target) {
      if (!Number.isFinite(b.le)) return lower * 1000;
      return (lower + ((target - below) / Math.max(1, b.count - below)) * (b.le - lower)) * 1000;
    }
    lower = b.le;
    below = b.count;
  }
  return Number.NaN;
}

async function step(mode: 'relive-voice' | 'relive-novad', n: number, frames: string[], options: VoiceCapacityOptions): Promise<VoiceStep> {
  const child = await startChild(mode, 30_000);
  let sockets: WebSocket[] = [];
  try {
    sockets = await openSessions(child, n);
    const before = await child.load();
    const started = performance.now();
    let tick = 0;
    let clientLateMs = 0;
    // Microphones are not synchronized: the sessions are spread over SLOTS phases of each chunk
    // period, so the server sees a steady stream rather than one burst per period.
    const slotMs = options.chunkMs / SLOTS;
    await new Promise<void>((resolve) => {
      const ticks = Math.round((options.seconds * 1000) / slotMs);
      const timer = setInterval(() => {
        const due = started + (tick + 1) * slotMs;
        clientLateMs = Math.max(clientLateMs, performance.now() - due);
        const slot = tick % SLOTS;
        const period = Math.floor(tick / SLOTS);
        for (let i = slot; i < sockets.length; i += SLOTS) sockets[i]!.send(frames[(period + i * 7) % frames.length]!);
        if (++tick >= ticks) {
          clearInterval(timer);
          resolve();
        }
      }, slotMs);
    });
    const windowMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 200));
    const after = await child.load();
    const ingest = await ingestP99Ms(child);
    const cores = (after.cpuMs - before.cpuMs) / windowMs;
    return {
      sessions: n,
      ingestP99Ms: ingest,
      loopDelayP99Ms: after.loopDelayP99Ms,
      cpuPerSessionPct: (cores * 100) / n,
      cores,
      clientLateMs: Math.max(0, clientLateMs),
      ok: ingest <= options.limitMs && after.loopDelayP99Ms <= options.limitMs,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await child.stop();
  }
}

/** Steps up until one misses the limit; returns every step measured. */
export async function measureVoiceCapacity(vad: boolean, options: VoiceCapacityOptions): Promise<VoiceStep[]> {
  const frames = await speechFrames(options.chunkMs);
  const results: VoiceStep[] = [];
  for (const n of options.steps) {
    const r = await step(vad ? 'relive-voice' : 'relive-novad', n, frames, options);
    results.push(r);
    if (!r.ok) break;
  }
  return results;
}
