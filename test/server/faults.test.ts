/** Fault injection (issue #5 item 2, first actions): rules set through /relive/v1/faults. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { FaultInjector } from '../../src/server/faults.js';
import { principalOf } from '../../src/session/handles.js';
import { RawClient, upgradeStatus } from '../helpers/raw-client.js';
import { Inbox, sdk, startServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';
const addFault = (url: string, rule: unknown) =>
  fetch(`${url}/relive/v1/faults`, { method: 'POST', body: JSON.stringify(rule) });

async function open(url: string, config: Record<string, unknown> = {}) {
  const inbox = new Inbox();
  const session = await sdk(url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], ...config }, callbacks: inbox.callbacks });
  return { inbox, session };
}

describe('fault rules', () => {
  test('match on message type and turn, fire count times, then are gone', () => {
    const f = new FaultInjector();
    f.add({ match: { messageType: 'clientContent', turn: 2 }, count: 1, action: { type: 'drop' } });
    assert.equal(f.strike('message', { messageType: 'clientContent', turn: 1 }), undefined);
    assert.deepEqual(f.strike('message', { messageType: 'clientContent', turn: 2 }), { type: 'drop' });
    assert.equal(f.strike('message', { messageType: 'clientContent', turn: 2 }), undefined);
    assert.equal(f.list().length, 0);
  });

  test('match a key through its hash, and honour the probability', () => {
    let dice = 0.9;
    const f = new FaultInjector(() => dice);
    f.add({ match: { key: 'alice' }, probability: 0.5, action: { type: 'close', name: 'unavailable' } });
    assert.equal(f.strike('message', { principal: principalOf('alice') }), undefined, '0.9 ≥ 0.5: not this time');
    dice = 0.1;
    assert.equal(f.strike('message', { principal: principalOf('bob') }), undefined);
    assert.equal(f.strike('message', { principal: principalOf('alice') })?.type, 'close');
  });

  test('refuse unknown actions and fields', () => {
    const f = new FaultInjector();
    assert.throws(() => f.add({ action: { type: 'explode' } }));
    assert.throws(() => f.add({ match: { colour: 'red' }, action: { type: 'drop' } }));
  });
});

describe('faults through the control API', () => {
  test('close with a catalogue name on the second turn: the SDK sees the real code and reason', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const res = await addFault(server.url, { match: { messageType: 'clientContent', turn: 2 }, count: 1, action: { type: 'close', name: 'deadlineExpired' } });
      assert.equal(res.status, 200);
      const c = await open(server.url);
      c.session.sendClientContent({ turns: 'one' });
      await c.inbox.turnComplete();
      c.session.sendClientContent({ turns: 'two' });
      assert.deepEqual(await c.inbox.waitClose(), { code: 1011, reason: 'Deadline expired before operation could complete.' });
      assert.deepEqual(((await (await fetch(`${server.url}/relive/v1/faults`)).json()) as { faults: unknown[] }).faults, [], 'spent');
    } finally {
      await server.close();
    }
  });

  test('goAway now, then the close at its deadline', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      await addFault(server.url, { match: { messageType: 'realtimeInput' }, action: { type: 'goAway', timeLeft: '0.2s' } });
      const c = await open(server.url);
      c.session.sendRealtimeInput({ text: 'hi' });
      assert.equal((await c.inbox.waitFor((m) => m.goAway !== undefined)).goAway!.timeLeft, '0.2s');
      assert.deepEqual(await c.inbox.waitClose(), { code: 1008, reason: 'The operation was aborted.' });
    } finally {
      await server.close();
    }
  });

  test('drop: the TCP connection goes without a close frame (1006)', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      await addFault(server.url, { match: { messageType: 'clientContent' }, action: { type: 'drop' } });
      const c = await RawClient.connect(server.url);
      c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'x' }] }], turnComplete: true } });
      assert.equal((await c.waitClose()).code, 1006);
    } finally {
      await server.close();
    }
  });

  test('rejectUpgrade: HTTP 429 at the upgrade, for the matching key only', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      await addFault(server.url, { match: { key: 'over-quota' }, action: { type: 'rejectUpgrade' } });
      assert.equal(await upgradeStatus(server.url, { query: 'key=over-quota' }), 429);
      const ok = await RawClient.connect(server.url, undefined, { query: 'key=fine' });
      await ok.dispose();
    } finally {
      await server.close();
    }
  });

  test('refuseResume: the next resume gets 1008 session not found, the one after works', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const c = await open(server.url, { sessionResumption: {} });
      const handle = c.inbox.messages[1]!.sessionResumptionUpdate!.newHandle!;
      c.session.close();
      await c.inbox.waitClose();
      await addFault(server.url, { count: 1, action: { type: 'refuseResume' } });
      await assert.rejects(open(server.url, { sessionResumption: { handle } }), (err: Error) => err.message.includes('BidiGenerateContent session not found'));
      const r = await open(server.url, { sessionResumption: { handle } });
      r.session.close();
      await r.inbox.waitClose();
    } finally {
      await server.close();
    }
  });

  test('GET lists, DELETE removes one or all, a bad rule is refused with 400', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const added = (await (await addFault(server.url, { id: 'a', action: { type: 'drop' } })).json()) as { faults: { id: string }[] };
      assert.equal(added.faults[0]!.id, 'a');
      await addFault(server.url, [{ action: { type: 'drop' } }, { action: { type: 'refuseResume' } }]);
      assert.equal(((await (await fetch(`${server.url}/relive/v1/faults`)).json()) as { faults: unknown[] }).faults.length, 3);
      assert.equal((await fetch(`${server.url}/relive/v1/faults/a`, { method: 'DELETE' })).status, 200);
      assert.equal((await fetch(`${server.url}/relive/v1/faults/a`, { method: 'DELETE' })).status, 404);
      assert.deepEqual(await (await fetch(`${server.url}/relive/v1/faults`, { method: 'DELETE' })).json(), { removed: 2 });
      assert.equal((await addFault(server.url, { action: { type: 'explode' } })).status, 400);
    } finally {
      await server.close();
    }
  });
});
