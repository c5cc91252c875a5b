/**
 * ClusterNode on its own, on a real redis-server: presence, and the four ways a takeover request
 * ends (yielded, not held, unreachable, timeout).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { ClusterNode, type ClusterNodeOptions } from '../../src/cluster/cluster-node.js';
import { checkNodeId, newNodeId } from '../../src/cluster/node-id.js';
import { parseTakeoverRequest } from '../../src/cluster/messages.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { sharedRedisUrl } from '../helpers/shared-redis.js';
import { needs } from '../helpers/system-packages.js';
import { waitFor } from '../helpers/wait.js';

const redisUrl = (): Promise<string> => sharedRedisUrl();

const nodes: ClusterNode[] = [];
let admin: Redis;
/** Every describe on Redis: a flushed server before each test. */
function onFlushedRedis(): void {
  beforeEach(async () => {
    admin = new Redis(await redisUrl());
    await admin.flushall();
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
    await admin.quit();
  });
}

async function start(nodeId: string, options: Partial<ClusterNodeOptions> = {}): Promise<ClusterNode> {
  const node = await ClusterNode.start({
    redisUrl: await redisUrl(),
    nodeId,
    store: new MemoryStore(),
    now: () => Date.now(),
    yieldSession: async () => false,
    liveSessions: () => 0,
    log: pino({ enabled: false }),
    heartbeatMs: 100,
    presenceTtlMs: 1_000,
    takeoverTimeoutMs: 300,
    ...options,
  });
  nodes.push(node);
  return node;
}

describe('ClusterNode', needs('redis-server'), () => {
  onFlushedRedis();

  test('its presence key holds its id, start time and live sessions, with a TTL, and is deleted at close', async () => {
    const node = await start('n1', { liveSessions: () => 3 });
    const presence = JSON.parse((await admin.get('relive:node:n1'))!) as Record<string, unknown>;
    assert.equal(presence.id, 'n1');
    assert.equal(presence.liveSessions, 3);
    assert.ok(typeof presence.startedAt === 'string');
    const ttl = await admin.pttl('relive:node:n1');
    assert.ok(ttl > 0 && ttl <= 1_000, `ttl ${ttl}`);
    node.setUrl('http://127.0.0.1:1234');
    await waitFor(async () => (JSON.parse((await admin.get('relive:node:n1'))!) as { url: string }).url === 'http://127.0.0.1:1234', 'the new url in the presence');
    await node.close();
    assert.equal(await admin.exists('relive:node:n1'), 0);
  });

  test('the heartbeat keeps the presence alive past its TTL', async () => {
    const node = await start('n1', { presenceTtlMs: 300 });
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(await node.isLive('n1'), true);
    assert.equal(await admin.exists('relive:node:n1'), 1);
  });

  test('a takeover request reaches the holder, which yields and answers', async () => {
    const asked: string[] = [];
    await start('holder', {
      yieldSession: async (id) => {
        asked.push(id);
        return true;
      },
    });
    const taker = await start('taker');
    assert.equal(await taker.requestTakeover('s1', 'holder'), 'yielded');
    assert.deepEqual(asked, ['s1']);
  });

  test('a holder without a connection of the session answers not-held', async () => {
    await start('holder');
    const taker = await start('taker');
    assert.equal(await taker.requestTakeover('s1', 'holder'), 'not-held');
  });

  test('a dead holder (nobody subscribed) is unreachable at once', async () => {
    const taker = await start('taker');
    const started = Date.now();
    assert.equal(await taker.requestTakeover('s1', 'gone'), 'unreachable');
    assert.ok(Date.now() - started < 200);
  });

  test('a holder that never answers times out, and the taker goes ahead', async () => {
    const zombie = new Redis(await redisUrl());
    try {
      await zombie.subscribe('relive:node:zombie:takeover');
      const taker = await start('taker');
      const started = Date.now();
      assert.equal(await taker.requestTakeover('s1', 'zombie'), 'timeout');
      assert.ok(Date.now() - started >= 290);
    } finally {
      zombie.disconnect();
    }
  });

  test('nodes() lists every live node', async () => {
    const a = await start('a', { liveSessions: () => 2 });
    await start('b');
    assert.deepEqual(
      (await a.nodes()).map((n) => [n.id, n.liveSessions]),
      [
        ['a', 2],
        ['b', 0],
      ],
    );
  });
});

describe('node ids', () => {
  test('random ones are valid, and ids that would break a key are refused', () => {
    assert.match(newNodeId(), /^[0-9a-f]{10}$/);
    assert.equal(checkNodeId('eu-west.1_a'), 'eu-west.1_a');
    for (const bad of ['', 'a:b', 'a*', 'x'.repeat(65), 'a b']) assert.throws(() => checkNodeId(bad), /node id/);
  });
});

describe('cluster messages', () => {
  test('requests from other versions or typed by hand are dropped, never thrown', () => {
    const base = { requestId: 'r', sessionId: 's', from: 'n1' };
    assert.deepEqual(parseTakeoverRequest(JSON.stringify(base)), base);
    assert.deepEqual(parseTakeoverRequest(JSON.stringify({ ...base, action: { type: 'goAway', timeLeftMs: 500 } })), { ...base, action: { type: 'goAway', timeLeftMs: 500 } });
    assert.deepEqual(parseTakeoverRequest(JSON.stringify({ ...base, action: { type: 'close', code: 1011, reason: 'x' } })), { ...base, action: { type: 'close', code: 1011, reason: 'x' } });
    for (const bad of ['', 'nope', '[]', 'null', JSON.stringify({ ...base, from: 3 }), JSON.stringify({ ...base, action: { type: 'goAway', timeLeftMs: -1 } }), JSON.stringify({ ...base, action: { type: 'close', code: 1.5, reason: 'x' } }), JSON.stringify({ ...base, action: { type: 'reboot' } })]) {
      assert.equal(parseTakeoverRequest(bad), undefined, bad);
    }
  });
});
