/**
 * The OpenAI-compatible audio adapters (issue #8) against the fake OpenAI server: transcription of
 * whole utterances sent as WAV files at each end of speech, and speech fetched as raw 24 kHz PCM.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createOpenAITranscriptionRecognizer, wavFile } from '../../src/media/stt/openai-transcription.js';
import { createOpenAISpeechSynthesizer, OpenAISpeechError } from '../../src/media/tts/openai-speech.js';
import type { RecognitionStream } from '../../src/session/voice.js';
import { startFakeOpenAI, tonePcm, type AudioScript, type FakeOpenAI, type TranscriptionRequest } from '../helpers/fake-openai.js';

const RATE = 16_000;
const fakes: FakeOpenAI[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

async function fake(audio: AudioScript): Promise<FakeOpenAI> {
  const f = await startFakeOpenAI(() => ({ status: 500 }), audio);
  fakes.push(f);
  return f;
}

/** A recognizable ramp of `ms` of 16 kHz audio. */
function audio(ms: number, seed = 0): Int16Array {
  const out = new Int16Array((ms * RATE) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = ((i * 7 + seed) % 20_000) - 10_000;
  return out;
}

/** Writes `pcm` in 20 ms chunks, as voice input does. */
function writeChunks(stream: RecognitionStream, pcm: Int16Array): void {
  for (let at = 0; at < pcm.length; at += 320) stream.write(pcm.subarray(at, at + 320));
}

function collect(stream: RecognitionStream): { texts: string[]; next(n: number, timeoutMs?: number): Promise<string[]> } {
  const texts: string[] = [];
  const waiters: (() => void)[] = [];
  stream.onText((t) => {
    texts.push(t);
    for (const w of waiters.splice(0)) w();
  });
  return {
    texts,
    next(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${texts.length} texts, not ${n}: ${JSON.stringify(texts)}`)), timeoutMs);
        const check = (): void => {
          if (texts.length >= n) {
            clearTimeout(timer);
            resolve(texts.slice());
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

function captureLog(): { warn(obj: object, msg: string): void; lines: { obj: object; msg: string }[] } {
  const lines: { obj: object; msg: string }[] = [];
  return { lines, warn: (obj, msg) => lines.push({ obj, msg }) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('wavFile', () => {
  test('writes a 44-byte RIFF header for 16 kHz mono PCM16 that parses back', () => {
    const pcm = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const wav = wavFile(pcm);
    assert.equal(wav.length, 44 + pcm.length * 2);
    assert.equal(wav.toString('ascii', 0, 4), 'RIFF');
    assert.equal(wav.readUInt32LE(4), wav.length - 8);
    assert.equal(wav.toString('ascii', 8, 12), 'WAVE');
    assert.equal(wav.toString('ascii', 12, 16), 'fmt ');
    assert.equal(wav.readUInt32LE(16), 16);
    assert.equal(wav.readUInt16LE(20), 1, 'PCM');
    assert.equal(wav.readUInt16LE(22), 1, 'mono');
    assert.equal(wav.readUInt32LE(24), 16_000);
    assert.equal(wav.readUInt32LE(28), 32_000, 'byte rate');
    assert.equal(wav.readUInt16LE(32), 2, 'block align');
    assert.equal(wav.readUInt16LE(34), 16);
    assert.equal(wav.toString('ascii', 36, 40), 'data');
    assert.equal(wav.readUInt32LE(40), pcm.length * 2);
    const back = Array.from({ length: pcm.length }, (_, i) => wav.readInt16LE(44 + i * 2));
    assert.deepEqual(back, Array.from(pcm));
  });

  test('an empty utterance is a header alone', () => {
    const wav = wavFile(new Int16Array(0));
    assert.equal(wav.length, 44);
    assert.equal(wav.readUInt32LE(4), 36);
    assert.equal(wav.readUInt32LE(40), 0);
  });
});

describe('OpenAI transcription recognizer', () => {
  test('each endOfSpeech sends what was buffered since the last one; texts come in utterance order', async () => {
    // The first answer is slower than the second: the texts still come in utterance order.
    const f = await fake({ transcribe: (r, i) => ({ text: ` heard ${r.durationMs} ms `, delayMs: i === 0 ? 200 : 0 }) });
    const recognizer = createOpenAITranscriptionRecognizer({ baseUrl: f.baseUrl, apiKey: 'sk-test', model: 'whisper-1', language: 'en' });
    assert.equal(recognizer.name, 'openai-transcription');
    const stream = recognizer.open()!;
    const out = collect(stream);
    const first = audio(1000, 1);
    const second = audio(500, 2);
    writeChunks(stream, first);
    stream.endOfSpeech!();
    writeChunks(stream, second);
    stream.endOfSpeech!();
    stream.endOfSpeech!(); // nothing buffered: no request
    assert.deepEqual(await out.next(2), ['heard 1000 ms', 'heard 500 ms']);

    const sent = f.requests.filter((r) => r.path === '/v1/audio/transcriptions');
    assert.equal(sent.length, 2);
    for (const [r, pcm] of [
      [sent[0]!, first],
      [sent[1]!, second],
    ] as const) {
      const body = r.body as TranscriptionRequest;
      assert.equal(body.model, 'whisper-1');
      assert.equal(body.language, 'en');
      assert.equal(body.responseFormat, 'json');
      assert.equal(body.filename, 'utterance.wav');
      assert.equal(body.fileType, 'audio/wav');
      assert.equal(r.headers.authorization, 'Bearer sk-test');
      assert.equal(r.headers['content-type']?.startsWith('multipart/form-data; boundary='), true);
      assert.deepEqual(body.file, wavFile(pcm), 'the utterance, byte for byte');
    }
    stream.close();
    await recognizer.close();
  });

  test('no key, no language: neither is sent', async () => {
    const f = await fake({});
    const recognizer = createOpenAITranscriptionRecognizer({ baseUrl: `${f.baseUrl}/`, model: 'whisper-1' });
    const stream = recognizer.open()!;
    const out = collect(stream);
    writeChunks(stream, audio(100));
    stream.endOfSpeech!();
    assert.deepEqual(await out.next(1), ['heard 100 ms']);
    const r = await f.request(0);
    assert.equal(r.headers.authorization, undefined);
    assert.equal((r.body as TranscriptionRequest).language, undefined);
    await recognizer.close();
  });

  test('a failing endpoint is logged once per stream, never thrown; the next utterance still works', async () => {
    const f = await fake({ transcribe: (r, i) => (i < 2 ? { status: 500 } : { text: `ok ${r.durationMs}` }) });
    const log = captureLog();
    const recognizer = createOpenAITranscriptionRecognizer({ baseUrl: f.baseUrl, model: 'whisper-1', log });
    const stream = recognizer.open()!;
    const out = collect(stream);
    for (const ms of [200, 300, 400]) {
      writeChunks(stream, audio(ms));
      stream.endOfSpeech!();
    }
    assert.deepEqual(await out.next(1), ['ok 400']);
    await sleep(50);
    assert.deepEqual(out.texts, ['ok 400']);
    assert.equal(log.lines.length, 1);
    assert.match(JSON.stringify(log.lines[0]!.obj), /500: The server had an error while processing your request\./);
    await recognizer.close();
  });

  test('an unreachable endpoint is logged, not thrown', async () => {
    const f = await fake({});
    const baseUrl = f.baseUrl;
    await f.close();
    const log = captureLog();
    const recognizer = createOpenAITranscriptionRecognizer({ baseUrl, model: 'whisper-1', log });
    const stream = recognizer.open()!;
    writeChunks(stream, audio(100));
    stream.endOfSpeech!();
    for (let i = 0; i < 100 && log.lines.length === 0; i++) await sleep(10);
    assert.equal(log.lines.length, 1);
    await recognizer.close();
  });

  test('close() aborts a request in flight; its text never comes and nothing is logged', async () => {
    const f = await fake({ transcribe: () => ({ text: 'too late', delayMs: 2000 }) });
    const log = captureLog();
    const recognizer = createOpenAITranscriptionRecognizer({ baseUrl: f.baseUrl, model: 'whisper-1', log });
    const stream = recognizer.open()!;
    const out = collect(stream);
    writeChunks(stream, audio(200));
    stream.endOfSpeech!();
    const r = await f.request(0);
    stream.close();
    assert.equal(await r.ended, true, 'the client hung up');
    await sleep(50);
    assert.deepEqual(out.texts, []);
    assert.deepEqual(log.lines, []);
    // Writes after close are ignored.
    stream.write(audio(100));
    stream.endOfSpeech!();
    await sleep(50);
    assert.equal(f.requests.length, 1);
    await recognizer.close();
  });

  test('the recognizer closes its open streams', async () => {
    const f = await fake({ transcribe: () => ({ text: 'x', delayMs: 2000 }) });
    const recognizer = createOpenAITranscriptionRecognizer({ baseUrl: f.baseUrl, model: 'whisper-1' });
    const stream = recognizer.open()!;
    writeChunks(stream, audio(100));
    stream.endOfSpeech!();
    const r = await f.request(0);
    await recognizer.close();
    assert.equal(await r.ended, true);
    assert.equal(recognizer.open(), undefined);
  });

  test('without an end of speech, only the last 60 s are kept (logged once)', async () => {
    const f = await fake({});
    const log = captureLog();
    const recognizer = createOpenAITranscriptionRecognizer({ baseUrl: f.baseUrl, model: 'whisper-1', log });
    const stream = recognizer.open()!;
    const out = collect(stream);
    const second = audio(1000, 5);
    for (let s = 0; s < 61; s++) stream.write(audio(1000, s));
    stream.write(second);
    assert.equal(log.lines.length, 1);
    stream.endOfSpeech!();
    assert.deepEqual(await out.next(1), ['heard 60000 ms']);
    const file = (f.requests[0]!.body as TranscriptionRequest).file;
    // The newest audio is at the end, intact.
    assert.deepEqual(file.subarray(file.length - second.length * 2), wavFile(second).subarray(44));
    // A single write longer than the bound keeps its tail.
    stream.write(audio(70_000, 3));
    stream.endOfSpeech!();
    assert.deepEqual(await out.next(2), ['heard 60000 ms', 'heard 60000 ms']);
    assert.equal(log.lines.length, 1, 'logged once per stream');
    await recognizer.close();
  });
});

describe('OpenAI speech synthesizer', () => {
  test('returns the PCM the endpoint sent, asked for as pcm with the configured voice', async () => {
    const f = await fake({ speak: (body) => ({ ms: body.input.length * 10 }) });
    const tts = createOpenAISpeechSynthesizer({ baseUrl: f.baseUrl, apiKey: 'sk-test', model: 'tts-1' });
    const pcm = await tts.synthesize('Hello there.', { voice: 'Puck' });
    assert.deepEqual(pcm, tonePcm(120));
    assert.equal(pcm.length, 2 * 24_000 * 0.12);
    const r = await f.request(0);
    assert.equal(r.path, '/v1/audio/speech');
    assert.deepEqual(r.body, { model: 'tts-1', input: 'Hello there.', voice: 'alloy', response_format: 'pcm' });
    assert.equal(r.headers.authorization, 'Bearer sk-test');
    assert.equal(r.headers['content-type'], 'application/json');
    await tts.close();
  });

  test('session voices map only when listed; others get the default voice', async () => {
    const f = await fake({});
    const tts = createOpenAISpeechSynthesizer({ baseUrl: f.baseUrl, model: 'gpt-4o-mini-tts', voice: 'nova', voices: { Kore: 'shimmer' } });
    await tts.synthesize('a', { voice: 'Kore' });
    await tts.synthesize('b', { voice: 'Puck' });
    await tts.synthesize('c');
    await tts.synthesize('d', { voice: 'toString' });
    assert.deepEqual(
      f.requests.map((r) => r.body.voice),
      ['shimmer', 'nova', 'nova', 'nova'],
    );
    assert.equal(f.requests[0]!.headers.authorization, undefined);
    await tts.close();
  });

  test('a 401 rejects with the status and the error message', async () => {
    const f = await fake({ speak: () => ({ status: 401 }) });
    const tts = createOpenAISpeechSynthesizer({ baseUrl: f.baseUrl, apiKey: 'sk-wrong', model: 'tts-1' });
    await assert.rejects(tts.synthesize('Hello.'), (err: unknown) => {
      assert.ok(err instanceof OpenAISpeechError);
      assert.equal(err.status, 401);
      assert.match(err.message, /401/);
      assert.match(err.message, /Incorrect API key provided\./);
      return true;
    });
    await tts.close();
  });

  test('the abort signal cancels the request with an AbortError', async () => {
    const f = await fake({ speak: () => ({ delayMs: 2000 }) });
    const tts = createOpenAISpeechSynthesizer({ baseUrl: f.baseUrl, model: 'tts-1' });
    const controller = new AbortController();
    const pending = tts.synthesize('Hello.', { signal: controller.signal });
    const r = await f.request(0);
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    assert.equal(await r.ended, true, 'the client hung up');
    // Already aborted: no request at all.
    await assert.rejects(tts.synthesize('Again.', { signal: AbortSignal.abort() }), { name: 'AbortError' });
    await sleep(20);
    assert.equal(f.requests.length, 1);
    await tts.close();
  });

  test('close() aborts requests in flight; later calls reject', async () => {
    const f = await fake({ speak: () => ({ delayMs: 2000 }) });
    const tts = createOpenAISpeechSynthesizer({ baseUrl: f.baseUrl, model: 'tts-1' });
    const pending = tts.synthesize('Hello.');
    const r = await f.request(0);
    await tts.close();
    await assert.rejects(pending);
    assert.equal(await r.ended, true);
    await assert.rejects(tts.synthesize('After.'), /closed/);
  });

  test('empty text needs no request', async () => {
    const f = await fake({});
    const tts = createOpenAISpeechSynthesizer({ baseUrl: f.baseUrl, model: 'tts-1' });
    assert.equal((await tts.synthesize('  ')).length, 0);
    assert.equal(f.requests.length, 0);
    await tts.close();
  });
});
