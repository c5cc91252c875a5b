/**
 * Cheap plausibility measures for mono PCM16LE audio, used by tests to tell speech from silence,
 * noise or a wrong sample rate without listening to it.
 */

export type Pcm16 = Buffer | Int16Array;

/** Samples of an s16le Buffer (copied only when the Buffer is not 2-byte aligned). */
export function pcm16Samples(pcm: Pcm16): Int16Array {
  if (pcm instanceof Int16Array) return pcm;
  if (pcm.byteLength % 2 !== 0) throw new RangeError('PCM16 buffer has an odd byte length');
  if (pcm.byteOffset % 2 === 0) return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2);
  return new Int16Array(Uint8Array.prototype.slice.call(pcm).buffer);
}

export function durationSeconds(pcm: Pcm16, sampleRate: number): number {
  return pcm16Samples(pcm).length / sampleRate;
}

/** RMS level relative to full scale; -Infinity for digital silence or no samples. */
export function rmsDbfs(pcm: Pcm16): number {
  const s = pcm16Samples(pcm);
  return levelDb(s, 0, s.length);
}

function levelDb(s: Int16Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += s[i] * s[i];
  const n = end - start;
  return n === 0 || sum === 0 ? -Infinity : 10 * Math.log10(sum / n / (32768 * 32768));
}

export interface VoicedFractionOptions {
  frameMs?: number;
  /** A frame is voiced when it is this many dB above the quietest frames (default 20). */
  marginDb?: number;
  /** …and above this absolute level, so that near-silent noise never counts (default -55 dBFS). */
  floorDbfs?: number;
}

/**
 * Fraction of frames (20 ms by default) whose energy is well above the quietest 10 % of frames.
 * Speech with natural pauses lands around 0.5–0.9; silence, steady noise and steady tones give 0
 * because no frame stands out from the quietest ones.
 */
export function voicedFraction(pcm: Pcm16, sampleRate: number, options: VoicedFractionOptions = {}): number {
  const s = pcm16Samples(pcm);
  const frame = Math.max(1, Math.round((sampleRate * (options.frameMs ?? 20)) / 1000));
  const levels: number[] = [];
  for (let at = 0; at + frame <= s.length; at += frame) levels.push(levelDb(s, at, at + frame));
  if (levels.length === 0) return 0;
  const sorted = [...levels].sort((a, b) => a - b);
  const quiet = sorted[Math.floor(sorted.length * 0.1)];
  // Digital silence is -Infinity; measure the margin from a finite floor instead.
  const threshold = Math.max(Math.max(quiet, -120) + (options.marginDb ?? 20), options.floorDbfs ?? -55);
  return levels.filter((db) => db > threshold).length / levels.length;
}

/** Sign changes between consecutive samples (zero counts as positive). */
export function zeroCrossings(pcm: Pcm16): number {
  const s = pcm16Samples(pcm);
  let count = 0;
  for (let i = 1; i < s.length; i++) if (s[i - 1] < 0 !== s[i] < 0) count++;
  return count;
}

/** Zero crossings per second: 2 × the frequency for a pure tone; roughly 500–4000 for speech. */
export function zeroCrossingRate(pcm: Pcm16, sampleRate: number): number {
  const s = pcm16Samples(pcm);
  return s.length < 2 ? 0 : (zeroCrossings(s) * sampleRate) / (s.length - 1);
}
