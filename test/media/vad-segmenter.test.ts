import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SILERO_WINDOW_MS, SpeechSegmenter, segmenterOptions } from '../../src/media/vad/segmenter.js';
import type { VadEvent, VadSettings } from '../../src/session/voice.js';

const W = SILERO_WINDOW_MS;
const HIGH: VadSettings = { startSensitivity: 'HIGH', endSensitivity: 'HIGH' };
const LOW: VadSettings = { startSensitivity: 'LOW', endSensitivity: 'LOW' };

/** Each committed event with the index of the window that committed it. */
function feed(segmenter: SpeechSegmenter, probabilities: number[]): Array<VadEvent & { window: number }> {
  const out: Array<VadEvent & { window: number }> = [];
  probabilities.forEach((p, window) => {
    const event = segmenter.push(p);
    if (event) out.push({ ...event, window });
  });
  return out;
}

const repeat = (p: number, n: number): number[] => Array.from({ length: n }, () => p);

describe('segmenterOptions', () => {
  test('defaults follow the sensitivities', () => {
    assert.deepEqual(segmenterOptions(HIGH), { startThreshold: 0.5, endThreshold: 0.35, prefixPaddingMs: 64, silenceDurationMs: 300 });
    assert.deepEqual(segmenterOptions(LOW), { startThreshold: 0.6, endThreshold: 0.35, prefixPaddingMs: 160, silenceDurationMs: 800 });
    assert.deepEqual(segmenterOptions({ startSensitivity: 'LOW', endSensitivity: 'HIGH' }), {
      startThreshold: 0.6,
      endThreshold: 0.35,
      prefixPaddingMs: 160,
      silenceDurationMs: 300,
    });
  });

  test('explicit durations win; invalid ones fall back to the default', () => {
    const o = segmenterOptions({ ...LOW, prefixPaddingMs: 20, silenceDurationMs: 0 });
    assert.equal(o.prefixPaddingMs, 20);
    assert.equal(o.silenceDurationMs, 0);
    const bad = segmenterOptions({ ...HIGH, prefixPaddingMs: -5, silenceDurationMs: Number.NaN });
    assert.equal(bad.prefixPaddingMs, 64);
    assert.equal(bad.silenceDurationMs, 300);
  });
});

describe('SpeechSegmenter start', () => {
  test('HIGH: two windows ≥ 0.5 start speech at the first of them', () => {
    const s = SpeechSegmenter.fromSettings(HIGH);
    const events = feed(s, [...repeat(0.01, 10), 0.9, 0.95, 0.97]);
    assert.deepEqual(events, [{ type: 'speechStart', atMs: 10 * W, window: 11 }]);
    assert.equal(s.speaking, true);
    assert.equal(s.positionMs, 13 * W);
  });

  test('a single loud window is not speech', () => {
    const s = SpeechSegmenter.fromSettings(HIGH);
    assert.deepEqual(feed(s, [0, 0.99, 0.1, 0.99, 0.2, 0.99, 0]), []);
    assert.equal(s.speaking, false);
  });

  test('the run must be unbroken: a dip below the start threshold restarts it', () => {
    const s = SpeechSegmenter.fromSettings(LOW);
    // 4 windows, a dip to 0.55 (below LOW's 0.6, though above the end threshold), then 5 windows.
    const events = feed(s, [...repeat(0.9, 4), 0.55, ...repeat(0.9, 5)]);
    assert.deepEqual(events, [{ type: 'speechStart', atMs: 5 * W, window: 9 }]);
  });

  test('exactly the threshold counts as speech', () => {
    const s = SpeechSegmenter.fromSettings(HIGH);
    assert.deepEqual(feed(s, [0.5, 0.5]), [{ type: 'speechStart', atMs: 0, window: 1 }]);
  });

  test('LOW start needs 0.6 for 160 ms (5 windows)', () => {
    assert.deepEqual(feed(SpeechSegmenter.fromSettings(LOW), repeat(0.58, 40)), [], '0.58 never starts LOW');
    assert.deepEqual(feed(SpeechSegmenter.fromSettings(HIGH), repeat(0.58, 3)), [{ type: 'speechStart', atMs: 0, window: 1 }]);
    const s = SpeechSegmenter.fromSettings(LOW);
    assert.deepEqual(feed(s, [0, 0, ...repeat(0.7, 4)]), []);
    assert.deepEqual(s.push(0.7), { type: 'speechStart', atMs: 2 * W });
  });

  test('custom prefixPaddingMs rounds up to whole windows; 0 starts on the first window', () => {
    assert.deepEqual(feed(SpeechSegmenter.fromSettings({ ...HIGH, prefixPaddingMs: 0 }), [0.1, 0.8]), [
      { type: 'speechStart', atMs: W, window: 1 },
    ]);
    // 100 ms → 4 windows (128 ms).
    const events = feed(SpeechSegmenter.fromSettings({ ...HIGH, prefixPaddingMs: 100 }), [0, ...repeat(0.8, 6)]);
    assert.deepEqual(events, [{ type: 'speechStart', atMs: W, window: 4 }]);
    // 96 ms is exactly 3 windows.
    assert.deepEqual(feed(SpeechSegmenter.fromSettings({ ...LOW, prefixPaddingMs: 96 }), repeat(0.8, 5)), [
      { type: 'speechStart', atMs: 0, window: 2 },
    ]);
  });
});

