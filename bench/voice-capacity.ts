/**
 * How many sessions streaming real-time audio one relive process carries before its ingest lag
 * (a chunk's arrival → voice activity detection done with it; with detection off, → the session
 * has counted it) passes 20 ms at the p99, or its event loop falls behind by as much.
 *
 * Each step is a fresh server child (so its metrics hold that step alone) and N raw clients, each
 * sending 40 ms chunks of real speech with pauses (flite, 16 kHz) every 40 ms, staggered, for a few
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

async function ingestP99Ms(child: ServerChild): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${child.port}/metrics`)).text();
  const m = /relive_audio_ingest_lag_seconds\{quantile="0\.99"\} ([0-9.eE+-]+|NaN)/.exec(text);
  return m ? Number(m[1]) * 1000 : Number.NaN;
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
    await new Promise<void>((resolve) => {
      const ticks = Math.round((options.seconds * 1000) / options.chunkMs);
      const timer = setInterval(() => {
        const due = started + tick * options.chunkMs;
        clientLateMs = Math.max(clientLateMs, performance.now() - due - options.chunkMs);
        for (let i = 0; i < sockets.length; i++) sockets[i]!.send(frames[(tick + i * 7) % frames.length]!);
        if (++tick >= ticks) {
          clearInterval(timer);
          resolve();
        }
      }, options.chunkMs);
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
