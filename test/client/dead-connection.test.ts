/**
 * A TCP connection that dies without a close (a NAT timeout, a pulled cable) sends no event at
 * all: the client's pings find it, and the session reconnects and carries on.
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect, createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Modality } from '@google/genai';
import { connectResilient, type LifecycleEvent } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';

/** A TCP proxy whose existing connections can be frozen: bytes stop flowing both ways, nothing closes. */
async function startProxy(targetPort: number) {
  const pipes: { client: Socket; upstream: Socket; frozen: boolean }[] = [];
  const server = createTcpServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    const pipe = { client, upstream, frozen: false };
    pipes.push(pipe);
    client.on('data', (d) => pipe.frozen || upstream.write(d));
    upstream.on('data', (d) => pipe.frozen || client.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freezeAll: () => pipes.forEach((p) => (p.frozen = true)),
    close: () => {
      for (const p of pipes) {
        p.client.destroy();
        p.upstream.destroy();
      }
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('a silently dead connection: unanswered pings end it, the session resumes and the message sent into the void is replayed', async () => {
  const relive = await startServer({ keepaliveIntervalMs: 0 });
  const proxy = await startProxy(relive.port);
  try {
    const events: LifecycleEvent[] = [];
    let turns = 0;
    let id = '';
    const session = await connectResilient({
      model: 'gemini-live-2.5-flash-preview',
      config: { responseModalities: [Modality.TEXT] },
      baseUrl: proxy.url,
      apiKey: 'dead-tcp',
      keepalive: { intervalMs: 100, timeoutMs: 150 },
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
      callbacks: {
        onmessage: (m) => {
          id ||= m.setupComplete?.sessionId ?? '';
          if (m.serverContent?.turnComplete) turns++;
        },
        onevent: (e) => events.push(e),
      },
    });
    const until = async (cond: () => boolean, what: string) => {
      const deadline = Date.now() + 5000;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out: ${what}; ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    session.sendClientContent({ turns: 'before' });
    await until(() => turns === 1, 'the first reply');
    await new Promise((r) => setTimeout(r, 50));
    proxy.freezeAll();
    session.sendClientContent({ turns: 'into the void' });
    await until(() => turns === 2, 'the reply after the reconnect');
    const reconnecting = events.find((e) => e.type === 'reconnecting');
    assert.ok(reconnecting?.type === 'reconnecting' && reconnecting.code === 1006, JSON.stringify(events));
    assert.ok(events.some((e) => e.type === 'stateRestored' && e.via === 'handle' && e.replayed === 1));
    const detail = (await (await fetch(`${relive.url}/relive/v1/sessions/${id}`)).json()) as { context: { parts: { text?: string }[] }[] };
    assert.deepEqual(detail.context.map((t) => t.parts[0]!.text), ['before', 'You said: before', 'into the void', 'You said: into the void']);
    session.close();
  } finally {
    await proxy.close();
    await relive.close();
  }
});