describe('SpeechSegmenter end', () => {
  const speaking = (settings: VadSettings): SpeechSegmenter => {
    const s = SpeechSegmenter.fromSettings(settings);
    feed(s, repeat(0.9, 10));
    assert.equal(s.speaking, true);
    return s;
  };

  test('HIGH: 300 ms (10 windows) below 0.35 ends speech at the first quiet window', () => {
    const s = speaking(HIGH);
    const events = feed(s, [...repeat(0.9, 5), ...repeat(0.1, 12)]);
    // Window indices here are relative to this feed; the stream position adds the 10 before.
    assert.deepEqual(events, [{ type: 'speechEnd', atMs: (10 + 5) * W, window: 5 + 9 }]);
    assert.equal(s.speaking, false);
  });

  test('hysteresis: probabilities between the thresholds keep speech going', () => {
    const s = speaking(HIGH);
    assert.deepEqual(feed(s, repeat(0.4, 100)), []);
    assert.equal(s.speaking, true);
    // Exactly 0.35 is not "below".
    assert.deepEqual(feed(s, repeat(0.35, 100)), []);
    assert.equal(s.speaking, true);
  });

  test('a pause shorter than silenceDurationMs does not end; any window ≥ 0.35 restarts the count', () => {
    const s = speaking(HIGH);
    const events = feed(s, [...repeat(0.1, 9), 0.36, ...repeat(0.1, 9), 0.6, ...repeat(0.1, 10)]);
    // The last quiet run starts at feed window 20, i.e. stream window 30.
    assert.deepEqual(events, [{ type: 'speechEnd', atMs: 30 * W, window: 29 }]);
  });

  test('LOW end waits 800 ms (25 windows)', () => {
    const s = speaking(LOW);
    assert.deepEqual(feed(s, repeat(0.05, 24)), []);
    assert.equal(s.speaking, true);
    assert.deepEqual(s.push(0.05), { type: 'speechEnd', atMs: 10 * W });
  });

  test('custom silenceDurationMs: 500 ms → 16 windows, 0 → the first quiet window', () => {
    const s = speaking({ ...LOW, silenceDurationMs: 500 });
    assert.deepEqual(feed(s, repeat(0, 16)), [{ type: 'speechEnd', atMs: 10 * W, window: 15 }]);
    const t = SpeechSegmenter.fromSettings({ ...HIGH, prefixPaddingMs: 0, silenceDurationMs: 0 });
    assert.deepEqual(feed(t, [0.9, 0.2, 0.9]), [
      { type: 'speechStart', atMs: 0, window: 0 },
      { type: 'speechEnd', atMs: W, window: 1 },
      { type: 'speechStart', atMs: 2 * W, window: 2 },
    ]);
  });
});

test('several segments alternate start/end with stream positions', () => {
  const s = SpeechSegmenter.fromSettings(HIGH);
  const probabilities = [
    ...repeat(0, 31), // 0–992 ms silence
    ...repeat(0.95, 40), // speech from 992 ms
    ...repeat(0.02, 20), // silence from 2272 ms
    ...repeat(0.9, 30), // speech from 2912 ms
    ...repeat(0.01, 15), // silence from 3872 ms
  ];
  assert.deepEqual(
    feed(s, probabilities).map(({ type, atMs }) => [type, atMs]),
    [
      ['speechStart', 992],
      ['speechEnd', 2272],
      ['speechStart', 2912],
      ['speechEnd', 3872],
    ],
  );
  assert.equal(s.positionMs, probabilities.length * W);
});

test('speech that never pauses long enough is one segment, and never ends at the end of input', () => {
  const s = SpeechSegmenter.fromSettings(HIGH);
  const probabilities = [0, 0.9, 0.9];
  for (let i = 0; i < 20; i++) probabilities.push(...repeat(0.9, 5), ...repeat(0.1, 8));
  const events = feed(s, probabilities);
  assert.deepEqual(events, [{ type: 'speechStart', atMs: W, window: 2 }]);
  assert.equal(s.speaking, true);
});
