/**
 * Several relive nodes on one Redis (issue #9), each a createServer in this process (or a `relive`
 * child process, to die by SIGKILL), on a real redis-server: any node resumes any session, a
 * takeover closes the old connection on whichever node holds it, a dead node's sessions are free
 * at once, and every node's control API and metrics see the whole cluster.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Modality, type LiveServerMessage } from '@google/genai';
import { Redis } from 'ioredis';
import type { ServerOptions } from '../../src/server/options.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { startBin } from '../helpers/bin.js';
import { sharedRedisUrl } from '../helpers/shared-redis.js';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';
import { needs } from '../helpers/system-packages.js';
import { waitFor } from '../helpers/wait.js';

const MODEL = 'gemini-live-2.5-flash-preview';

const redisUrl = (): Promise<string> => sharedRedisUrl();

const running: TestServer[] = [];
let admin: Redis;
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});
/** Every describe on Redis: a flushed server before each test (`admin` is its connection). */
function onFlushedRedis(): void {
  beforeEach(async () => {
    admin = new Redis(await redisUrl());
    await admin.flushall();
  });
  afterEach(async () => {
    await admin.quit();
  });
}

/** A node on the shared Redis, with fast presence so that tests need not wait seconds. */
async function node(nodeId: string, options: ServerOptions = {}): Promise<TestServer> {
  const store = await RedisStore.open(await redisUrl());
  const server = await startServer({
    keepaliveIntervalMs: 0,
    store,
    nodeId,
    cluster: { heartbeatMs: 100, presenceTtlMs: 1_000, sweepMs: 200, takeoverTimeoutMs: 3_000 },
    ...options,
  });
  running.push(server);
  return server;
}

async function connect(url: string, handle?: string) {
  const inbox = new Inbox();
  const session = await sdk(url).live.connect({
    model: MODEL,
    config: { responseModalities: [Modality.TEXT], sessionResumption: handle ? { handle } : {} },
    callbacks: inbox.callbacks,
  });
  return { inbox, session, id: inbox.messages[0]?.setupComplete?.sessionId };
}

const handleOf = (m: LiveServerMessage) => m.sessionResumptionUpdate?.newHandle;

/** Sends a turn and resolves with the handle that follows its turnComplete. */
async function turn(c: { inbox: Inbox; session: { sendClientContent(p: { turns: string }): void } }, text: string): Promise<string> {
  const mark = c.inbox.messages.length;
  c.session.sendClientContent({ turns: text });
  await c.inbox.turnComplete(mark);
  await c.inbox.waitFor((m) => handleOf(m) !== undefined, mark);
  const updates = c.inbox.messages.slice(mark).filter((m) => handleOf(m));
  return handleOf(updates[updates.length - 1]!)!;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  return (await res.json()) as T;
}

async function contextOf(url: string, id: string): Promise<string[]> {
  const detail = await getJson<{ context: { role: string; parts: { text?: string }[] }[] }>(`${url}/relive/v1/sessions/${id}`);
  return detail.context.map((t) => `${t.role}: ${t.parts.map((p) => p.text ?? '').join('')}`);
}


/** A new session in the store, attached to a connection of node `holder` (written as that node would). */
async function createHeld(store: RedisStore, id: string, holder: string): Promise<void> {
  await store.create(
    { id, principal: 'p', model: `models/${MODEL}`, createdAt: 1, connectedMs: 0, videoSeen: false, holder },
    { seq: 1, setup: { model: `models/${MODEL}` }, turnCount: 0, userTurns: 0, turnsCompleted: 0, pendingInput: [], lastConsumedClientMessageIndex: 0, createdAt: 1 },
  );
}

type SessionSummary = { id: string; status: string; connected: boolean; node: string | null };

