/**
 * Session resumption (PROTOCOL.md §5.3–5.4): handles after setupComplete and every turnComplete,
 * resume restores the checkpoint, takeover, transparent indices, and every refusal.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality, type LiveServerMessage } from '@google/genai';
import { ManualClock } from '../../src/session/clock.js';
import { RawClient, TEXT_SETUP } from '../helpers/raw-client.js';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';

async function connect(server: TestServer, handle?: string, apiKey = 'test-key', config: Record<string, unknown> = {}) {
  const inbox = new Inbox();
  const session = await sdk(server.url, 'v1beta', apiKey).live.connect({
    model: MODEL,
    config: { responseModalities: [Modality.TEXT], sessionResumption: handle ? { handle } : {}, ...config },
    callbacks: inbox.callbacks,
  });
  return { inbox, session };
}

const handleOf = (m: LiveServerMessage) => m.sessionResumptionUpdate?.newHandle;

async function latestHandle(inbox: Inbox, from = 0): Promise<string> {
  await inbox.waitFor((m) => handleOf(m) !== undefined, from);
  const updates = inbox.messages.filter((m) => handleOf(m));
  return handleOf(updates[updates.length - 1]!)!;
}

async function turn(c: { inbox: Inbox; session: { sendClientContent(p: { turns: string }): void } }, text: string): Promise<string> {
  const mark = c.inbox.messages.length;
  c.session.sendClientContent({ turns: text });
  await c.inbox.turnComplete(mark);
  // The handle of the checkpoint after this turn follows its turnComplete.
  return latestHandle(c.inbox, mark);
}

async function contextOf(server: TestServer, id: string): Promise<string[]> {
  const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as { context: { role: string; parts: { text?: string }[] }[] };
  return detail.context.map((t) => `${t.role}: ${t.parts.map((p) => p.text ?? '').join('')}`);
}

describe('resumption handles', () => {
  test('the Gemini docs resumption example: get a handle, disconnect, reconnect with it, the conversation continues', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const first = await connect(server);
      const id = first.inbox.messages[0]!.setupComplete!.sessionId!;
      assert.ok(first.inbox.messages[1]?.sessionResumptionUpdate?.resumable, 'an update right after setupComplete');
      const handle = await turn(first, 'Hello world!');
      first.session.close();
      await first.inbox.waitClose();

      const second = await connect(server, handle);
      assert.equal(second.inbox.messages[0]!.setupComplete!.sessionId, id, 'the same session');
      await turn(second, 'Do you remember me?');
      assert.deepEqual(await contextOf(server, id), [
        'user: Hello world!',
        'model: Hello! This is relive, the Gemini Live emulator. You said: Hello world!',
        'user: Do you remember me?',
        'model: You said: Do you remember me?',
      ]);
      second.session.close();
      await second.inbox.waitClose();
    } finally {
      await server.close();
    }
  });

  test('updates carry newHandle and resumable only: no index without transparent mode', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const c = await connect(server);
      await turn(c, 'one');
      for (const m of c.inbox.messages.filter((x) => x.sessionResumptionUpdate)) {
        assert.deepEqual(Object.keys(m.sessionResumptionUpdate!).sort(), ['newHandle', 'resumable']);
      }
      c.session.close();
      await c.inbox.waitClose();
    } finally {
      await server.close();
    }
  });

  test('no updates are sent when setup did not ask for resumption', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const inbox = new Inbox();
      const session = await sdk(server.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
      session.sendClientContent({ turns: 'hi' });
      await inbox.turnComplete();
      assert.ok(inbox.messages.every((m) => !m.sessionResumptionUpdate));
      session.close();
      await inbox.waitClose();
    } finally {
      await server.close();
    }
  });

  test('an older handle resumes its own checkpoint: later turns are gone', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const c = await connect(server);
      const id = c.inbox.messages[0]!.setupComplete!.sessionId!;
      const afterOne = await turn(c, 'one');
      await turn(c, 'two');
      c.session.close();
      await c.inbox.waitClose();
      const r = await connect(server, afterOne);
      assert.deepEqual(await contextOf(server, id), ['user: one', 'model: You said: one']);
      r.session.close();
      await r.inbox.waitClose();
    } finally {
      await server.close();
    }
  });

  test('a handle of a checkpoint discarded by a rewind never comes to name another state', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const c = await connect(server);
      const afterOne = await turn(c, 'one');
      const afterTwo = await turn(c, 'two');
      c.session.close();
      await c.inbox.waitClose();
      const r = await connect(server, afterOne);
      await turn(r, 'different');
      r.session.close();
      await r.inbox.waitClose();
      await assert.rejects(connect(server, afterTwo), (err: Error) => err.message.includes('BidiGenerateContent session not found'));
    } finally {
      await server.close();
    }
  });

  test('refusals: forged, garbled, another principal, expired → 1008 session not found; another model → 1007', async () => {
    const clock = new ManualClock(Date.now());
    const server = await startServer({ keepaliveIntervalMs: 0, clock });
    try {
      const c = await connect(server, undefined, 'alice');
      const handle = await turn(c, 'secret stuff');
      c.session.close();
      await c.inbox.waitClose();
      const notFound = { code: 1008, reason: 'BidiGenerateContent session not found' };

      const forged = Buffer.from(Buffer.from(handle, 'base64url').toString().replace(/\.[\w-]+$/, '.' + 'A'.repeat(43))).toString('base64url');
      for (const [h, key] of [
        [forged, 'alice'],
        ['garbage-handle', 'alice'],
        [handle, 'mallory'],
      ] as const) {
        await assert.rejects(connect(server, h, key), (err: Error) => err.message.includes('1008') && err.message.includes(notFound.reason));
      }
      const otherModel = new Inbox();
      await assert.rejects(
        sdk(server.url, 'v1beta', 'alice').live.connect({ model: 'gemini-2.0-flash-live-001', config: { sessionResumption: { handle } }, callbacks: otherModel.callbacks }),
        (err: Error) => err.message.includes('1007'),
      );
      // Valid for 2 hours after the last connection ended, not a minute more.
      await clock.advance(2 * 60 * 60 * 1000 - 1000);
      const stillValid = await connect(server, handle, 'alice');
      stillValid.session.close();
      await stillValid.inbox.waitClose();
      await clock.advance(2 * 60 * 60 * 1000 + 1000);
      await assert.rejects(connect(server, handle, 'alice'), (err: Error) => err.message.includes(notFound.reason));
    } finally {
      await server.close();
    }
  });

  test('configuration may change on resume, except the model', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const c = await connect(server);
      const id = c.inbox.messages[0]!.setupComplete!.sessionId!;
      const handle = await turn(c, 'first');
      c.session.close();
      await c.inbox.waitClose();
      const r = await connect(server, handle, 'test-key', { systemInstruction: 'Be terse.', temperature: 0.2 });
      const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as { config: { systemInstruction: unknown; generationConfig: { temperature: number } } };
      assert.deepEqual(detail.config.systemInstruction, { parts: [{ text: 'Be terse.' }], role: 'user' });
      assert.equal(detail.config.generationConfig.temperature, 0.2);
      r.session.close();
      await r.inbox.waitClose();
    } finally {
      await server.close();
    }
  });
});

describe('resume while another connection holds the session', () => {
  test('default takeover: the new connection gets the session, the old one is closed 1008', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const old = await connect(server);
      const id = old.inbox.messages[0]!.setupComplete!.sessionId!;
      const handle = await turn(old, 'before the network died');
      const fresh = await connect(server, handle);
      assert.deepEqual(await old.inbox.waitClose(), { code: 1008, reason: 'Session resumed on another connection.' });
      await turn(fresh, 'after');
      assert.deepEqual(await contextOf(server, id), [
        'user: before the network died',
        'model: You said: before the network died',
        'user: after',
        'model: You said: after',
      ]);
      fresh.session.close();
      await fresh.inbox.waitClose();
    } finally {
      await server.close();
    }
  });

  test('strict mode rejects the new connection with 1011, as the real service does', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0, strict: true, unknownModels: 'accept', extraModels: [`models/${MODEL}`] });
    try {
      const old = await connect(server);
      const handle = await turn(old, 'hello');
      await assert.rejects(connect(server, handle), (err: Error) => err.message.includes('1011') && err.message.includes('Internal error occurred.'));
      assert.equal(old.inbox.closed, undefined, 'the holder keeps its session');
      old.session.close();
      await old.inbox.waitClose();
    } finally {
      await server.close();
    }
  });
});

describe('transparent mode', () => {
  const transparentSetup = { setup: { ...TEXT_SETUP.setup, sessionResumption: { transparent: true } } };

  test('every update carries lastConsumedClientMessageIndex: setup is 0, the first message after it 1', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const c = await RawClient.connect(server.url, transparentSetup);
      const first = await c.waitFor((m) => m.sessionResumptionUpdate !== undefined);
      assert.equal(first.sessionResumptionUpdate.lastConsumedClientMessageIndex, undefined, 'index 0 is a default and omitted');
      c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'prefill' }] }], turnComplete: false } }); // 1
      c.send({ type: 'session.update' }); // 2: ignored, still counted
      c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'go' }] }], turnComplete: true } }); // 3
      const mark = c.messages.length;
      await c.waitFor((m) => m.serverContent?.turnComplete === true, 3000, mark);
      const update = await c.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined, 3000, mark);
      assert.equal(update.sessionResumptionUpdate.lastConsumedClientMessageIndex, '3');
      await c.dispose();
    } finally {
      await server.close();
    }
  });

  test('resume plus replay of the messages after the index gives exactly the uninterrupted session', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const c = await RawClient.connect(server.url, transparentSetup);
      const id = c.messages[0]!.setupComplete.sessionId as string;
      const sent: unknown[] = [];
      const send = (m: unknown) => {
        sent.push(m);
        c.send(m);
      };
      send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'one' }] }], turnComplete: true } });
      await c.waitFor((m) => m.sessionResumptionUpdate?.lastConsumedClientMessageIndex === '1');
      // Sent after the last handle: these must be replayed.
      send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'two (prefill)' }] }], turnComplete: false } });
      send({ contextUpdate: { systemInstruction: { parts: [{ text: 'Be brief.' }] } } });
      const updates = c.messages.filter((m) => m.sessionResumptionUpdate?.newHandle);
      const last = updates[updates.length - 1]!.sessionResumptionUpdate;
      c.ws.terminate(); // the network dies

      const r = await RawClient.connect(server.url, { setup: { ...TEXT_SETUP.setup, sessionResumption: { handle: last.newHandle, transparent: true } } });
      for (const m of sent.slice(Number(last.lastConsumedClientMessageIndex))) r.send(m);
      r.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'three' }] }], turnComplete: true } });
      await r.waitFor((m) => m.serverContent?.turnComplete === true);
      assert.deepEqual(await contextOf(server, id), [
        'user: one',
        'model: You said: one',
        'user: two (prefill)',
        'user: three',
        'model: You said: three',
      ]);
      const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as { config: { systemInstruction: unknown } };
      assert.deepEqual(detail.config.systemInstruction, { parts: [{ text: 'Be brief.' }] });
      await r.dispose();
    } finally {
      await server.close();
    }
  });

  test('a barge-in turn is never half in a checkpoint: the interrupting message is replayed, not lost', async () => {
    const server = await startServer({
      keepaliveIntervalMs: 0,
      scenario: { fallback: 'builtin', rules: [{ match: { text: 'long' }, reply: [{ text: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 30 }] }] },
    });
    try {
      const c = await RawClient.connect(server.url, transparentSetup);
      const id = c.messages[0]!.setupComplete.sessionId as string;
      c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'something long' }] }], turnComplete: true } }); // 1
      await c.waitFor((m) => m.serverContent?.modelTurn !== undefined);
      c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'interrupting' }] }], turnComplete: true } }); // 2
      await c.waitFor((m) => m.serverContent?.interrupted === true);
      // The update after the interrupted turn comes once message 2 is applied: it is not resumable then ({}).
      const afterInterrupt = await c.waitFor((m) => m.sessionResumptionUpdate !== undefined && c.messages.indexOf(m) > 2);
      assert.deepEqual(afterInterrupt.sessionResumptionUpdate, {});
      const done = await c.waitFor((m) => m.sessionResumptionUpdate?.lastConsumedClientMessageIndex === '2');
      assert.ok(done.sessionResumptionUpdate.newHandle);
      const ctx = await contextOf(server, id);
      assert.equal(ctx.filter((t) => t === 'user: interrupting').length, 1);
      await c.dispose();
    } finally {
      await server.close();
    }
  });
});
