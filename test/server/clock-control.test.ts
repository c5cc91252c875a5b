/** The virtual clock through the control API (`--clock manual`): deadlines fire as time is advanced. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { ManualClock } from '../../src/session/clock.js';
import { Inbox, sdk, startServer } from '../helpers/server.js';

const advance = (url: string, seconds: unknown) =>
  fetch(`${url}/relive/v1/clock:advance`, { method: 'POST', body: JSON.stringify({ seconds }) });

describe('clock control', () => {
  test('POST /relive/v1/clock:advance moves a manual clock: goAway at 540 s, the close at 590 s', async () => {
    const start = Date.UTC(2030, 0, 1);
    const server = await startServer({ keepaliveIntervalMs: 0, clock: new ManualClock(start) });
    try {
      const inbox = new Inbox();
      await sdk(server.url).live.connect({
        model: 'gemini-live-2.5-flash-preview',
        config: { responseModalities: [Modality.TEXT], contextWindowCompression: { slidingWindow: {} } },
        callbacks: inbox.callbacks,
      });
      assert.deepEqual(await (await fetch(`${server.url}/relive/v1/clock`)).json(), { now: new Date(start).toISOString(), kind: 'manual' });
      const res = await advance(server.url, 540);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { now: new Date(start + 540_000).toISOString() });
      assert.equal((await inbox.waitFor((m) => m.goAway !== undefined)).goAway!.timeLeft, '50s');
      await advance(server.url, 50);
      assert.deepEqual(await inbox.waitClose(), { code: 1008, reason: 'The operation was aborted.' });
    } finally {
      await server.close();
    }
  });

  test('refuses a bad body (400) and a real clock (409); GET tells the kind', async () => {
    const manual = await startServer({ keepaliveIntervalMs: 0, clock: new ManualClock() });
    const real = await startServer({ keepaliveIntervalMs: 0 });
    try {
      assert.equal((await advance(manual.url, -1)).status, 400);
      assert.equal((await advance(manual.url, 'soon')).status, 400);
      assert.equal((await advance(real.url, 1)).status, 409);
      assert.equal(((await (await fetch(`${real.url}/relive/v1/clock`)).json()) as { kind: string }).kind, 'real');
    } finally {
      await manual.close();
      await real.close();
    }
  });
});
