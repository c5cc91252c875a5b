/** relive-gemini/client against a real relive server: rotation, reconnects, the fallback ladder, replay, persistence. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveServerMessage, Modality } from '@google/genai';
import { connectResilient, memoryHandleStore, type LifecycleEvent, type ResilientSession } from '../../src/client/index.js';
import { parseScenario } from '../../src/engine/scripted/scenario.js';
import { ManualClock } from '../../src/session/clock.js';
import { AppView } from '../helpers/app-view.js';
import { SlowCommits } from '../helpers/slow-commits.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const MODEL = 'gemini-live-2.5-flash-preview';

async function connect(server: TestServer, app: AppView, extra: Partial<Parameters<typeof connectResilient>[0]> = {}): Promise<ResilientSession> {
  return connectResilient({
    model: MODEL,
    config: { responseModalities: [Modality.TEXT] },
    callbacks: app.callbacks,
    apiKey: 'client-test',
    baseUrl: server.url,
    reconnect: { initialDelayMs: 5, maxDelayMs: 50 },
    ...extra,
  });
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', body: JSON.stringify(body) });

async function sessionContext(server: TestServer, id: string): Promise<{ role: string; parts: { text?: string; seconds?: number }[] }[]> {
  const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as { context: { role: string; parts: { text?: string; seconds?: number }[] }[] };
  return detail.context;
}

function sessionIdOf(app: AppView): string {
  return app.messages[0]!.setupComplete!.sessionId!;
}

describe('connectResilient', () => {
  test('shaped like live.connect: resolves at setupComplete, delivers LiveServerMessage objects', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    const app = new AppView();
    try {
      const session = await connect(server, app);
      assert.ok(app.messages[0] instanceof LiveServerMessage);
      assert.ok(app.messages[0]!.setupComplete);
      session.sendClientContent({ turns: 'Hello there, relive' });
      assert.equal(await app.turn(1), 'Hello! This is relive, the Gemini Live emulator. You said: Hello there, relive');
      assert.deepEqual(app.events.map((e) => e.type), ['connected']);
      session.close();
      await app.until(() => app.closed, 'close');
      assert.equal(app.closed!.class.kind, 'normal');
    } finally {
      await server.close();
    }
  });

  test('goAway: a new connection takes over at the turn boundary; the app never sees the goAway', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    const app = new AppView();
    try {
      const session = await connect(server, app);
      session.sendClientContent({ turns: 'first' });
      await app.turn(1);
      await post(`${server.url}/relive/v1/sessions/${sessionIdOf(app)}:goAway`, { timeLeft: '10s' });
      await app.until(() => app.events.find((e) => e.type === 'connected' && e.resumed), 'the resumed connection');
      session.sendClientContent({ turns: 'second' });
      assert.equal(await app.turn(2), 'You said: second');
      assert.equal(app.messages.some((m) => m.goAway), false);
      assert.equal(app.messages.filter((m) => m.setupComplete).length, 1, 'one setupComplete, as with one connection');
      assert.deepEqual(app.events.map((e) => e.type), ['connected', 'rotating', 'connected', 'stateRestored']);
      assert.deepEqual(
        (await sessionContext(server, sessionIdOf(app))).map((t) => t.parts[0]!.text),
        ['first', 'You said: first', 'second', 'You said: second'],
      );
      session.close();
    } finally {
      await server.close();
    }
  });

  test('a goAway mid-turn waits for turnComplete before switching', async () => {
    const server = await startServer({
      keepaliveIntervalMs: 0,
      scenario: parseScenario(JSON.stringify({ rules: [{ reply: [{ text: 'one two three four five six seven eight', chunkDelayMs: 40 }] }] }), 'json'),
    });
    const app = new AppView();
    try {
      const session = await connect(server, app);
      session.sendClientContent({ turns: 'go' });
      await app.until(() => app.messages.find((m) => m.serverContent?.modelTurn), 'the first chunk');
      await post(`${server.url}/relive/v1/sessions/${sessionIdOf(app)}:goAway`, { timeLeft: '20s' });
      await app.until(() => app.count('rotating') === 1, 'rotating');
      assert.equal(app.count('connected'), 1, 'no switch while the model is talking');
      assert.equal(await app.turn(1), 'one two three four five six seven eight', 'the turn arrives whole');
      await app.until(() => app.count('connected') === 2, 'the switch after the turn');
      session.close();
    } finally {
      await server.close();
    }
  });

  test('a goAway mid-turn also waits for the handle of that turn: the next input is not replayed onto its answer', async () => {
    // Commits of 50 ms (a slow disk): the resumption update comes well after turnComplete.
    const server = await startServer({
      keepaliveIntervalMs: 0,
      store: new SlowCommits(50),
      scenario: parseScenario(JSON.stringify({ rules: [{ reply: [{ text: 'Reply to {{input}}: one two three four five six', chunkDelayMs: 30 }] }] }), 'json'),
    });
    const app = new AppView();
    try {
      const session = await connect(server, app);
      session.sendClientContent({ turns: 'first' });
      await app.until(() => app.messages.find((m) => m.serverContent?.modelTurn), 'the first chunk');
      await post(`${server.url}/relive/v1/sessions/${sessionIdOf(app)}:goAway`, { timeLeft: '20s' });
      await app.turn(1);
      // The app answers the end of the turn at once, before its handle has come.
      await new Promise((r) => setTimeout(r, 5));
      session.sendClientContent({ turns: 'second' });
      assert.equal(await app.turn(2), 'Reply to second: one two three four five six');
      await app.until(() => app.count('connected') === 2, 'the switch');
      assert.equal(app.count('connected'), 2);
      session.close();
      await app.until(() => app.closed, 'closed');
      const context = await sessionContext(server, sessionIdOf(app));
      assert.deepEqual(
        context.map((t) => `${t.role}: ${t.parts.map((p) => p.text).join('')}`),
        ['user: first', 'model: Reply to first: one two three four five six', 'user: second', 'model: Reply to second: one two three four five six'],
      );
    } finally {
      await server.close();
    }
  });

  test('a goAway with less notice than the forced-switch margin, between a turnComplete and its handle, still waits for the handle', async () => {
    // Found by the gateway test across upstream lifetimes (1.5 s connections, 0.5 s notice): the
    // forced switch fired at once and resumed with the handle before the turn, so the server
    // answered that turn again and the app took the second answer for its next turn's reply.
    const server = await startServer({
      keepaliveIntervalMs: 0,
      store: new SlowCommits(200),
      scenario: parseScenario(JSON.stringify({ rules: [{ reply: [{ text: 'Reply to {{input}}' }] }] }), 'json'),
    });
    const app = new AppView();
    try {
      const session = await connect(server, app);
      session.sendClientContent({ turns: 'first' });
      await app.turn(1);
      // The handle of turn 1 is 200 ms behind its turnComplete; the goAway's 1 s is inside the 2 s margin.
      await post(`${server.url}/relive/v1/sessions/${sessionIdOf(app)}:goAway`, { timeLeft: '1s' });
      await app.until(() => app.count('rotating') === 1, 'the rotation');
      session.sendClientContent({ turns: 'second' });
      assert.equal(await app.turn(2), 'Reply to second');
      await app.until(() => app.count('connected') === 2, 'the switch');
      session.close();
      await app.until(() => app.closed, 'closed');
      assert.equal(app.turnCompletes(), 2, 'no turn answered twice');
      // Turn 2's own commit is 200 ms behind its turnComplete too.
      const context = await waitFor(async () => {
        const c = await sessionContext(server, sessionIdOf(app));
        return c.length >= 4 && c;
      }, 'turn 2 in the session record');
      assert.deepEqual(
        context.map((t) => `${t.role}: ${t.parts.map((p) => p.text).join('')}`),
        ['user: first', 'model: Reply to first', 'user: second', 'model: Reply to second'],
      );
    } finally {
      await server.close();
    }
  });

  test('a goAway while a tool call is pending waits for the response and the end of the turn', async () => {
    const server = await startServer({
      keepaliveIntervalMs: 0,
      scenario: parseScenario(JSON.stringify({ rules: [{ reply: [{ call: { name: 'lookup', args: { q: 'x' } } }, { text: 'found {{response.answer}}' }] }] }), 'json'),
    });
    const app = new AppView();
    // The rotation deadline is on this clock: the test moves past it instead of waiting for it.
    const clock = new ManualClock();
    try {
      const session = await connect(server, app, {
        config: { responseModalities: [Modality.TEXT], tools: [{ functionDeclarations: [{ name: 'lookup', description: 'looks up' }] }] },
        clock,
      });
      session.sendClientContent({ turns: 'look it up' });
      const call = await app.until(() => app.messages.find((m) => m.toolCall), 'the tool call');
      await post(`${server.url}/relive/v1/sessions/${sessionIdOf(app)}:goAway`, { timeLeft: '20s' });
      await app.until(() => app.count('rotating') === 1, 'rotating');
      // Past the forced-switch deadline (timeLeft less the 2 s margin): the owed call still holds the switch back.
      await clock.advance(20_000);
      session.sendToolResponse({ functionResponses: [{ id: call.toolCall!.functionCalls![0]!.id!, name: 'lookup', response: { answer: 42 } }] });
      assert.equal(await app.turn(1), 'found 42');
      const second = await app.until(() => app.events.filter((e) => e.type === 'connected')[1], 'the switch after the turn');
      // The marker: the answer to the call came on the first connection, before the second one was made.
      const turnEnd = app.messages.find((m) => m.serverContent?.turnComplete);
      assert.ok(app.arrival(turnEnd) < app.arrival(second), 'no resume while the call is owed: its handle would lose it');
      session.close();
    } finally {
      await server.close();
    }
  });

  test('a 1011 mid-session: reconnect with the handle; the message the server never applied is sent again', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    const app = new AppView();
    try {
      await post(`${server.url}/relive/v1/faults`, { match: { messageType: 'clientContent', turn: 2 }, count: 1, action: { type: 'close', name: 'unavailable' } });
      const session = await connect(server, app);
      session.sendClientContent({ turns: 'one' });
      await app.turn(1);
      session.sendClientContent({ turns: 'two' });
      assert.equal(await app.turn(2), 'You said: two');
      const reconnecting = app.events.find((e) => e.type === 'reconnecting');
      assert.deepEqual(reconnecting && reconnecting.type === 'reconnecting' && [reconnecting.code, reconnecting.class.kind], [1011, 'retry']);
      const restored = app.events.find((e) => e.type === 'stateRestored');
      assert.deepEqual(restored && restored.type === 'stateRestored' && [restored.via, restored.replayed], ['handle', 1]);
      assert.deepEqual(
        (await sessionContext(server, sessionIdOf(app))).map((t) => t.parts[0]!.text),
        ['one', 'You said: one', 'two', 'You said: two'],
      );
      session.close();
    } finally {
      await server.close();
    }
  });

  test('the ladder: a handle that no longer resumes gives a fresh session seeded from the transcript', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    const app = new AppView();
    try {
      const session = await connect(server, app);
      session.sendClientContent({ turns: 'my name is Ada' });
      await app.turn(1);
      await post(`${server.url}/relive/v1/faults`, [
        { match: { messageType: 'clientContent' }, count: 1, action: { type: 'drop' } },
        { count: 1, action: { type: 'refuseResume' } },
      ]);
      session.sendClientContent({ turns: 'what is my name' });
      assert.equal(await app.turn(2), 'You said: what is my name');
      const restored = app.events.find((e) => e.type === 'stateRestored');
      assert.ok(restored?.type === 'stateRestored' && restored.via === 'transcript', JSON.stringify(app.events));
      const { sessions } = (await (await fetch(`${server.url}/relive/v1/sessions`)).json()) as { sessions: { id: string; createdAt: string }[] };
      assert.equal(sessions.length, 2, 'a second session');
      const fresh = sessions.find((s) => s.id !== sessionIdOf(app))!;
      assert.deepEqual(
        (await sessionContext(server, fresh.id)).map((t) => `${t.role}: ${t.parts[0]!.text}`),
        ['user: my name is Ada', 'model: You said: my name is Ada', 'user: what is my name', 'model: You said: what is my name'],
      );
      session.close();
    } finally {
      await server.close();
    }
  });

  test('a fatal close ends the session with its class; no reconnect', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    const app = new AppView();
    try {
      await post(`${server.url}/relive/v1/faults`, { match: { messageType: 'clientContent' }, count: 1, action: { type: 'close', name: 'invalidArgument' } });
      const session = await connect(server, app);
      session.sendClientContent({ turns: 'bad' });
      await app.until(() => app.closed, 'the close');
      assert.deepEqual([app.closed!.code, app.closed!.class.kind], [1007, 'fatal']);
      assert.equal(app.count('reconnecting'), 0);
    } finally {
      await server.close();
    }
  });

  test('reconnect.firstMaxAttempts: a server that cannot be reached rejects connectResilient after that many retries', async () => {
    // A port nothing listens on: a server started and closed.
    const gone = await startServer({ keepaliveIntervalMs: 0 });
    await gone.close();
    const events: LifecycleEvent[] = [];
    await assert.rejects(
      connectResilient({
        model: 'gemini-live-2.5-flash-preview',
        baseUrl: gone.url,
        apiKey: 'k',
        reconnect: { firstMaxAttempts: 1, initialDelayMs: 10 },
        callbacks: { onmessage: () => undefined, onevent: (e) => void events.push(e) },
      }),
      /closed before setup completed \(code 1006\): connect ECONNREFUSED/,
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['reconnecting', 'closed'],
    );
  });

  test('handle persistence: a second connectResilient on the same store resumes the session', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    const store = memoryHandleStore();
    try {
      const first = new AppView();
      const a = await connect(server, first, { handleStore: store });
      a.sendClientContent({ turns: 'remember this' });
      await first.turn(1);
      await first.until(() => a.sessionHandle !== undefined && first.messages.filter((m) => m.sessionResumptionUpdate?.resumable).length >= 2, 'the handle after the turn');
      a.close();
      await first.until(() => first.closed, 'close');

      const second = new AppView();
      const b = await connect(server, second, { handleStore: store });
      assert.equal(second.messages[0]!.setupComplete!.sessionId, sessionIdOf(first), 'the same session');
      assert.equal(second.events[0]!.type, 'connected');
      assert.ok(second.events[0]!.type === 'connected' && second.events[0]!.resumed);
      b.sendClientContent({ turns: 'still there?' });
      await second.turn(1);
      assert.equal((await sessionContext(server, sessionIdOf(first))).length, 4);
      await second.until(() => second.messages.filter((m) => m.sessionResumptionUpdate?.resumable).length >= 2, 'the handle after the turn');
      b.close();
      await second.until(() => second.closed, 'close');

      // The stored handle no longer resumes: the first connection already steps down to the transcript.
      await post(`${server.url}/relive/v1/faults`, { count: 1, action: { type: 'refuseResume' } });
      const third = new AppView();
      const c = await connect(server, third, { handleStore: store });
      assert.deepEqual(third.events.map((e) => e.type), ['reconnecting', 'connected', 'stateRestored']);
      const restored = third.events[2]!;
      assert.ok(restored.type === 'stateRestored' && restored.via === 'transcript');
      const seeded = await sessionContext(server, third.messages[0]!.setupComplete!.sessionId!);
      assert.deepEqual(seeded.map((t) => t.parts[0]!.text), ['remember this', 'You said: remember this', 'still there?', 'You said: still there?']);
      c.close();
    } finally {
      await server.close();
    }
  });
});
