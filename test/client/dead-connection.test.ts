/**
 * A TCP connection that dies without a close (a NAT timeout, a pulled cable) sends no event at
 * all: the client's pings find it, and the session reconnects and carries on.
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect, createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Modality } from '@google/genai';
import { connectResilient } from '../../src/client/index.js';
import { ManualClock } from '../../src/session/clock.js';
import { AppView } from '../helpers/app-view.js';
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
  // The client's keepalive and backoff run on this clock: a ping goes out, and its pong is
  // declared missing, exactly when the test says so.
  const clock = new ManualClock();
  try {
    const app = new AppView();
    const session = await connectResilient({
      model: 'gemini-live-2.5-flash-preview',
      config: { responseModalities: [Modality.TEXT] },
      baseUrl: proxy.url,
      apiKey: 'dead-tcp',
      keepalive: { intervalMs: 100, timeoutMs: 150 },
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
      clock,
      callbacks: {
        ...app.callbacks,
        onevent: (e) => {
          app.callbacks.onevent(e);
          // The backoff wait passes at once: what is tested is that a reconnect follows.
          if (e.type === 'reconnecting') void clock.advance(e.delayMs);
        },
      },
    });
    const id = app.messages[0]!.setupComplete!.sessionId!;
    session.sendClientContent({ turns: 'before' });
    await app.turn(1);
    // The handle that covers the first turn follows its turnComplete.
    await app.until(() => app.messages.some((m) => m.sessionResumptionUpdate?.newHandle) && session.sessionHandle, 'the handle after the first turn');
    proxy.freezeAll();
    session.sendClientContent({ turns: 'into the void' });
    assert.equal(app.count('reconnecting'), 0, 'nothing notices a frozen connection by itself');
    await clock.advance(100); // the ping goes out
    assert.equal(app.count('reconnecting'), 0, 'the pong is not yet overdue');
    await clock.advance(150); // and is not answered in time: the connection is ended
    assert.equal(await app.turn(2), 'You said: into the void');
    const reconnecting = app.events.find((e) => e.type === 'reconnecting');
    assert.ok(reconnecting?.type === 'reconnecting' && reconnecting.code === 1006, JSON.stringify(app.events));
    assert.ok(app.events.some((e) => e.type === 'stateRestored' && e.via === 'handle' && e.replayed === 1));
    const detail = (await (await fetch(`${relive.url}/relive/v1/sessions/${id}`)).json()) as { context: { parts: { text?: string }[] }[] };
    assert.deepEqual(detail.context.map((t) => t.parts[0]!.text), ['before', 'You said: before', 'into the void', 'You said: into the void']);
    session.close();
  } finally {
    await proxy.close();
    await relive.close();
  }
});
