/**
 * Real test audio: speech synthesized by flite (which pocketsphinx transcribes well, AUDIO.md §4)
 * at 16 kHz, and the things that must not count as speech — silence, noise, a musical chord.
 * Noise is seeded, so every run hears the same signal.
 */
import { createFliteSynthesizer } from '../../src/media/tts/flite-synthesizer.js';
import { resamplePcm16 } from '../../src/media/pcm/resampler.js';
import type { SpeechSynthesizer } from '../../src/session/speech.js';
import { prng as seededRandom } from './prng.js';

export const RATE = 16_000;
let tts: SpeechSynthesizer | undefined;

/** `text` spoken by flite's `slt` voice, as 16 kHz mono PCM16. */
export async function speech16k(text: string, rate = RATE): Promise<Int16Array> {
  tts ??= createFliteSynthesizer({ workers: 1 });
  const pcm24 = await tts.synthesize(text, {});
  const out = await resamplePcm16(pcm24, 24_000, rate);
  return new Int16Array(out.buffer, out.byteOffset, out.length / 2);
}

/** Stops the synthesis worker (call in an after hook). */
export async function closeSpeech(): Promise<void> {
  await tts?.close();
  tts = undefined;
}

export function silence(ms: number, rate = RATE): Int16Array {
  return new Int16Array(Math.round((ms * rate) / 1000));
}

/** White noise at about `dbfs` (e.g. -50: a quiet room). */
export function whiteNoise(ms: number, dbfs = -50, seed = 1, rate = RATE): Int16Array {
  const random = seededRandom(seed);
  const amplitude = 32767 * 10 ** (dbfs / 20) * Math.sqrt(3);
  return Int16Array.from({ length: Math.round((ms * rate) / 1000) }, () => Math.round((random() * 2 - 1) * amplitude));
}

/** Brown (random-walk) noise, loud: a rumble that is not speech. */
export function brownNoise(ms: number, seed = 2, rate = RATE): Int16Array {
  const random = seededRandom(seed);
  let v = 0;
  return Int16Array.from({ length: Math.round((ms * rate) / 1000) }, () => {
    v = Math.max(-1, Math.min(1, v * 0.998 + (random() * 2 - 1) * 0.05));
    return Math.round(v * 12000);
  });
}

/** An A-major chord with harmonics and a slow attack: music, not speech. */
export function chord(ms: number, rate = RATE): Int16Array {
  const freqs = [220, 277.18, 329.63];
  return Int16Array.from({ length: Math.round((ms * rate) / 1000) }, (_, i) => {
    const t = i / rate;
    let s = 0;
    for (const f of freqs) for (let h = 1; h <= 4; h++) s += Math.sin(2 * Math.PI * f * h * t) / h;
    const envelope = Math.min(1, t / 0.05);
    return Math.round((s / 6) * envelope * 12000);
  });
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits into real-time-sized chunks (20–50 ms in the tests), as a microphone delivers them. */
export function chunks(samples: Int16Array, chunkMs: number, rate = RATE): Int16Array[] {
  const size = Math.round((chunkMs * rate) / 1000);
  const out: Int16Array[] = [];
  for (let i = 0; i < samples.length; i += size) out.push(samples.subarray(i, Math.min(samples.length, i + size)));
  return out;
}

export function toBase64(samples: Int16Array): string {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
}
