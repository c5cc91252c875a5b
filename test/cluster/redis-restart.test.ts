/**
 * A Redis restart under a running relive (issue #9): a real redis-server is killed (SIGKILL) or
 * stopped (SIGSTOP) and brought back on the same port and directory while relive keeps running
 * and relive-gemini/client sessions go on. What survives is what Redis's persistence keeps: with
 * `appendfsync always` every acknowledged turn (turnComplete and the handle after it); with no
 * persistence nothing, and the client starts over from its transcript. While Redis is away a setup
 * or resume is refused with 1011 within seconds, a commit sends no handle, and relive serves again
 * by itself once Redis is back.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { Redis } from 'ioredis';
import { connectResilient, type ResilientSession } from '../../src/client/index.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { startRedisServer, type RedisServer, type RedisServerOptions } from '../helpers/redis-server.js';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';
import { AppView as BaseAppView } from '../helpers/app-view.js';
import { needs } from '../helpers/system-packages.js';
import { retry } from '../helpers/wait.js';

const MODEL = 'gemini-live-2.5-flash-preview';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function redisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const redis = await startRedisServer(options);
  cleanups.push(() => redis.stop());
  return redis;
}

/** One relive node on `redis`, clustered (the default on Redis) with fast presence and sweep. */
async function relive(redis: RedisServer, commandTimeoutMs?: number): Promise<TestServer> {
  const store = await RedisStore.open(redis.url, { commandTimeoutMs });
  const server = await startServer({
    keepaliveIntervalMs: 0,
    store,
    cluster: { heartbeatMs: 100, presenceTtlMs: 1_000, sweepMs: 200, takeoverTimeoutMs: 1_000 },
  });
  cleanups.push(() => server.close());
  return server;
}

/** What the app sees through relive-gemini/client: messages and lifecycle events, with a wait on both. */
class AppView extends BaseAppView {
  constructor() {
    super(20_000);
  }

  /** Index of the first message after `from` that is the turnComplete of the reply to `text`. */
  private replyEnd(text: string, from: number): number | undefined {
    // A reply streams in chunks: the text of one turn is read whole, at its turnComplete.
    let reply = '';
    for (let i = from; i < this.messages.length; i++) {
      const m = this.messages[i]!;
      reply += m.text ?? '';
      if (!m.serverContent?.turnComplete) continue;
      if (reply.includes(`You said: ${text}`)) return i;
      reply = '';
    }
    return undefined;
  }

  /** Resolves once `text` is answered and a handle follows its turnComplete: the turn is acknowledged. */
  async acknowledged(text: string, from: number): Promise<void> {
    await this.until(() => {
      const end = this.replyEnd(text, from);
      return end !== undefined && this.messages.slice(end + 1).some((m) => m.sessionResumptionUpdate?.newHandle);
    }, `the handle after the reply to "${text}"`);
  }

  /** Resolves once `text` is answered (turnComplete), handle or not. */
  async answered(text: string, from: number): Promise<number> {
    return this.until(() => this.replyEnd(text, from), `the reply to "${text}"`);
  }
}

async function resilient(server: TestServer, app: AppView): Promise<ResilientSession> {
  const session = await connectResilient({
    model: MODEL,
    config: { responseModalities: [Modality.TEXT] },
    callbacks: app.callbacks,
    apiKey: 'redis-restart',
    baseUrl: server.url,
    // Enough attempts to outlast the outages below; short delays keep the test fast.
    reconnect: { maxAttempts: 100, initialDelayMs: 50, maxDelayMs: 300 },
    keepalive: { intervalMs: 0 },
  });
  cleanups.push(async () => session.close());
  return session;
}

