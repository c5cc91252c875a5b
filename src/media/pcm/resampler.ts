/**
 * Mono PCM16 sample-rate conversion with the Speex resampler (compiled to wasm). Linear
 * interpolation is not an option: it leaves audible images above the old Nyquist frequency.
 */

/** The part of the Emscripten module that this wrapper calls. */
interface SpeexModule {
  HEAP16: Int16Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
  _speex_resampler_destroy(state: number): void;
  _speex_resampler_skip_zeros(state: number): number;
  _speex_resampler_get_input_latency(state: number): number;
  _speex_resampler_process_int(
    state: number,
    channel: number,
    inPtr: number,
    inLenPtr: number,
    outPtr: number,
    outLenPtr: number,
  ): number;
}

type SpeexFactory = (moduleArg?: object) => Promise<SpeexModule>;

// A variable specifier keeps TypeScript from demanding declarations the package does not ship.
const SPEEX_PACKAGE: string = '@echogarden/speex-resampler-wasm';

let speexPromise: Promise<SpeexModule> | undefined;

function loadSpeex(): Promise<SpeexModule> {
  speexPromise ??= (import(SPEEX_PACKAGE) as Promise<{ default: SpeexFactory }>).then((m) => m.default());
  // A failed load must not be cached forever.
  speexPromise.catch(() => {
    speexPromise = undefined;
  });
  return speexPromise;
}

/** Input samples handed to wasm per call; bounds the scratch buffers. */
const BLOCK_SAMPLES = 4096;

export interface Pcm16ResamplerOptions {
  /** Speex quality 0–10; 10 is best and slowest. Default 6: transparent for speech, cheap. */
  quality?: number;
}

/**
 * A streaming mono resampler. `process` may be fed chunks of any size; the output is aligned with
 * the input (no leading latency zeros), and `flush` emits the tail so that the total output length
 * is round(totalInput × toRate / fromRate).
 */
export interface Pcm16Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  process(input: Int16Array): Int16Array;
  /** Drains the filter; the resampler can take no more input afterwards. */
  flush(): Int16Array;
  /** Frees the wasm state; idempotent. */
  destroy(): void;
}

/** Loads the wasm module (once per thread) so that later resampling needs no await. */
export async function preloadResampler(): Promise<void> {
  await loadSpeex();
}

export async function createPcm16Resampler(
  fromRate: number,
  toRate: number,
  options: Pcm16ResamplerOptions = {},
): Promise<Pcm16Resampler> {
  for (const rate of [fromRate, toRate]) {
    if (!Number.isInteger(rate) || rate <= 0) throw new RangeError(`sample rate must be a positive integer, got ${rate}`);
  }
  const quality = options.quality ?? 6;
  if (!Number.isInteger(quality) || quality < 0 || quality > 10) {
    throw new RangeError(`quality must be an integer 0–10, got ${quality}`);
  }
  return new SpeexPcm16Resampler(await loadSpeex(), fromRate, toRate, quality);
}

class SpeexPcm16Resampler implements Pcm16Resampler {
  private state: number;
  private readonly inPtr: number;
  private readonly outPtr: number;
  private readonly outCapacity: number;
  /** Two uint32 in/out length cells used by speex_resampler_process_int. */
  private readonly lenPtr: number;
  private readonly inputLatency: number;
  private consumed = 0;
  private produced = 0;
  private flushed = false;

  constructor(
    private readonly speex: SpeexModule,
    readonly fromRate: number,
    readonly toRate: number,
    quality: number,
  ) {
    this.lenPtr = speex._malloc(8);
    speex.HEAP32[this.lenPtr >> 2] = 0;
    this.state = speex._speex_resampler_init(1, fromRate, toRate, quality, this.lenPtr);
    const err = speex.HEAP32[this.lenPtr >> 2];
    if (this.state === 0 || err !== 0) {
      speex._free(this.lenPtr);
      throw new Error(`speex_resampler_init failed (error ${err})`);
    }
    // Without this the first `latency` output samples are zeros and the whole signal is delayed.
    speex._speex_resampler_skip_zeros(this.state);
    this.inputLatency = speex._speex_resampler_get_input_latency(this.state);
    this.outCapacity = Math.ceil((BLOCK_SAMPLES * toRate) / fromRate) + 64;
    this.inPtr = speex._malloc(BLOCK_SAMPLES * 2);
    this.outPtr = speex._malloc(this.outCapacity * 2);
  }

