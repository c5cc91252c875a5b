/** Fault injection (issue #5 item 2, first actions): rules set through /relive/v1/faults. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { FaultInjector } from '../../src/server/faults.js';
import { principalOf } from '../../src/session/handles.js';
import { ManualClock } from '../../src/session/clock.js';
import { RawClient, TEXT_SETUP, upgradeStatus } from '../helpers/raw-client.js';
import { Inbox, sdk, startServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';
const MODEL_AUDIO = 'models/gemini-2.5-flash-native-audio-preview-09-2025';
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
      // A list with one bad rule adds none, and the error names the rule, the field and what is allowed.
      const bad = await addFault(server.url, [{ action: { type: 'drop' } }, { action: { type: 'clos' } }]);
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /^\[1\]\.action\.type: "clos" is not allowed; expected one of goAway, close, drop/);
      assert.deepEqual(((await (await fetch(`${server.url}/relive/v1/faults`)).json()) as { faults: unknown[] }).faults, []);
    } finally {
      await server.close();
    }
  });
});

describe('message-level faults', () => {
  const isContent = (m: Record<string, any>) => m.serverContent?.modelTurn !== undefined;
  const isTurnComplete = (m: Record<string, any>) => m.serverContent?.turnComplete === true;

  test('delay (turn scope): the turn waits on the server clock, in order; the next turn is not delayed', async () => {
    const clock = new ManualClock(0);
    const server = await startServer({ keepaliveIntervalMs: 0, clock });
    try {
      await addFault(server.url, { match: { messageType: 'clientContent', turn: 1 }, count: 1, action: { type: 'delay', ms: 1000, jitterMs: 500 } });
      const c = await RawClient.connect(server.url);
      const witness = await RawClient.connect(server.url);
      c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'one two three four five six seven eight nine' }] }], turnComplete: true } });
      assert.equal(await witness.turn('still fine?'), 'You said: still fine?', 'another session is not delayed');
      assert.ok(await c.staysOpen(150));
      assert.equal(c.messages.length, 1, 'only setupComplete: the reply is held back');
      clock.advance(999);
      assert.ok(await c.staysOpen(50));
      assert.equal(c.messages.length, 1, 'not before 1 s');
      clock.advance(501);
      await c.waitFor(isTurnComplete);
      const kinds = c.messages.slice(1).map((m) => Object.keys(m.serverContent ?? m)[0]);
      assert.deepEqual(kinds, ['modelTurn', 'modelTurn', 'modelTurn', 'generationComplete', 'turnComplete'], 'in order, all of them');
      assert.equal(c.textFrom(1), 'You said: one two three four five six seven eight nine');
      assert.equal(await c.turn('again'), 'You said: again', 'turn 2 is not delayed: the clock never moved');
      await Promise.all([c.dispose(), witness.dispose()]);
    } finally {
      await server.close();
    }
  });

  test('delay (connection scope) with jitter: every message later, none reordered, through the SDK', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      await addFault(server.url, { match: { messageType: 'setup' }, count: 1, action: { type: 'delay', ms: 60, jitterMs: 40, scope: 'connection' } });
      const started = Date.now();
      const c = await open(server.url);
      assert.ok(Date.now() - started >= 55, 'setupComplete itself was held back');
      for (const text of ['first turn here', 'second turn here']) {
        const from = c.inbox.messages.length;
        const sent = Date.now();
        c.session.sendClientContent({ turns: text });
        await c.inbox.turnComplete(from);
        assert.ok(Date.now() - sent >= 55, 'each turn is delayed');
        assert.equal(c.inbox.text(from), `You said: ${text}`, 'chunks in order');
      }
      c.session.close();
      await c.inbox.waitClose();
    } finally {
      await server.close();
    }
  });

  test('prematureTurnComplete: turnComplete after N chunks, no generationComplete; history keeps only what was sent', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0, sessionIdInSetupComplete: true });
    try {
      await addFault(server.url, { match: { turn: 1 }, count: 1, action: { type: 'prematureTurnComplete', afterChunks: 2 } });
      const c = await RawClient.connect(server.url);
      const id = c.messages[0]!.setupComplete.sessionId as string;
      const text = await c.turn('alpha beta gamma delta epsilon zeta eta theta iota kappa');
      assert.equal(text, 'You said: alpha beta gamma delta epsilon zeta ', 'cut mid-sentence after two chunks');
      const turn = c.messages.slice(1);
      assert.equal(turn.filter(isContent).length, 2);
      assert.equal(turn.some((m) => m.serverContent?.generationComplete), false, 'a premature end has no generationComplete');
      assert.ok(turn.find(isTurnComplete)!.usageMetadata.responseTokenCount > 0);
      assert.equal(await c.turn('next'), 'You said: next', 'the turn after is whole');
      const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as { context: { role: string; parts: { text?: string }[] }[] };
      assert.equal(detail.context[1]!.parts[0]!.text, 'You said: alpha beta gamma delta epsilon zeta ', 'the history is what the client got');
      await c.dispose();
    } finally {
      await server.close();
    }
  });

  test('emptyTurnComplete: a bare turnComplete, no content; with the SDK', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      await addFault(server.url, { match: { messageType: 'clientContent' }, count: 1, action: { type: 'emptyTurnComplete' } });
      const c = await open(server.url);
      c.session.sendClientContent({ turns: 'hello there' });
      await c.inbox.turnComplete(1);
      assert.deepEqual(
        c.inbox.messages.slice(1).map((m) => Object.keys(m.serverContent ?? {})),
        [['turnComplete']],
        'nothing but turnComplete',
      );
      const from = c.inbox.messages.length;
      c.session.sendClientContent({ turns: 'and now?' });
      await c.inbox.turnComplete(from);
      assert.equal(c.inbox.text(from), 'You said: and now?');
      c.session.close();
      await c.inbox.waitClose();
    } finally {
      await server.close();
    }
  });

  test('in AUDIO: an empty turn has no chunk and no transcript; a premature one stops after N chunks', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0, sessionIdInSetupComplete: true });
    try {
      await addFault(server.url, { count: 1, match: { messageType: 'realtimeInput', turn: 1 }, action: { type: 'emptyTurnComplete' } });
      await addFault(server.url, { count: 1, match: { messageType: 'realtimeInput', turn: 2 }, action: { type: 'prematureTurnComplete', afterChunks: 3 } });
      const c = await RawClient.connect(server.url, { setup: { model: MODEL_AUDIO, generationConfig: { responseModalities: ['AUDIO'] }, outputAudioTranscription: {} } });
      c.send({ realtimeInput: { text: 'say something' } });
      await c.waitFor(isTurnComplete, 10_000);
      assert.deepEqual(c.messages.slice(1).map((m) => Object.keys(m.serverContent ?? m)), [['turnComplete']]);
      const from = c.messages.length;
      c.send({ realtimeInput: { text: 'now say something rather long, so that it takes a few seconds to speak' } });
      await c.waitFor(isTurnComplete, 10_000, from);
      const turn = c.messages.slice(from);
      assert.equal(turn.filter(isContent).length, 3, 'three 100 ms chunks, then the end');
      assert.equal(turn.some((m) => m.serverContent?.generationComplete), false);
      const id = c.messages[0]!.setupComplete.sessionId as string;
      const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as { context: { role: string; parts: { seconds?: number }[] }[] };
      const spoken = detail.context.filter((t) => t.role === 'model').map((t) => t.parts[0]!.seconds);
      assert.deepEqual(spoken.map((s) => Math.round(s! * 10) / 10), [0.3], 'the empty turn left nothing; the cut one 0.3 s');
      await c.dispose();
    } finally {
      await server.close();
    }
  });

  test('poisonHandle: the resume succeeds and no reply ever comes; the next resume works', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const first = await open(server.url, { sessionResumption: {} });
      first.session.sendClientContent({ turns: 'remember me' });
      await first.inbox.turnComplete(1);
      const handle = (await first.inbox.waitFor((m) => m.sessionResumptionUpdate?.resumable === true, 3)).sessionResumptionUpdate!.newHandle!;
      first.session.close();
      await first.inbox.waitClose();

      await addFault(server.url, { count: 1, action: { type: 'poisonHandle' } });
      const poisoned = await open(server.url, { sessionResumption: { handle } });
      assert.ok(poisoned.inbox.messages[0]!.setupComplete, 'the resume itself succeeds');
      const from = poisoned.inbox.messages.length;
      poisoned.session.sendClientContent({ turns: 'hello?' });
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(poisoned.inbox.messages.slice(from), [], 'wedged: nothing at all comes back');
      assert.equal(poisoned.inbox.closed, undefined, 'and the socket stays open');
      poisoned.session.close();
      await poisoned.inbox.waitClose();

      // The client's watchdog gives up and resumes again with its last good handle.
      const healed = await open(server.url, { sessionResumption: { handle } });
      const at = healed.inbox.messages.length;
      healed.session.sendClientContent({ turns: 'are you back' });
      await healed.inbox.turnComplete(at);
      assert.equal(healed.inbox.text(at), 'You said: are you back');
      healed.session.close();
      await healed.inbox.waitClose();
    } finally {
      await server.close();
    }
  });

  test('dropHistoryOnResume: the resumed session has no context (promptTokenCount), turns and handles go on', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const first = await open(server.url, { sessionResumption: {} });
      for (const text of ['my name is Ada and I live in a lighthouse', 'the lighthouse stands on a cliff by the sea']) {
        const mark = first.inbox.messages.length;
        first.session.sendClientContent({ turns: text });
        await first.inbox.turnComplete(mark);
        await first.inbox.waitFor((m) => m.sessionResumptionUpdate?.resumable === true, mark);
      }
      const handle = first.inbox.messages.findLast((m) => m.sessionResumptionUpdate?.resumable)!.sessionResumptionUpdate!.newHandle!;
      first.session.close();
      await first.inbox.waitClose();

      // The same next turn on a healthy resume and on one that lost its history.
      const promptTokensAfterResume = async () => {
        const c = await open(server.url, { sessionResumption: { handle } });
        const at = c.inbox.messages.length;
        c.session.sendClientContent({ turns: 'and now?' });
        const done = await c.inbox.turnComplete(at);
        assert.equal(c.inbox.text(at), 'You said: and now?', 'the resume answers as usual');
        const next = await c.inbox.waitFor((m) => m.sessionResumptionUpdate?.resumable === true, at);
        assert.ok(next.sessionResumptionUpdate!.newHandle, 'and hands out a new handle');
        c.session.close();
        await c.inbox.waitClose();
        return done.usageMetadata!.promptTokenCount!;
      };
      const healthy = await promptTokensAfterResume();
      await addFault(server.url, { count: 1, action: { type: 'dropHistoryOnResume' } });
      const forgetful = await promptTokensAfterResume();
      assert.ok(forgetful < healthy / 2, `lost context: ${forgetful} prompt tokens against ${healthy}`);
      // The rule was spent: the handle resumes the whole history again.
      assert.equal(await promptTokensAfterResume(), healthy);
    } finally {
      await server.close();
    }
  });

  test('actions are refused at the wrong point: poisonHandle never fires on a message', () => {
    const f = new FaultInjector();
    f.add({ action: { type: 'poisonHandle' } });
    assert.equal(f.strike('message', { messageType: 'clientContent' }), undefined);
    assert.equal(f.strike('resume', { messageType: 'setup' })?.type, 'poisonHandle');
  });
});

describe('every fault through the other kind of client', () => {
  test('SDK: drop gives 1006, a 429 upgrade rejects connect(), a premature turn ends early', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      await addFault(server.url, { match: { key: 'over-quota' }, count: 1, action: { type: 'rejectUpgrade' } });
      const blocked = sdk(server.url, 'v1beta', 'over-quota').live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: new Inbox().callbacks });
      await assert.rejects(blocked, /429/);

      await addFault(server.url, { match: { turn: 1 }, count: 1, action: { type: 'prematureTurnComplete', afterChunks: 1 } });
      const c = await open(server.url);
      c.session.sendClientContent({ turns: 'one two three four five six seven eight' });
      await c.inbox.turnComplete(1);
      assert.equal(c.inbox.text(1), 'You said: one two ');
      assert.equal(c.inbox.messages.some((m) => m.serverContent?.generationComplete), false);

      await addFault(server.url, { match: { messageType: 'clientContent' }, count: 1, action: { type: 'drop' } });
      c.session.sendClientContent({ turns: 'and then' });
      assert.equal((await c.inbox.waitClose()).code, 1006);
    } finally {
      await server.close();
    }
  });

  test('raw: goAway and close strike on the matching message only', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      await addFault(server.url, { match: { messageType: 'toolResponse' }, action: { type: 'close', code: 1011, reason: 'Internal error encountered.' } });
      await addFault(server.url, { match: { messageType: 'realtimeInput' }, count: 1, action: { type: 'goAway', timeLeft: '5s' } });
      const c = await RawClient.connect(server.url);
      assert.equal(await c.turn('text turns are not matched'), 'You said: text turns are not matched');
      c.send({ realtimeInput: { text: 'realtime' } });
      assert.equal((await c.waitFor((m) => m.goAway !== undefined)).goAway.timeLeft, '5s');
      c.send({ toolResponse: { functionResponses: [{ id: 'x', name: 'f', response: {} }] } });
      assert.deepEqual(await c.waitClose(), { code: 1011, reason: 'Internal error encountered.' });
    } finally {
      await server.close();
    }
  });

  test('raw: refuseResume and poisonHandle on resumes, matched by session', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0, sessionIdInSetupComplete: true });
    try {
      const setup = { setup: { ...TEXT_SETUP.setup, sessionResumption: {} } };
      const a = await RawClient.connect(server.url, setup);
      const b = await RawClient.connect(server.url, setup);
      const handleOf = (c: RawClient) => c.messages[1]!.sessionResumptionUpdate.newHandle as string;
      const [ha, hb] = [handleOf(a), handleOf(b)];
      await addFault(server.url, { match: { session: a.messages[0]!.setupComplete.sessionId }, count: 1, action: { type: 'refuseResume' } });
      await addFault(server.url, { match: { session: b.messages[0]!.setupComplete.sessionId }, count: 1, action: { type: 'poisonHandle' } });
      await Promise.all([a.dispose(), b.dispose()]);

      const ra = await RawClient.open(server.url);
      ra.send({ setup: { ...TEXT_SETUP.setup, sessionResumption: { handle: ha } } });
      assert.deepEqual(await ra.waitClose(), { code: 1008, reason: 'BidiGenerateContent session not found' });

      const rb = await RawClient.connect(server.url, { setup: { ...TEXT_SETUP.setup, sessionResumption: { handle: hb } } });
      const from = rb.messages.length;
      rb.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'anyone?' }] }], turnComplete: true } });
      assert.ok(await rb.staysOpen(300));
      assert.deepEqual(rb.messages.slice(from), [], 'the poisoned session never answers');
      await rb.dispose();
    } finally {
      await server.close();
    }
  });
});
