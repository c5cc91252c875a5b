import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createPcm16Resampler, resamplePcm16 } from '../../src/media/pcm/resampler.js';
import {
  durationSeconds,
  pcm16Samples,
  rmsDbfs,
  voicedFraction,
  zeroCrossingRate,
  zeroCrossings,
} from '../../src/media/pcm/speech-stats.js';
import { createFliteSynthesizer } from '../../src/media/tts/flite-synthesizer.js';
import { fliteVoiceFor, GEMINI_VOICE_NAMES } from '../../src/media/tts/voices.js';
import { OUTPUT_SAMPLE_RATE } from '../../src/session/speech.js';

const RATE = OUTPUT_SAMPLE_RATE;

function sine(freq: number, rate: number, seconds: number, amplitude = 0.5): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  // The phase offset keeps samples off exact zeros, so crossings are unambiguous.
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freq * i) / rate + 0.3));
  return out;
}

/** Signal-to-residual ratio (dB) of a least-squares fit of a sine at `freq`: high means a clean tone. */
function toneSnrDb(s: Int16Array, freq: number, rate: number): number {
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (let i = 0; i < s.length; i++) {
    const a = Math.sin((2 * Math.PI * freq * i) / rate);
    const b = Math.cos((2 * Math.PI * freq * i) / rate);
    ss += a * a; cc += b * b; sc += a * b; xs += s[i] * a; xc += s[i] * b;
  }
  const det = ss * cc - sc * sc;
  const ka = (xs * cc - xc * sc) / det;
  const kb = (xc * ss - xs * sc) / det;
  let signal = 0, residual = 0;
  for (let i = 0; i < s.length; i++) {
    const fit = ka * Math.sin((2 * Math.PI * freq * i) / rate) + kb * Math.cos((2 * Math.PI * freq * i) / rate);
    signal += fit * fit;
    residual += (s[i] - fit) ** 2;
  }
  return 10 * Math.log10(signal / residual);
}

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** The checks that tell a plausible utterance from silence, noise or a wrong sample rate. */
function assertPlausibleSpeech(pcm: Buffer, text: string): void {
  assert.equal(pcm.length % 2, 0, 'PCM16 byte length must be even');
  const seconds = durationSeconds(pcm, RATE);
  const n = words(text);
  assert.ok(seconds >= 0.15 * n && seconds <= 0.8 * n, `${seconds.toFixed(2)} s for ${n} words`);
  const rms = rmsDbfs(pcm);
  assert.ok(rms > -35, `RMS ${rms.toFixed(1)} dBFS is too close to silence`);
  const voiced = voicedFraction(pcm, RATE);
  assert.ok(voiced > 0.4 && voiced < 0.98, `voiced fraction ${voiced.toFixed(2)}`);
  const zcr = zeroCrossingRate(pcm, RATE);
  assert.ok(zcr > 300 && zcr < 6000, `zero-crossing rate ${zcr.toFixed(0)}/s`);
}

function fliteTempDirs(root: string): Set<string> {
  return new Set(readdirSync(root).filter((name) => name.startsWith('relive-flite-')));
}

describe('resamplePcm16', () => {
  test('a 1 kHz sine at 16 kHz keeps its frequency, level and a 1.5 length ratio at 24 kHz', async () => {
    const input = sine(1000, 16_000, 1);
    const out = pcm16Samples(await resamplePcm16(input, 16_000, 24_000));
    assert.ok(Math.abs(out.length - input.length * 1.5) <= 3, `length ${out.length}`);
    assert.ok(Math.abs(zeroCrossings(out) - zeroCrossings(input)) <= 2, `crossings ${zeroCrossings(out)}`);
    assert.ok(Math.abs(zeroCrossingRate(out, 24_000) - 2000) < 10);
    assert.ok(Math.abs(rmsDbfs(out) - rmsDbfs(input)) < 0.5, `level ${rmsDbfs(out)} vs ${rmsDbfs(input)}`);
    // Away from the edges the output is a clean 1 kHz tone, aligned in time (no latency offset).
    const middle = out.subarray(600, out.length - 600);
    assert.ok(toneSnrDb(middle, 1000, 24_000) > 50, `tone SNR ${toneSnrDb(middle, 1000, 24_000).toFixed(1)} dB`);
    const expected = sine(1000, 24_000, 1);
    let maxErr = 0;
    for (let i = 600; i < out.length - 600; i++) maxErr = Math.max(maxErr, Math.abs(out[i] - expected[i]));
    assert.ok(maxErr < 200, `max deviation from the ideal 24 kHz sine ${maxErr}`);
  });

  test('works downwards too (24 kHz → 16 kHz) and accepts Buffers', async () => {
    const input = sine(440, 24_000, 0.5);
    const bytes = Buffer.from(input.buffer);
    const out = pcm16Samples(await resamplePcm16(bytes, 24_000, 16_000));
    assert.ok(Math.abs(out.length - 8000) <= 2);
    assert.ok(Math.abs(zeroCrossingRate(out, 16_000) - 880) < 10);
  });

  test('streaming in 20 ms chunks gives the same samples as one call', async () => {
    const input = sine(1000, 16_000, 0.5);
    const whole = pcm16Samples(await resamplePcm16(input, 16_000, 24_000));
    const r = await createPcm16Resampler(16_000, 24_000);
    const parts: number[] = [];
    for (let at = 0; at < input.length; at += 320) parts.push(...r.process(input.subarray(at, at + 320)));
    parts.push(...r.flush());
    r.destroy();
    assert.deepEqual(Int16Array.from(parts), whole);
  });

  test('equal rates copy; bad rates throw', async () => {
    const input = sine(1000, 16_000, 0.01);
    assert.deepEqual(pcm16Samples(await resamplePcm16(input, 16_000, 16_000)), input);
    await assert.rejects(resamplePcm16(input, 0, 16_000), RangeError);
  });
});

