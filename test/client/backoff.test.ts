import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Backoff } from '../../src/client/backoff.js';
import { prng } from '../helpers/prng.js';

describe('Backoff', () => {
  test('defaults: full jitter under 250·2^n capped at 10 s, never below 125 ms', () => {
    const b = new Backoff({ random: prng(1) });
    for (let n = 0; n < 40; n++) {
      const d = b.next();
      const ceiling = Math.min(10_000, 250 * 2 ** n);
      assert.ok(d >= 125 && d <= ceiling, `attempt ${n}: ${d} not in [125, ${ceiling}]`);
      assert.ok(Number.isInteger(d));
    }
    assert.equal(b.attempts, 40);
  });

  test('the ceiling grows by the factor and stops at the cap (random = just under 1)', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 3, random: () => 0.999999 });
    assert.deepEqual(
      Array.from({ length: 5 }, () => b.next()),
      [100, 300, 900, 1000, 1000],
    );
  });

  test('random = 0 gives the floor, half the initial delay', () => {
    const b = new Backoff({ initialMs: 400, random: () => 0 });
    assert.deepEqual([b.next(), b.next(), b.next()], [200, 200, 200]);
  });

  test('jitter spreads delays over the whole range', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 1000, random: prng(42) });
    const delays = Array.from({ length: 2000 }, () => b.next());
    const mean = delays.reduce((a, d) => a + d, 0) / delays.length;
    // Uniform on [0, 1000] floored at 500: mean = 0.5·500 + 0.5·750 = 625.
    assert.ok(Math.abs(mean - 625) < 20, `mean ${mean}`);
    assert.ok(delays.some((d) => d === 500) && delays.some((d) => d > 950));
  });

  test('the same seed gives the same delays', () => {
    const run = () => {
      const b = new Backoff({ random: prng(7) });
      return Array.from({ length: 10 }, () => b.next());
    };
    assert.deepEqual(run(), run());
  });

  test('reset starts over from the first delay', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 10_000, random: () => 0.999999 });
    b.next();
    b.next();
    b.next();
    assert.equal(b.attempts, 3);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 100);
  });

  test('many attempts do not overflow', () => {
    const b = new Backoff({ random: () => 0.999999 });
    for (let i = 0; i < 5000; i++) b.next();
    assert.equal(b.next(), 10_000);
  });

  test('nonsense options are refused', () => {
    assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
    assert.throws(() => new Backoff({ initialMs: 500, maxMs: 100 }), RangeError);
    assert.throws(() => new Backoff({ factor: 0.5 }), RangeError);
    assert.throws(() => new Backoff({ initialMs: Number.NaN }), RangeError);
  });
});