  process(input: Int16Array): Int16Array {
    if (this.state === 0) throw new Error('resampler destroyed');
    if (this.flushed) throw new Error('resampler already flushed');
    this.consumed += input.length;
    return this.run(input);
  }

  flush(): Int16Array {
    if (this.state === 0) throw new Error('resampler destroyed');
    if (this.flushed) return new Int16Array(0);
    this.flushed = true;
    const expected = Math.round((this.consumed * this.toRate) / this.fromRate);
    const parts: Int16Array[] = [];
    let have = 0;
    // Zeros push the samples still inside the filter out; a few rounds cover any rounding slack.
    const zeros = new Int16Array(Math.max(this.inputLatency, 1));
    for (let round = 0; round < 4 && this.produced + have < expected; round++) {
      const out = this.run(zeros);
      parts.push(out);
      have += out.length;
    }
    const tail = concat(parts, have);
    this.produced -= have; // run() counted the padding too
    const keep = Math.max(0, Math.min(tail.length, expected - this.produced));
    this.produced += keep;
    return tail.subarray(0, keep);
  }

  destroy(): void {
    if (this.state === 0) return;
    this.speex._speex_resampler_destroy(this.state);
    this.speex._free(this.inPtr);
    this.speex._free(this.outPtr);
    this.speex._free(this.lenPtr);
    this.state = 0;
  }

  private run(input: Int16Array): Int16Array {
    const speex = this.speex;
    const parts: Int16Array[] = [];
    let total = 0;
    let offset = 0;
    while (offset < input.length) {
      const block = Math.min(BLOCK_SAMPLES, input.length - offset);
      // Views are re-read on every call: memory growth replaces HEAP* arrays.
      speex.HEAP16.set(input.subarray(offset, offset + block), this.inPtr >> 1);
      speex.HEAPU32[this.lenPtr >> 2] = block;
      speex.HEAPU32[(this.lenPtr >> 2) + 1] = this.outCapacity;
      const err = speex._speex_resampler_process_int(this.state, 0, this.inPtr, this.lenPtr, this.outPtr, this.lenPtr + 4);
      if (err !== 0) throw new Error(`speex_resampler_process_int failed (error ${err})`);
      const used = speex.HEAPU32[this.lenPtr >> 2];
      const made = speex.HEAPU32[(this.lenPtr >> 2) + 1];
      if (made > 0) {
        parts.push(speex.HEAP16.slice(this.outPtr >> 1, (this.outPtr >> 1) + made));
        total += made;
      }
      if (used === 0 && made === 0) throw new Error('speex resampler made no progress');
      offset += used;
    }
    this.produced += total;
    return concat(parts, total);
  }
}

function concat(parts: Int16Array[], total: number): Int16Array {
  if (parts.length === 1) return parts[0];
  const out = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads s16le bytes as samples; copies when the Buffer is not 2-byte aligned (pooled Buffers may not be). */
function asSamples(input: Buffer | Int16Array): Int16Array {
  if (input instanceof Int16Array) return input;
  if (input.byteLength % 2 !== 0) throw new RangeError('PCM16 buffer has an odd byte length');
  if (input.byteOffset % 2 === 0) return new Int16Array(input.buffer, input.byteOffset, input.byteLength / 2);
  return new Int16Array(Uint8Array.prototype.slice.call(input).buffer);
}

/**
 * Resamples a whole mono s16le clip. The output holds round(n × toRate / fromRate) samples, time-aligned
 * with the input. Host byte order is assumed little-endian, as on every platform Node supports.
 */
export async function resamplePcm16(
  input: Buffer | Int16Array,
  fromRate: number,
  toRate: number,
  options: Pcm16ResamplerOptions = {},
): Promise<Buffer> {
  const samples = asSamples(input);
  if (fromRate === toRate) return Buffer.from(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength));
  const resampler = await createPcm16Resampler(fromRate, toRate, options);
  try {
    const head = resampler.process(samples);
    const tail = resampler.flush();
    const out = Buffer.alloc((head.length + tail.length) * 2);
    const view = new Int16Array(out.buffer, out.byteOffset, head.length + tail.length);
    view.set(head, 0);
    view.set(tail, head.length);
    return out;
  } finally {
    resampler.destroy();
  }
}
