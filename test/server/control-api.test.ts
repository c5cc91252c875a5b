import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { ManualClock } from '../../src/session/clock.js';
import { Inbox, sdk, startServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';

async function openSession(url: string) {
  const inbox = new Inbox();
  const session = await sdk(url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
  const id = inbox.messages[0]!.setupComplete!.sessionId!;
  return { inbox, session, id };
}

describe('control API', () => {
  test('GET /healthz answers ok with the number of live sessions', async () => {
    const s = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const { session, inbox } = await openSession(s.url);
      const body = (await (await fetch(`${s.url}/healthz`)).json()) as { status: string; sessions: number };
      assert.deepEqual([body.status, body.sessions], ['ok', 1]);
      session.close();
      await inbox.waitClose();
    } finally {
      await s.close();
    }
  });

  test('lists sessions and shows one with its config, context turns, status and connection', async () => {
    const s = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const { session, inbox, id } = await openSession(s.url);
      session.sendClientContent({ turns: 'Hello world!' });
      await inbox.turnComplete();
      const list = (await (await fetch(`${s.url}/relive/v1/sessions`)).json()) as { sessions: { id: string; turns: number; connected: boolean }[] };
      const entry = list.sessions.find((x) => x.id === id);
      assert.ok(entry);
      assert.equal(entry.turns, 1);
      assert.equal(entry.connected, true);
      const detail = (await (await fetch(`${s.url}/relive/v1/sessions/${id}`)).json()) as {
        status: string;
        config: { model: string };
        context: { role: string; parts: { kind: string; text?: string }[] }[];
        connections: { apiVersion: string }[];
      };
      assert.equal(detail.status, 'idle');
      assert.equal(detail.config.model, `models/${MODEL}`);
      assert.deepEqual(detail.context[0], { role: 'user', parts: [{ kind: 'text', text: 'Hello world!' }] });
      assert.equal(detail.context[1]!.role, 'model');
      assert.equal(detail.connections[0]!.apiVersion, 'v1beta');
      session.close();
      await inbox.waitClose();
      const ended = (await (await fetch(`${s.url}/relive/v1/sessions/${id}`)).json()) as { status: string; connected: boolean };
      assert.deepEqual([ended.status, ended.connected], ['detached', false]);
    } finally {
      await s.close();
    }
  });

  test(':goAway sends goAway with timeLeft, serves until the deadline, then closes 1008', async () => {
    const clock = new ManualClock();
    const s = await startServer({ keepaliveIntervalMs: 0, clock });
    try {
      const { session, inbox, id } = await openSession(s.url);
      const res = await fetch(`${s.url}/relive/v1/sessions/${id}:goAway`, { method: 'POST', body: JSON.stringify({ timeLeft: '10s' }) });
      assert.equal(res.status, 200);
      const goAway = await inbox.waitFor((m) => m.goAway !== undefined);
      assert.equal(goAway.goAway!.timeLeft, '10s');
      // Still served before the deadline.
      await clock.advance(9_000);
      const mark = inbox.messages.length;
      session.sendClientContent({ turns: 'still there?' });
      await inbox.turnComplete(mark);
      await clock.advance(1_000);
      assert.deepEqual(await inbox.waitClose(), { code: 1008, reason: 'The operation was aborted.' });
    } finally {
      await s.close();
    }
  });

  test(':goAway without timeLeft gives the server\'s own goAway notice, not the built-in 50 s', async () => {
    const s = await startServer({ keepaliveIntervalMs: 0, lifetimes: { goAwayNoticeMs: 5_000 } });
    try {
      const { session, inbox, id } = await openSession(s.url);
      const res = await fetch(`${s.url}/relive/v1/sessions/${id}:goAway`, { method: 'POST' });
      assert.deepEqual(await res.json(), { ok: true, timeLeftMs: 5_000 });
      const goAway = await inbox.waitFor((m) => m.goAway !== undefined);
      assert.equal(goAway.goAway!.timeLeft, '5s');
      session.close();
      await inbox.waitClose();
    } finally {
      await s.close();
    }
  });

  test(':close closes the connection with the given code and reason', async () => {
    const s = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const { inbox, id } = await openSession(s.url);
      const res = await fetch(`${s.url}/relive/v1/sessions/${id}:close`, {
        method: 'POST',
        body: JSON.stringify({ code: 1011, reason: 'Internal error occurred.' }),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await inbox.waitClose(), { code: 1011, reason: 'Internal error occurred.' });
      const again = await fetch(`${s.url}/relive/v1/sessions/${id}:close`, { method: 'POST', body: '{"code":1000}' });
      assert.equal(again.status, 409);
    } finally {
      await s.close();
    }
  });

  test('refuses bad requests: unknown session 404, bad body 400, reserved close code 400', async () => {
    const s = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const { inbox, session, id } = await openSession(s.url);
      assert.equal((await fetch(`${s.url}/relive/v1/sessions/nope`)).status, 404);
      assert.equal((await fetch(`${s.url}/relive/v1/sessions/${id}:goAway`, { method: 'POST', body: '{' })).status, 400);
      assert.equal((await fetch(`${s.url}/relive/v1/sessions/${id}:goAway`, { method: 'POST', body: '{"timeLeft":"soon"}' })).status, 400);
      assert.equal((await fetch(`${s.url}/relive/v1/sessions/${id}:close`, { method: 'POST', body: '{"code":1006}' })).status, 400);
      assert.equal((await fetch(`${s.url}/relive/v1/sessions/${id}`, { method: 'PUT' })).status, 405);
      session.close();
      await inbox.waitClose();
    } finally {
      await s.close();
    }
  });

  test('with an admin token, /relive/v1 requires it and /healthz stays open', async () => {
    const s = await startServer({ keepaliveIntervalMs: 0, adminToken: 'sekret' });
    try {
      assert.equal((await fetch(`${s.url}/relive/v1/sessions`)).status, 401);
      assert.equal((await fetch(`${s.url}/relive/v1/sessions`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await fetch(`${s.url}/relive/v1/sessions`, { headers: { authorization: 'Bearer sekret' } })).status, 200);
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    } finally {
      await s.close();
    }
  });
});
