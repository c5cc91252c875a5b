/**
 * The gateway's grace period runs on the engine's clock (GeminiEngineOptions.clock): the upstream
 * session a client's connection leaves behind is closed when that clock passes releaseGraceMs,
 * and not a moment before, however long the test takes in real time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { GeminiEngine } from '../../src/engine/gemini/gemini-engine.js';
import { ManualClock } from '../../src/session/clock.js';
import { waitFor } from '../helpers/wait.js';
import { Inbox, oneTurnThenLeave, sdk, startServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';
const GRACE_MS = 60_000;

/** An upstream relive, and a gateway in front of it whose engine runs on a ManualClock. */
async function gatewayOnManualClock() {
  const clock = new ManualClock();
  const upstream = await startServer({ keepaliveIntervalMs: 0, vad: false });
  const gateway = await startServer({
    keepaliveIntervalMs: 0,
    vad: false,
    engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway', clock, releaseGraceMs: GRACE_MS }),
  });
  return { clock, upstream, gateway };
}

describe('gateway grace period on the injected clock', () => {
  test('the upstream outlives the client connection until the ManualClock passes releaseGraceMs, then closes', async () => {
    const { clock, upstream, gateway } = await gatewayOnManualClock();
    try {
      const inbox = new Inbox();
      const session = await sdk(gateway.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
      session.sendClientContent({ turns: 'hello upstream' });
      await inbox.turnComplete();
      assert.equal(upstream.server.connections, 1, 'the upstream session is open');
      assert.equal(clock.pending, 0, 'no grace timer while the client is connected');

      session.close();
      await inbox.waitClose();
      // The gateway's side of the close: its session object lets go, and the grace timer is set.
      await waitFor(() => clock.pending === 1, 'the grace timer is set');

      await clock.advance(GRACE_MS - 1);
      assert.equal(clock.pending, 1, 'the grace timer has not fired');
      assert.equal(upstream.server.connections, 1, 'just before the grace period ends, the upstream connection is still open');

      await clock.advance(1);
      assert.equal(clock.pending, 0);
      await waitFor(() => upstream.server.connections === 0, 'the upstream connection closed');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  test('a client that resumes within the grace period stops the clock on it: advancing past it closes nothing', async () => {
    const { clock, upstream, gateway } = await gatewayOnManualClock();
    try {
      const handle = await oneTurnThenLeave(gateway.url, MODEL, 'first words');
      await waitFor(() => clock.pending === 1, 'the grace timer is set');
      await clock.advance(GRACE_MS - 1);

      const second = new Inbox();
      const b = await sdk(gateway.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], sessionResumption: { handle } }, callbacks: second.callbacks });
      assert.equal(clock.pending, 0, 'the resumed session took the upstream over');
      await clock.advance(GRACE_MS);
      b.sendClientContent({ turns: 'second words' });
      await second.turnComplete();
      assert.equal(second.text(), 'You said: second words');
      assert.equal(upstream.server.connections, 1, 'the same upstream connection');
      const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
      assert.equal(sessions.length, 1, 'still one upstream session');
      b.close();
      await second.waitClose();
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
