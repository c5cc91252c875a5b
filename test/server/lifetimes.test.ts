/**
 * Connection and session lifetimes on a manual clock (PROTOCOL.md §5.1–5.2): a 10-minute cap is
 * tested in milliseconds.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { ManualClock } from '../../src/session/clock.js';
import { RawClient, TEXT_SETUP } from '../helpers/raw-client.js';
import { Inbox, sdk, startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const MODEL = 'gemini-live-2.5-flash-preview';

async function open(url: string, config: Record<string, unknown> = {}, handle?: string) {
  const inbox = new Inbox();
  const session = await sdk(url).live.connect({
    model: MODEL,
    config: { responseModalities: [Modality.TEXT], sessionResumption: handle ? { handle } : {}, ...config },
    callbacks: inbox.callbacks,
  });
  return { inbox, session };
}

const lastHandle = (inbox: Inbox) => inbox.messages.filter((m) => m.sessionResumptionUpdate?.newHandle).at(-1)!.sessionResumptionUpdate!.newHandle!;

describe('connection lifetime', () => {
  test('goAway {timeLeft: "50s"} at 540 s, served until 590 s, then closed 1008 "The operation was aborted."', async () => {
    const clock = new ManualClock(Date.now());
    const server = await startServer({ keepaliveIntervalMs: 0, clock });
    try {
      const c = await open(server.url, { contextWindowCompression: { slidingWindow: {} } });
      await clock.advance(539_999);
      assert.ok(!c.inbox.messages.some((m) => m.goAway));
      await clock.advance(1);
      const goAway = await c.inbox.waitFor((m) => m.goAway !== undefined);
      assert.equal(goAway.goAway!.timeLeft, '50s');
      await clock.advance(49_000);
      const mark = c.inbox.messages.length;
      c.session.sendClientContent({ turns: 'still served' });
      await c.inbox.turnComplete(mark);
      await clock.advance(1_000);
      assert.deepEqual(await c.inbox.waitClose(), { code: 1008, reason: 'The operation was aborted.' });
    } finally {
      await server.close();
    }
  });

  test('the lifetime, notice and close variant are configurable', async () => {
    const clock = new ManualClock(Date.now());
    const server = await startServer({ keepaliveIntervalMs: 0, clock, lifetimes: { connectionMs: 20_000, goAwayNoticeMs: 5_000 }, lifetimeClose: 'deadline' });
    try {
      const c = await open(server.url, { contextWindowCompression: { slidingWindow: {} } });
      await clock.advance(15_000);
      assert.equal((await c.inbox.waitFor((m) => m.goAway !== undefined)).goAway!.timeLeft, '5s');
      await clock.advance(5_000);
      assert.deepEqual(await c.inbox.waitClose(), { code: 1011, reason: 'Deadline expired before operation could complete.' });
    } finally {
      await server.close();
    }
  });

  test('after the goAway the client resumes on a new connection and the session goes on', async () => {
    const clock = new ManualClock(Date.now());
    const server = await startServer({ keepaliveIntervalMs: 0, clock });
    try {
      const c = await open(server.url, { contextWindowCompression: { slidingWindow: {} } });
      const id = c.inbox.messages[0]!.setupComplete!.sessionId!;
      c.session.sendClientContent({ turns: 'before' });
      await c.inbox.turnComplete();
      await c.inbox.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined, 2);
      await clock.advance(540_000);
      await c.inbox.waitFor((m) => m.goAway !== undefined);
      const r = await open(server.url, { contextWindowCompression: { slidingWindow: {} } }, lastHandle(c.inbox));
      assert.deepEqual(await c.inbox.waitClose(), { code: 1008, reason: 'Session resumed on another connection.' });
      assert.equal(r.inbox.messages[0]!.setupComplete!.sessionId, id);
      r.session.sendClientContent({ turns: 'after' });
      await r.inbox.turnComplete();
      r.session.close();
      await r.inbox.waitClose();
    } finally {
      await server.close();
    }
  });
});

describe('session lifetime', () => {
  test('15 minutes of connected time without compression, counted across resumptions; then 1011 and the handle is dead', async () => {
    const clock = new ManualClock(Date.now());
    // Long connections so that only the session cap acts.
    const server = await startServer({ keepaliveIntervalMs: 0, clock, lifetimes: { connectionMs: 3_600_000 } });
    try {
      const c = await open(server.url);
      await clock.advance(10 * 60_000);
      const handle = lastHandle(c.inbox);
      c.session.close();
      await c.inbox.waitClose();
      await clock.advance(30 * 60_000); // detached time does not count
      const r = await open(server.url, {}, handle);
      // 5 minutes left: goAway 50 s before their end.
      await clock.advance(4 * 60_000 + 9_000);
      assert.ok(!r.inbox.messages.some((m) => m.goAway));
      await clock.advance(1_000);
      const goAway = await r.inbox.waitFor((m) => m.goAway !== undefined);
      assert.equal(goAway.goAway!.timeLeft, '50s');
      await clock.advance(50_000);
      assert.deepEqual(await r.inbox.waitClose(), { code: 1011, reason: 'Deadline expired before operation could complete.' });
      await assert.rejects(open(server.url, {}, lastHandle(r.inbox)), (err: Error) => err.message.includes('BidiGenerateContent session not found'));
    } finally {
      await server.close();
    }
  });

  test('2 minutes once video was received', async () => {
    const clock = new ManualClock(Date.now());
    const server = await startServer({ keepaliveIntervalMs: 0, clock, lifetimes: { connectionMs: 3_600_000 } });
    try {
      const c = await RawClient.connect(server.url, TEXT_SETUP);
      await clock.advance(60_000);
      c.send({ realtimeInput: { video: { mimeType: 'image/jpeg', data: Buffer.from('not really a jpeg').toString('base64') } } });
      await new Promise((r) => setTimeout(r, 20));
      await clock.advance(10_000); // 70 s connected: the goAway is due at once (50 s left)
      const goAway = await c.waitFor((m) => m.goAway !== undefined);
      assert.equal(goAway.goAway.timeLeft, '50s');
      await clock.advance(50_000);
      assert.deepEqual(await c.waitClose(), { code: 1011, reason: 'Deadline expired before operation could complete.' });
    } finally {
      await server.close();
    }
  });

  test('contextWindowCompression lifts the session cap', async () => {
    const clock = new ManualClock(Date.now());
    const server = await startServer({ keepaliveIntervalMs: 0, clock, lifetimes: { connectionMs: 3_600_000 } });
    try {
      const c = await open(server.url, { contextWindowCompression: { slidingWindow: {} } });
      await clock.advance(59 * 60_000);
      assert.ok(!c.inbox.messages.some((m) => m.goAway));
      assert.equal(c.inbox.closed, undefined);
      c.session.close();
      await c.inbox.waitClose();
    } finally {
      await server.close();
    }
  });
});

describe('drain', () => {
  test('goAway to every connection, new ones refused with 503, closed at the deadline, sessions resumable after', async () => {
    const clock = new ManualClock(Date.now());
    const server = await startServer({ keepaliveIntervalMs: 0, clock });
    const c = await open(server.url, { contextWindowCompression: { slidingWindow: {} } });
    const drained = server.server.drain(10_000);
    const goAway = await c.inbox.waitFor((m) => m.goAway !== undefined);
    assert.equal(goAway.goAway!.timeLeft, '10s');
    const refused = await fetch(`${server.url}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`, {
      headers: { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    }).catch((err: Error) => err);
    assert.ok(refused instanceof Error || refused.status === 503);
    // The health check tells a load balancer to send new connections elsewhere.
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 503);
    assert.equal(((await health.json()) as { status: string }).status, 'draining');
    await clock.advance(10_000);
    assert.deepEqual(await c.inbox.waitClose(), { code: 1008, reason: 'The operation was aborted.' });
    await drained;
  });
});

describe('handle expiry', () => {
  test('sessions whose handles expired are deleted from the store by a periodic sweep', async () => {
    const clock = new ManualClock(Date.now());
    const server = await startServer({ keepaliveIntervalMs: 0, clock });
    try {
      const c = await open(server.url, { contextWindowCompression: { slidingWindow: {} } });
      const id = c.inbox.messages[0]!.setupComplete!.sessionId!;
      c.session.close();
      await c.inbox.waitClose();
      await clock.advance(60 * 60_000);
      assert.equal((await fetch(`${server.url}/relive/v1/sessions/${id}`)).status, 200, 'kept while its handles are valid');
      await clock.advance(70 * 60_000);
      // The sweep's delete is store I/O after the timer fired: wait for it, do not guess its length.
      await waitFor(async () => (await fetch(`${server.url}/relive/v1/sessions/${id}`)).status === 404, 'the sweep to delete the session');
    } finally {
      await server.close();
    }
  });
});