describe('takeover across nodes', needs('redis-server'), () => {
  onFlushedRedis();

  test('a session of node A resumed on node B: A’s connection is closed 1008 and B serves the whole history', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const old = await connect(a.url);
    const handle = await turn(old, 'before the move');
    assert.equal(a.server.sessions.get(old.id!)?.connection !== undefined, true);
    const createdAt = (await getJson<{ createdAt: string }>(`${a.url}/relive/v1/sessions/${old.id}`)).createdAt;
    await new Promise((r) => setTimeout(r, 20));

    const fresh = await connect(b.url, handle);
    assert.equal((await getJson<{ createdAt: string }>(`${b.url}/relive/v1/sessions/${old.id}`)).createdAt, createdAt, 'created when it was, not when resumed');
    assert.equal(fresh.id, old.id, 'the same session');
    assert.deepEqual(await old.inbox.waitClose(), { code: 1008, reason: 'Session resumed on another connection.' });
    await turn(fresh, 'after the move');
    assert.deepEqual(await contextOf(b.url, old.id!), [
      'user: before the move',
      'model: You said: before the move',
      'user: after the move',
      'model: You said: after the move',
    ]);
    assert.equal(a.server.sessions.liveCount, 0);
    fresh.session.close();
    await fresh.inbox.waitClose();
  });

  test('the store names the holder node, and the takeover moves it', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const old = await connect(a.url);
    const handle = await turn(old, 'hi');
    const store = await RedisStore.open(await redisUrl());
    try {
      assert.equal((await store.get(old.id!))?.holder, 'node-a');
      const fresh = await connect(b.url, handle);
      await old.inbox.waitClose();
      assert.equal((await store.get(old.id!))?.holder, 'node-b');
      fresh.session.close();
      await fresh.inbox.waitClose();
      await waitFor(async () => (await store.get(old.id!))?.holder === undefined, 'the holder cleared at detach');
    } finally {
      await store.close();
    }
  });

  test('strict mode: a resume on B of a session A holds is rejected with 1011 and A keeps it', async () => {
    const strict = { strict: true, unknownModels: 'accept' as const, extraModels: [`models/${MODEL}`] };
    const a = await node('node-a', strict);
    const b = await node('node-b', strict);
    const old = await connect(a.url);
    const handle = await turn(old, 'hello');
    await assert.rejects(connect(b.url, handle), (err: Error) => err.message.includes('1011') && err.message.includes('Internal error occurred.'));
    assert.equal(old.inbox.closed, undefined, 'the holder keeps its session');
    await turn(old, 'still here');
    old.session.close();
    await old.inbox.waitClose();
  });

  test('a node killed with SIGKILL: its sessions resume at once on another node, with their history', async () => {
    const url = await redisUrl();
    const child = startBin(['serve', '--store', url, '--port', '0', '--node-id', 'doomed', '--log-level', 'info']);
    const childUrl = await child.listening;
    const b = await node('node-b');
    const old = await connect(childUrl);
    const handle = await turn(old, 'before the crash');
    child.child.kill('SIGKILL');
    await child.exited;
    await old.inbox.waitClose();

    const started = Date.now();
    const fresh = await connect(b.url, handle);
    const took = Date.now() - started;
    // Nobody listens on the dead node's channel: no takeover wait (3 s) at all.
    assert.ok(took < 2_000, `resume took ${took} ms`);
    assert.equal(fresh.id, old.id);
    await turn(fresh, 'after the crash');
    assert.deepEqual((await contextOf(b.url, old.id!)).length, 4);
    fresh.session.close();
    await fresh.inbox.waitClose();
  });
});

