/**
 * Issue #9's acceptance run: three relive processes on one real redis-server, behind a TCP load
 * balancer with no stickiness. Clients (relive-gemini/client) hold sessions and send turns whose replies
 * stream slowly; one node is killed with SIGKILL mid-turn. Its clients reconnect through the
 * balancer, land on the other nodes, resume with their handles and replay what was not consumed;
 * afterwards every session's stored context holds each user turn exactly once, in order, each
 * followed by exactly one complete reply.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { connectResilient } from '../../src/client/connect-resilient.js';
import type { LifecycleEvent } from '../../src/client/events.js';
import type { ResilientSession } from '../../src/client/resilient-session.js';
import { startBin } from '../helpers/bin.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { needs } from '../helpers/system-packages.js';
import { startTcpBalancer, type TcpBalancer } from '../helpers/tcp-balancer.js';
import { waitFor } from '../helpers/wait.js';

const MODEL = 'gemini-live-2.5-flash-preview';
const SESSIONS = 9;
const TURNS = 12;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every reply: four chunks 60 ms apart, so at any moment most sessions are mid-turn. */
const SCRIPT = JSON.stringify({ rules: [{ match: {}, reply: [{ text: 'Reply to {{input}}: one two three four five six seven eight nine ten eleven twelve', chunkDelayMs: 60 }] }] });

let redis: RedisServer;
let balancer: TcpBalancer;
let nodes: { id: string; url: string; child: ReturnType<typeof startBin>['child']; exited: Promise<number | null> }[];

interface Client {
  session: ResilientSession;
  id: string;
  events: LifecycleEvent[];
  completed: number;
  sent: string[];
}

async function openClient(n: number): Promise<Client> {
  const client = { id: '', events: [], completed: 0, sent: [] } as unknown as Client;
  client.session = await connectResilient({
    model: MODEL,
    config: { responseModalities: [Modality.TEXT] },
    baseUrl: balancer.url,
    apiKey: `cluster-client-${n}`,
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
    callbacks: {
      onmessage: (m) => {
        client.id ||= m.setupComplete?.sessionId ?? '';
        if (m.serverContent?.turnComplete) client.completed++;
      },
      onevent: (e) => client.events.push(e),
    },
  });
  return client;
}

/** Sends TURNS turns, each after the previous one's turnComplete. */
async function converse(client: Client, n: number, label = 'session'): Promise<void> {
  for (let t = 1; t <= TURNS; t++) {
    const before = client.completed;
    const text = `${label} ${n} turn ${t}`;
    client.sent.push(text);
    client.session.sendClientContent({ turns: text });
    await waitFor(() => client.completed !== before, { what: `session ${n}: the reply to turn ${t}`, timeoutMs: 20_000, detail: () => `events ${JSON.stringify(client.events)}` });
  }
}

/** Every session's stored context: each turn once, in order, each followed by its one whole reply. */
async function assertIntact(url: string, clients: readonly Client[]): Promise<void> {
  for (const [n, c] of clients.entries()) {
    const detail = (await (await fetch(`${url}/relive/v1/sessions/${c.id}`)).json()) as Detail;
    const users = detail.context.filter((t) => t.role === 'user').map((t) => t.parts.map((p) => p.text).join(''));
    assert.deepEqual(users, c.sent, `session ${n}: every turn once, in order`);
    assert.equal(detail.context.length, 2 * TURNS, `session ${n}: a reply after every turn: ${JSON.stringify(detail.context)} ${JSON.stringify(c.events)}`);
    detail.context.forEach((turn, i) => {
      assert.equal(turn.role, i % 2 === 0 ? 'user' : 'model');
      if (turn.role === 'model') assert.equal(turn.parts.map((p) => p.text).join(''), `Reply to ${c.sent[(i - 1) / 2]}: one two three four five six seven eight nine ten eleven twelve`);
    });
  }
}

interface Detail {
  node?: string | null;
  context: { role: string; parts: { text?: string }[] }[];
}