describe('fliteVoiceFor', () => {
  test('female names map to slt, male names to a male voice, unknown to slt, case-insensitively', () => {
    for (const name of ['Kore', 'Aoede', 'Leda', 'Zephyr', 'kore', 'ZEPHYR']) assert.equal(fliteVoiceFor(name), 'slt', name);
    for (const name of ['Puck', 'Charon', 'Fenrir', 'Orus', 'puck']) {
      assert.ok(['rms', 'awb', 'kal16'].includes(fliteVoiceFor(name)), name);
    }
    assert.equal(fliteVoiceFor(undefined), 'slt');
    assert.equal(fliteVoiceFor(''), 'slt');
    assert.equal(fliteVoiceFor('NoSuchVoice'), 'slt');
    assert.equal(GEMINI_VOICE_NAMES.length, 30);
  });
});

describe('createFliteSynthesizer', () => {
  const synth = createFliteSynthesizer({ workers: 2 });
  after(() => synth.close());
  const sentence = 'Hello! I am your voice assistant. The weather in Paris tomorrow will be sunny.';

  test('synthesizes a sentence as plausible 24 kHz speech', async () => {
    const pcm = await synth.synthesize(sentence, { voice: 'Kore' });
    assertPlausibleSpeech(pcm, sentence);
  });

  test('a one-word text is spoken, not taken for a file name', async () => {
    const pcm = await synth.synthesize('Hello!');
    assert.ok(durationSeconds(pcm, RATE) > 0.2 && durationSeconds(pcm, RATE) < 1.5);
    assert.ok(rmsDbfs(pcm) > -35);
  });

  test('empty text gives empty audio; the 8 kHz kal voice is resampled to 24 kHz too', async () => {
    assert.equal((await synth.synthesize('  ')).length, 0);
    assertPlausibleSpeech(await synth.synthesize(sentence, { voice: 'kal' }), sentence);
  });

  test('two different voices give different audio', async () => {
    const [female, male] = await Promise.all([
      synth.synthesize(sentence, { voice: 'Kore' }),
      synth.synthesize(sentence, { voice: 'Puck' }),
    ]);
    assertPlausibleSpeech(female, sentence);
    assertPlausibleSpeech(male, sentence);
    assert.ok(!female.equals(male));
  });

  test('concurrent requests all succeed, each with its own result', async () => {
    const texts = [
      'One.',
      'Two words.',
      'This one has quite a few more words in it than the others.',
      'Short again.',
      'A medium length sentence for the queue.',
    ];
    const results = await Promise.all(texts.map((t, i) => synth.synthesize(t, { voice: i % 2 ? 'Charon' : 'Leda' })));
    results.forEach((pcm, i) => {
      const seconds = durationSeconds(pcm, RATE);
      const n = words(texts[i]);
      assert.ok(seconds >= 0.15 * n && seconds <= 0.8 * n + 0.5, `"${texts[i]}": ${seconds.toFixed(2)} s`);
    });
    assert.ok(results[2].length > 3 * results[0].length, 'results were swapped between requests');
  });

  test('does not block the event loop', async () => {
    const long = Array.from({ length: 3 }, () => sentence).join(' ');
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    try {
      await synth.synthesize(long);
    } finally {
      clearInterval(timer);
    }
    assert.ok(maxGap < 150, `event loop stalled for ${maxGap.toFixed(0)} ms`);
  });

  test('an aborted request rejects with AbortError; a queued one is dropped before it runs', async () => {
    const one = createFliteSynthesizer({ workers: 1 });
    try {
      const pre = new AbortController();
      pre.abort();
      await assert.rejects(one.synthesize(sentence, { signal: pre.signal }), { name: 'AbortError' });

      const running = one.synthesize(sentence);
      const queuedAbort = new AbortController();
      const queued = one.synthesize(sentence, { signal: queuedAbort.signal });
      const next = one.synthesize('Still working.');
      let runningDone = false;
      void running.then(() => (runningDone = true));
      queuedAbort.abort();
      await assert.rejects(queued, (err: Error) => err.name === 'AbortError' && err instanceof Error);
      assert.equal(runningDone, false, 'the queued request waited for the running one instead of rejecting at once');

      const inFlight = new AbortController();
      const aborted = one.synthesize(sentence, { signal: inFlight.signal });
      setTimeout(() => inFlight.abort(), 20);
      await assert.rejects(aborted, { name: 'AbortError' });

      assertPlausibleSpeech(await running, sentence);
      assert.ok(durationSeconds(await next, RATE) > 0.3);
    } finally {
      await one.close();
    }
  });

  test('close() rejects pending and later requests, ends workers and removes temp files', async () => {
    // A private root: other test files run concurrently and make scratch directories of their own.
    const root = mkdtempSync(path.join(tmpdir(), 'relive-flite-test-'));
    const s = createFliteSynthesizer({ workers: 1, tempRoot: root });
    await s.synthesize('Warm up.');
    const mine = [...fliteTempDirs(root)];
    assert.equal(mine.length, 1, 'one scratch directory per worker');
    const pending = [s.synthesize(sentence), s.synthesize(sentence)].map((p) => assert.rejects(p, /closed/));
    await s.close();
    await Promise.all(pending);
    await assert.rejects(s.synthesize('After close.'), /closed/);
    await s.close(); // idempotent
    const left = fliteTempDirs(root);
    for (const d of mine) assert.ok(!left.has(d), `${d} was left behind`);
    rmSync(root, { recursive: true, force: true });
  });
});