describe('dead nodes’ sessions', needs('redis-server'), () => {
  onFlushedRedis();

  test('a node that starts releases sessions held by nodes with no presence, and not those of live nodes', async () => {
    const a = await node('node-a');
    const live = await connect(a.url);
    await turn(live, 'alive');
    // A session a dead node left attached: its holder has no presence key.
    const store = await RedisStore.open(await redisUrl());
    try {
      await createHeld(store, 'orphan', 'ghost');
      await node('node-b', { cluster: { heartbeatMs: 100, presenceTtlMs: 1_000, sweepMs: 60_000 } });
      const orphan = await store.get('orphan');
      assert.equal(orphan?.holder, undefined);
      assert.notEqual(orphan?.lastDetachedAt, undefined, 'its handle validity runs from now');
      assert.ok((await admin.pttl('relive:{orphan}:session')) > 0, 'and Redis will delete it');
      const held = await store.get(live.id!);
      assert.equal(held?.holder, 'node-a');
      assert.equal(held?.lastDetachedAt, undefined);
    } finally {
      await store.close();
    }
    live.session.close();
    await live.inbox.waitClose();
  });

  test('a node restarted under the same id releases the sessions its previous life left attached', async () => {
    const store = await RedisStore.open(await redisUrl());
    try {
      await createHeld(store, 's3', 'node-a');
      // Its presence is still there (killed less than a TTL ago) when it comes back.
      await admin.set('relive:node:node-a', '{}', 'PX', 5_000);
      await node('node-a');
      const record = await store.get('s3');
      assert.notEqual(record?.lastDetachedAt, undefined, 'released at start');
      assert.equal(record?.holder, undefined);
    } finally {
      await store.close();
    }
  });

  test('a node missing for less than a presence TTL (a Redis outage expires every presence) keeps its sessions', async () => {
    await node('node-b');
    const store = await RedisStore.open(await redisUrl());
    try {
      // Created after node-b's first sweep: only the periodic sweeps see it.
      await createHeld(store, 's2', 'blinking');
      await new Promise((r) => setTimeout(r, 600));
      assert.equal((await store.get('s2'))?.holder, 'blinking', 'missing for 0.6 s of a 1 s TTL: still held');
      await admin.set('relive:node:blinking', '{}', 'PX', 5_000);
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal((await store.get('s2'))?.holder, 'blinking', 'back before the TTL: never released');
      await admin.del('relive:node:blinking');
      await waitFor(async () => (await store.get('s2'))?.lastDetachedAt !== undefined, 'released once missing for a whole TTL');
    } finally {
      await store.close();
    }
  });

  test('the periodic sweep releases a session once its node’s presence has expired', async () => {
    await node('node-b');
    const store = await RedisStore.open(await redisUrl());
    try {
      await admin.set('relive:node:dying', '{}', 'PX', 300);
      await createHeld(store, 's1', 'dying');
      await waitFor(async () => (await store.get('s1'))?.lastDetachedAt !== undefined, 'released after the presence expired');
    } finally {
      await store.close();
    }
  });
});

describe('TTL in Redis', needs('redis-server'), () => {
  onFlushedRedis();

  test('a detached session’s keys expire after the handle validity; a resume on another node persists them', async () => {
    const a = await node('node-a', { lifetimes: { handleTtlMs: 60_000 } });
    const b = await node('node-b', { lifetimes: { handleTtlMs: 60_000 } });
    const c = await connect(a.url);
    const handle = await turn(c, 'hi');
    c.session.close();
    await c.inbox.waitClose();
    const keys = ['session', 'turns', 'checkpoints', 'turncounts'].map((k) => `relive:{${c.id}}:${k}`);
    await waitFor(async () => (await admin.pttl(keys[0]!)) > 0, 'the TTL after detach');
    for (const key of keys) {
      const ttl = await admin.pttl(key);
      assert.ok(ttl > 60_000 && ttl <= 60_000 + 10 * 60_000, `${key}: ${ttl}`);
    }
    const again = await connect(b.url, handle);
    for (const key of keys) assert.equal(await admin.pttl(key), -1, key);
    again.session.close();
    await again.inbox.waitClose();
  });
});