describe('three nodes on one Redis', { ...needs('redis-server'), concurrency: false }, () => {
  before(async () => {
    redis = await startRedisServer();
    const dir = mkdtempSync(path.join(tmpdir(), 'relive-cluster-'));
    const script = path.join(dir, 'script.json');
    writeFileSync(script, SCRIPT);
    // Started together, as a deployment does: they must agree on one handle secret.
    nodes = await Promise.all(
      ['n1', 'n2', 'n3'].map(async (id) => {
        const bin = startBin(['serve', '--port', '0', '--store', redis.url, '--node-id', id, '--script', script]);
        return { id, url: await bin.listening, child: bin.child, exited: bin.exited };
      }),
    );
    balancer = await startTcpBalancer(nodes.map((n) => ({ host: '127.0.0.1', port: Number(new URL(n.url).port) })));
  });

  after(async () => {
    await balancer?.close();
    for (const n of nodes ?? []) {
      n.child.kill('SIGKILL');
      await n.exited;
    }
    await redis?.stop();
  });

  test('SIGKILL of a node mid-turn: its clients resume elsewhere with their handles; nothing lost, nothing duplicated', async () => {
    const clients = await Promise.all(Array.from({ length: SESSIONS }, (_, n) => openClient(n)));
    assert.ok(balancer.handed.every((h) => h > 0), `the balancer spread the sessions: ${balancer.handed.join(', ')}`);
    const conversations = clients.map((c, n) => converse(c, n));

    // Mid-conversation, with replies streaming: kill the node that holds the most sessions.
    await sleep(800);
    // Any node's control API sees the whole cluster, with the node holding each session.
    const { sessions } = (await (await fetch(`${nodes[0]!.url}/relive/v1/sessions`)).json()) as { sessions: { node: string | null }[] };
    const held = nodes.map((node) => sessions.filter((s) => s.node === node.id).length);
    assert.equal(held.reduce((a, b) => a + b, 0), SESSIONS, `every session held by one node: ${JSON.stringify(sessions)}`);
    const victim = nodes[held.indexOf(Math.max(...held))]!;
    const midTurn = clients.filter((c) => c.completed < c.sent.length).length;
    victim.child.kill('SIGKILL');
    assert.equal(await victim.exited, null, 'killed by the signal');
    await Promise.all(conversations);

    // Every client whose node died came back through a handle, none through a transcript or from nothing.
    const resumed = clients.filter((c) => c.events.some((e) => e.type === 'reconnecting'));
    assert.ok(resumed.length > 0, 'some sessions were on the killed node');
    for (const c of resumed) {
      assert.ok(c.events.some((e) => e.type === 'stateRestored' && e.via === 'handle'), JSON.stringify(c.events));
      assert.ok(!c.events.some((e) => e.type === 'stateLost' || (e.type === 'stateRestored' && e.via === 'transcript')), JSON.stringify(c.events));
    }
    for (const c of clients) c.session.close();
    await sleep(300);

    await assertIntact(nodes.find((n) => n !== victim)!.url, clients);
    // For the record (printed by node --test): how many sessions were mid-turn on all nodes at the kill.
    console.log(`killed ${victim.id} holding ${Math.max(...held)} of ${SESSIONS} sessions; ${midTurn} sessions mid-turn; ${resumed.length} resumed elsewhere`);
  });

  test('rolling deploy: SIGTERM drains a node; its clients move to the others at a turn boundary and it exits 0; nothing lost', async () => {
    const alive = nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
    assert.ok(alive.length >= 2, 'runs after the kill: two nodes left');
    const clients = await Promise.all(Array.from({ length: SESSIONS }, (_, n) => openClient(100 + n)));
    const conversations = clients.map((c, n) => converse(c, n, 'drained'));
    await sleep(600);
    const { sessions } = (await (await fetch(`${alive[0]!.url}/relive/v1/sessions`)).json()) as { sessions: { id: string; node: string | null }[] };
    const ours = new Set(clients.map((c) => c.id));
    const held = alive.map((node) => sessions.filter((s) => ours.has(s.id) && s.node === node.id).length);
    const leaving = alive[held.indexOf(Math.max(...held))]!;
    const moved = clients.filter((c) => sessions.find((s) => s.id === c.id)?.node === leaving.id);
    leaving.child.kill('SIGTERM');
    await Promise.all(conversations);
    assert.equal(await leaving.exited, 0, 'a drained node exits 0');
    for (const c of moved) {
      assert.ok(c.events.some((e) => e.type === 'rotating'), `a goAway, not a drop: ${JSON.stringify(c.events)}`);
      assert.ok(c.events.some((e) => e.type === 'connected' && e.resumed), JSON.stringify(c.events));
      assert.ok(!c.events.some((e) => e.type === 'stateLost' || (e.type === 'stateRestored' && e.via === 'transcript')), JSON.stringify(c.events));
    }
    for (const c of clients) c.session.close();
    await sleep(300);
    await assertIntact(alive.find((n) => n !== leaving)!.url, clients);
    console.log(`drained ${leaving.id} holding ${moved.length} of ${SESSIONS} sessions; all moved`);
  });
});