async function context(server: TestServer, id: string): Promise<string[]> {
  const res = await fetch(`${server.url}/relive/v1/sessions/${id}`);
  assert.equal(res.status, 200, `GET session ${id}`);
  const detail = (await res.json()) as { context: { role: string; parts: { text?: string }[] }[] };
  return detail.context.map((t) => `${t.role}: ${t.parts.map((p) => p.text ?? '').join('')}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a Redis restart under a running relive', needs('redis-server'), () => {
  test('appendfsync always: every acknowledged turn survives a Redis kill, once; a turn answered during the outage comes back as history after it, not answered twice', async () => {
    const redis = await redisServer({ appendfsync: 'always' });
    const server = await relive(redis);
    const app = new AppView();
    const session = await resilient(server, app);
    const id = app.messages[0]!.setupComplete!.sessionId!;
    const turns: string[] = [];
    const send = (text: string) => {
      turns.push(text);
      const from = app.messages.length;
      session.sendClientContent({ turns: text });
      return from;
    };

    for (let round = 1; round <= 3; round++) {
      // Acknowledged before the kill: answered, and a handle after the answer.
      for (let i = 1; i <= 2; i++) {
        const text = `round ${round} turn ${i}`;
        await app.acknowledged(text, send(text));
      }
      const updatesBefore = app.messages.filter((m) => m.sessionResumptionUpdate?.newHandle).length;
      const eventsBefore = app.events.length;
      await redis.kill();
      // Sent while Redis is down: the engine answers, the commit fails, so no handle may follow.
      const during = `round ${round} during the outage`;
      const from = send(during);
      const answeredAt = await app.answered(during, from);
      const closed = await app.until(() => app.events.slice(eventsBefore).find((e) => e.type === 'reconnecting'), 'the close after the failed commit');
      assert.deepEqual(closed.type === 'reconnecting' && [closed.code, closed.reason], [1011, 'Internal error occurred.']);
      assert.equal(
        app.messages.slice(answeredAt + 1).filter((m) => m.sessionResumptionUpdate?.newHandle).length,
        0,
        'no handle for a checkpoint that was not committed',
      );
      assert.equal(app.messages.filter((m) => m.sessionResumptionUpdate?.newHandle).length, updatesBefore);
      await sleep(500 + round * 300);
      const restoredBefore = app.events.filter((e) => e.type === 'stateRestored').length;
      await redis.restart();
      const restored = await app.until(() => app.events.filter((e) => e.type === 'stateRestored')[restoredBefore], 'the resume after Redis is back');
      // The turn of the outage was answered (the app saw it) and then lost with its checkpoint: it goes
      // back as history, its input and that answer, and is not answered a second time.
      assert.deepEqual(restored.type === 'stateRestored' && [restored.via, restored.restoredTurns, restored.replayed], ['handle', 2, 0]);
      assert.equal(app.messages.slice(answeredAt + 1).filter((m) => m.serverContent?.turnComplete).length, 0, 'no second answer');
    }
    const last = 'after the last restart';
    await app.acknowledged(last, send(last));

    const expected = turns.flatMap((t) => [`user: ${t}`, `model: You said: ${t}`]);
    const stored = await context(server, id);
    assert.deepEqual(
      stored.map((line) => line.replace(/^model: .*You said: /, 'model: You said: ')),
      expected,
      'every turn exactly once, in order',
    );
    // And it is what a Redis crash now would keep: kill, restart, read again.
    await redis.kill();
    await redis.restart();
    const afterCrash = await retry(() => context(server, id), { what: 'the context after the crash', timeoutMs: 10_000 });
    assert.deepEqual(afterCrash, stored);
  });

  test('no persistence: the session is gone after a restart; the resume gets 1008 session not found and the client re-seeds from its transcript', async () => {
    const redis = await redisServer();
    const server = await relive(redis);
    const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: (n) => Math.min(n * 50, 500) });
    admin.on('error', () => undefined);
    cleanups.push(async () => admin.disconnect());
    await admin.connect();
    const secret = await admin.hget('relive:meta', 'handleSecret');
    const app = new AppView();
    const session = await resilient(server, app);
    const oldId = app.messages[0]!.setupComplete!.sessionId!;
    let from = app.messages.length;
    session.sendClientContent({ turns: 'remember the blue door' });
    await app.acknowledged('remember the blue door', from);

    await redis.kill();
    await redis.restart();
    assert.equal(await admin.exists(`relive:{${oldId}}:session`), 0, 'Redis came back empty');
    // The next commit finds no session; the resume finds no session; the client seeds a new one.
    from = app.messages.length;
    session.sendClientContent({ turns: 'what did I ask you to remember?' });
    const restored = await app.until(() => app.events.find((e) => e.type === 'stateRestored'), 'the session restored');
    assert.equal(restored.type === 'stateRestored' && restored.via, 'transcript');
    const lost = app.events.find((e) => e.type === 'reconnecting' && e.class.kind === 'sessionLost');
    assert.ok(lost && lost.type === 'reconnecting');
    assert.deepEqual({ code: lost.code, reason: lost.reason }, { code: 1008, reason: 'BidiGenerateContent session not found' });
    await app.acknowledged('what did I ask you to remember?', from);

    const sessions = (await (await fetch(`${server.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
    assert.equal(sessions.sessions.length, 1);
    const newId = sessions.sessions[0]!.id;
    assert.notEqual(newId, oldId);
    const stored = await context(server, newId);
    assert.deepEqual(stored.slice(0, 2), ['user: remember the blue door', 'model: You said: remember the blue door'], 'seeded from the transcript');
    assert.equal(stored[2], 'user: what did I ask you to remember?');
    // The node wrote its handle secret back, so nodes that join later agree with it.
    assert.ok(secret, 'the secret was in Redis');
    await retry(async () => assert.equal(await admin.hget('relive:meta', 'handleSecret'), secret), { what: 'the handle secret written back', timeoutMs: 10_000 });
    // And it keeps serving new sessions.
    const inbox = new Inbox();
    const fresh = await sdk(server.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
    fresh.sendClientContent({ turns: 'hello again' });
    await inbox.turnComplete();
    fresh.close();
  });

  test('a setup or resume while Redis is down is closed 1011 within seconds; control API and metrics answer; the node serves again once Redis is back', async (t) => {
    const redis = await redisServer({ appendfsync: 'everysec' });
    const server = await relive(redis);
    const first = new Inbox();
    const held = await sdk(server.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], sessionResumption: {} }, callbacks: first.callbacks });
    const handle = (await first.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined)).sessionResumptionUpdate!.newHandle!;
    held.close();
    await first.waitClose();
    await sleep(1_100); // appendfsync everysec: the detach is on disk

    await redis.kill();
    for (const resumption of [{}, { handle }]) {
      const inbox = new Inbox();
      const started = Date.now();
      await sdk(server.url)
        .live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], sessionResumption: resumption }, callbacks: inbox.callbacks })
        .catch(() => undefined);
      assert.deepEqual(await inbox.waitClose(10_000), { code: 1011, reason: 'Internal error occurred.' });
      const tookMs = Date.now() - started;
      assert.ok(tookMs < 10_000, `closed after ${tookMs} ms`);
      t.diagnostic(`${'handle' in resumption ? 'resume' : 'setup'} closed 1011 after ${tookMs} ms`);
    }
    // Reading Redis fails at once: the session list says so; health and metrics do not need it.
    for (const [path, status] of [['/healthz', 200], ['/metrics', 200], ['/relive/v1/sessions', 500]] as const) {
      const started = Date.now();
      const res = await fetch(`${server.url}${path}`);
      await res.arrayBuffer();
      assert.equal(res.status, status, path);
      assert.ok(Date.now() - started < 10_000, `${path} answered within 10 s`);
      t.diagnostic(`${path} answered ${res.status} after ${Date.now() - started} ms`);
    }

    await redis.restart();
    const resumed = await retry(async () => {
      const inbox = new Inbox();
      const s = await sdk(server.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], sessionResumption: { handle } }, callbacks: inbox.callbacks });
      await inbox.waitFor((m) => m.setupComplete !== undefined || false, 0, 2_000).catch(() => undefined);
      if (inbox.closed) throw new Error(`closed ${inbox.closed.code}`);
      return { s, inbox };
    }, { what: 'a resume once Redis is back', timeoutMs: 10_000 });
    resumed.s.sendClientContent({ turns: 'back again' });
    await resumed.inbox.turnComplete();
    resumed.s.close();
  });

  test('a Redis that stops answering (SIGSTOP) bounds a setup by the command timeout: 1011, not a hang', async () => {
    const redis = await redisServer();
    const server = await relive(redis, 1_000);
    redis.freeze();
    try {
      const inbox = new Inbox();
      const started = Date.now();
      await sdk(server.url)
        .live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks })
        .catch(() => undefined);
      assert.deepEqual(await inbox.waitClose(10_000), { code: 1011, reason: 'Internal error occurred.' });
      const tookMs = Date.now() - started;
      assert.ok(tookMs >= 900 && tookMs < 5_000, `closed after ${tookMs} ms`);
    } finally {
      redis.thaw();
    }
    const inbox = new Inbox();
    const s = await retry(() => sdk(server.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks }), {
      what: 'a connect once Redis answers again',
      timeoutMs: 10_000,
    });
    await inbox.waitFor((m) => m.setupComplete !== undefined);
    s.sendClientContent({ turns: 'awake' });
    await inbox.turnComplete();
    s.close();
  });
});