describe('the control API and metrics see the whole cluster', needs('redis-server'), () => {
  onFlushedRedis();

  test('B lists a session held on A with node A; A lists it as its own', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const c = await connect(a.url);
    await turn(c, 'hi');
    const closed = await connect(a.url);
    closed.session.close();
    await closed.inbox.waitClose();

    const onB = (await getJson<{ sessions: SessionSummary[] }>(`${b.url}/relive/v1/sessions`)).sessions;
    assert.deepEqual(
      onB.find((s) => s.id === c.id),
      { ...onB.find((s) => s.id === c.id), status: 'attached', connected: true, node: 'node-a' },
    );
    await waitFor(
      async () => (await getJson<{ sessions: SessionSummary[] }>(`${b.url}/relive/v1/sessions`)).sessions.find((s) => s.id === closed.id)?.node === null,
      'a detached session has node null',
    );
    const onA = (await getJson<{ sessions: SessionSummary[] }>(`${a.url}/relive/v1/sessions`)).sessions.find((s) => s.id === c.id);
    assert.equal(onA?.node, 'node-a');
    assert.equal(onA?.connected, true);
    const detail = await getJson<SessionSummary & { context: unknown[] }>(`${b.url}/relive/v1/sessions/${c.id}`);
    assert.equal(detail.node, 'node-a');
    assert.equal(detail.context.length, 2);
    c.session.close();
    await c.inbox.waitClose();
  });

  test('goAway and close through any node’s control API reach the connection on the node that holds the session', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const c = await connect(a.url);
    await turn(c, 'hi');
    const res = await fetch(`${b.url}/relive/v1/sessions/${c.id}:goAway`, { method: 'POST', body: JSON.stringify({ timeLeft: '7s' }) });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, timeLeftMs: 7000, node: 'node-a' });
    const goAway = await c.inbox.waitFor((m) => m.goAway !== undefined);
    assert.equal(goAway.goAway!.timeLeft, '7s');
    const closing = await fetch(`${b.url}/relive/v1/sessions/${c.id}:close`, { method: 'POST', body: JSON.stringify({ code: 1011, reason: 'Internal error occurred.' }) });
    assert.equal(closing.status, 200);
    assert.deepEqual(await c.inbox.waitClose(), { code: 1011, reason: 'Internal error occurred.' });
    // Detached now: nobody holds it, nothing to act on.
    await waitFor(async () => (await getJson<SessionSummary>(`${b.url}/relive/v1/sessions/${c.id}`)).node === null, 'detached');
    const again = await fetch(`${b.url}/relive/v1/sessions/${c.id}:goAway`, { method: 'POST', body: '{}' });
    assert.equal(again.status, 409);
  });

  test('GET /relive/v1/nodes lists the live nodes with their session counts; a closed node leaves at once', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const c = await connect(a.url);
    await turn(c, 'hi');
    type Node = { id: string; url: string | null; liveSessions: number; self: boolean };
    await waitFor(async () => {
      const nodes = (await getJson<{ nodes: Node[] }>(`${b.url}/relive/v1/nodes`)).nodes;
      return nodes.find((n) => n.id === 'node-a')?.liveSessions === 1;
    }, 'A’s heartbeat counts its session');
    const nodes = (await getJson<{ nodes: Node[] }>(`${b.url}/relive/v1/nodes`)).nodes;
    assert.deepEqual(
      nodes.map((n) => [n.id, n.url, n.liveSessions, n.self]),
      [
        ['node-a', a.url, 1, false],
        ['node-b', b.url, 0, true],
      ],
    );
    c.session.close();
    await c.inbox.waitClose();
    await a.close();
    running.splice(running.indexOf(a), 1);
    assert.deepEqual((await getJson<{ nodes: Node[] }>(`${b.url}/relive/v1/nodes`)).nodes.map((n) => n.id), ['node-b']);
  });

  test('/metrics on any node has the live nodes and the sessions attached on each', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const c = await connect(a.url);
    await turn(c, 'hi');
    await waitFor(async () => (await (await fetch(`${b.url}/metrics`)).text()).includes('relive_cluster_sessions_live{node="node-a"} 1'), 'A’s session seen from B');
    const text = await (await fetch(`${b.url}/metrics`)).text();
    assert.match(text, /^relive_cluster_nodes 2$/m);
    assert.match(text, /^relive_cluster_sessions_live\{node="node-b"\} 0$/m);
    assert.match(text, /^relive_sessions_live 0$/m, 'the per-process gauge stays this process’s');
    c.session.close();
    await c.inbox.waitClose();
  });
});

describe('a single node', () => {
  test('without Redis it lists itself and has no cluster gauges', async () => {
    const s = await startServer({ keepaliveIntervalMs: 0, nodeId: 'solo' });
    running.push(s);
    const nodes = (await getJson<{ nodes: { id: string; self: boolean }[] }>(`${s.url}/relive/v1/nodes`)).nodes;
    assert.deepEqual(nodes.map((n) => [n.id, n.self]), [['solo', true]]);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    assert.doesNotMatch(text, /^relive_cluster_nodes \d/m);
  });
});
