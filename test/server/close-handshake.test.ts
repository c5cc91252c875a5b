/**
 * The close handshake and the closes the server initiates on its own (PROTOCOL.md §1.6, §7.2):
 * a status-less client close is answered with 1000, messages after the client's own close are
 * dropped, oversized frames get 1009 with a reason, and a client that never sends setup gets 1011.
 * The first and third rely on hooks into `ws` internals (src/server/ws-hooks.ts); these tests
 * guard them against a `ws` upgrade.
 *
 * Every test also checks that a session opened beforehand on the same server (the witness) is
 * neither closed nor sent anything, and still answers a turn.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/session/clock.js';
import { startServer } from '../helpers/server.js';
import { assertClosedWith, assertServerHealthy, harness, textTurn } from '../helpers/witness-harness.js';
import { encodeMaskedFrame, MODEL, RawClient, type CloseInfo } from '../helpers/raw-client.js';
import { waitFor } from '../helpers/wait.js';

const DEADLINE: CloseInfo = { code: 1011, reason: 'Deadline expired before operation could complete.' };
const NORMAL: CloseInfo = { code: 1000, reason: '' };
const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;

const SLOW_REPLY = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');

/** "slow" streams a reply in 15 chunks 20 ms apart, so a test can act in the middle of it. */
function slowHarness(options: Parameters<typeof harness>[0] = {}) {
  return harness({ scenario: { rules: [{ match: { text: 'slow' }, reply: [{ text: SLOW_REPLY, chunkDelayMs: 20 }] }], fallback: 'builtin' }, ...options });
}

function sessionIdOf(c: RawClient): string {
  const id = c.messages[0]?.setupComplete?.sessionId as string | undefined;
  assert.ok(id, 'setupComplete carries the session id (sessionIdInSetupComplete defaults to true)');
  return id;
}

describe('client-initiated close', () => {
  const h = slowHarness();

  test('a status-less client close (ws close() with no code) after setup is answered with 1000', async () => {
    const c = await RawClient.connect(h.srv.url);
    c.ws.close();
    await assertClosedWith(c, NORMAL);
    await assertServerHealthy(h);
  });

  test('a status-less client close before setup is answered with 1000', async () => {
    const c = await RawClient.open(h.srv.url);
    c.ws.close();
    await assertClosedWith(c, NORMAL);
    assert.deepEqual(c.messages, []);
    await assertServerHealthy(h);
  });

  test('a status-less client close in the middle of a streamed reply is answered with 1000 and the generation stops', async () => {
    const c = await RawClient.connect(h.srv.url);
    const id = sessionIdOf(c);
    // Watched from now: a closed connection's session leaves the server's sessions.
    const session = h.srv.server.sessions.watch(id);
    c.send(textTurn('slow please'));
    await c.waitFor((m) => m.serverContent?.modelTurn !== undefined);
    c.ws.close();
    await assertClosedWith(c, NORMAL);
    await waitFor(() => session?.().status === 'ended', 'the session ended');
    assert.equal(session!().status, 'ended');
    await assertServerHealthy(h);
  });

  test('a client close with 1000 is answered with 1000', async () => {
    const c = await RawClient.connect(h.srv.url);
    c.ws.close(1000);
    assert.equal((await c.waitClose()).code, 1000);
    await assertServerHealthy(h);
  });

  test('a TCP drop without a close frame (terminate) mid-reply ends the session; the server survives', async () => {
    const c = await RawClient.connect(h.srv.url);
    const id = sessionIdOf(c);
    c.send(textTurn('slow please'));
    await c.waitFor((m) => m.serverContent?.modelTurn !== undefined);
    c.ws.terminate();
    await waitFor(() => h.srv.server.sessions.get(id) === undefined, 'the session ended');
    await assertServerHealthy(h);
  });
});

describe('messages after the client\'s own close', () => {
  const h = slowHarness();

  test('a frame written after the client\'s close frame is dropped (not processed, no crash)', async () => {
    const c = await RawClient.connect(h.srv.url);
    const id = sessionIdOf(c);
    // Watched from now: a closed connection's session leaves the server's sessions.
    const session = h.srv.server.sessions.watch(id);
    c.ws.close();
    // Straight onto the socket, behind the close frame: the server must ignore it.
    c.writeFrameToSocket(OPCODE_TEXT, Buffer.from(JSON.stringify(textTurn('after close'))));
    // ws itself drops a send after close() without throwing.
    c.ws.send(JSON.stringify(textTurn('after close, via ws')));
    await assertClosedWith(c, NORMAL);
    assert.equal(c.messages.length, 1, 'nothing but setupComplete was sent');
    await waitFor(() => session?.().status === 'ended', 'the session ended');
    assert.deepEqual(session!().context, [], 'the frame after the close was not processed');
    await assertServerHealthy(h);
  });

  test('a close frame and a clientContent frame in one TCP write: the clientContent is dropped', async () => {
    const c = await RawClient.connect(h.srv.url);
    const id = sessionIdOf(c);
    // Watched from now: a closed connection's session leaves the server's sessions.
    const session = h.srv.server.sessions.watch(id);
    const closeFrame = encodeMaskedFrame(OPCODE_CLOSE, Buffer.alloc(0));
    const late = encodeMaskedFrame(OPCODE_TEXT, Buffer.from(JSON.stringify(textTurn('late'))));
    const socket = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.write(Buffer.concat([closeFrame, late]));
    const got = await c.waitClose();
    assert.equal(got.code, 1000, 'a status-less close is answered with 1000');
    assert.equal(c.messages.length, 1, 'nothing but setupComplete was sent');
    await waitFor(() => session?.().status === 'ended', 'the session ended');
    assert.deepEqual(session!().context, []);
    await assertServerHealthy(h);
  });

  test('a turn immediately followed by a status-less close: 1000, and the reply being generated is abandoned cleanly', async () => {
    const c = await RawClient.connect(h.srv.url);
    const id = sessionIdOf(c);
    // Watched from now: a closed connection's session leaves the server's sessions.
    const session = h.srv.server.sessions.watch(id);
    c.send(textTurn('slow please'));
    c.ws.close();
    await assertClosedWith(c, NORMAL);
    await waitFor(() => session?.().status === 'ended', 'the session ended');
    assert.equal(session!().status, 'ended');
    // Outlive the scripted reply (15 chunks, 20 ms apart) to catch a late send or a crash.
    await new Promise((r) => setTimeout(r, 350));
    await assertServerHealthy(h);
  });
});

describe('frame size limit (maxFrameBytes: 64 KiB)', () => {
  const LIMIT = 64 * 1024;
  const TOO_LARGE: CloseInfo = { code: 1009, reason: `Request payload size exceeds the limit: ${LIMIT} bytes.` };
  const h = slowHarness({ maxFrameBytes: LIMIT });

  const bigAudio = (bytes: number) => {
    const frame = (data: string) => JSON.stringify({ realtimeInput: { audio: { data, mimeType: 'audio/pcm;rate=16000' } } });
    const overhead = frame('').length;
    const base64Len = Math.floor((bytes - overhead) / 4) * 4;
    return frame('A'.repeat(base64Len));
  };

  test('a 100 KiB frame after setup → 1009 "Request payload size exceeds the limit: 65536 bytes."', async () => {
    const c = await RawClient.connect(h.srv.url);
    const frame = bigAudio(100 * 1024);
    assert.ok(frame.length > LIMIT);
    c.sendRaw(frame);
    await assertClosedWith(c, TOO_LARGE);
    await assertServerHealthy(h);
  });

  test('a 100 KiB frame as the first message → 1009', async () => {
    const c = await RawClient.open(h.srv.url);
    c.sendRaw(JSON.stringify({ setup: { model: MODEL, systemInstruction: { parts: [{ text: 'x'.repeat(100 * 1024) }] } } }));
    await assertClosedWith(c, TOO_LARGE);
    assert.deepEqual(c.messages, []);
    await assertServerHealthy(h);
  });

  test('a message of small fragments that together exceed the limit → 1009', async () => {
    const c = await RawClient.connect(h.srv.url);
    const frame = Buffer.from(bigAudio(100 * 1024));
    const piece = 16 * 1024;
    for (let i = 0; i < frame.length; i += piece) {
      c.ws.send(frame.subarray(i, i + piece), { binary: false, fin: i + piece >= frame.length });
    }
    await assertClosedWith(c, TOO_LARGE);
    await assertServerHealthy(h);
  });

  test('a frame just under the limit is accepted and the session goes on', async () => {
    const c = await RawClient.connect(h.srv.url);
    const frame = bigAudio(LIMIT - 16);
    assert.ok(Buffer.byteLength(frame) <= LIMIT);
    c.sendRaw(frame);
    assert.match(await c.turn('still fine'), /You said: still fine/);
    assert.equal(c.closed, undefined);
    await c.dispose();
    await h.witness.assertUndisturbed();
  });
});

describe('pre-setup timeout (ManualClock, default 30 s)', () => {
  const clock = new ManualClock(1_000_000);
  const h = slowHarness({ clock });

  test('no setup within the pre-setup timeout → 1011 "Deadline expired before operation could complete."', async () => {
    const c = await RawClient.open(h.srv.url);
    await clock.advance(29_999);
    assert.equal(await c.staysOpen(20), true, 'not closed before the deadline');
    await clock.advance(1);
    await assertClosedWith(c, DEADLINE);
    assert.deepEqual(c.messages, []);
    await assertServerHealthy(h);
  });

  test('a setup before the deadline cancels it', async () => {
    const c = await RawClient.connect(h.srv.url);
    await clock.advance(60_000);
    assert.equal(await c.staysOpen(20), true);
    assert.match(await c.turn('after the deadline'), /You said: after the deadline/);
    await c.dispose();
    await h.witness.assertUndisturbed();
  });

  test('a bad first frame is answered at once, not at the deadline', async () => {
    const c = await RawClient.open(h.srv.url);
    c.sendRaw('nope');
    await assertClosedWith(c, { code: 1007, reason: 'Request contains an invalid argument.' });
    await clock.advance(30_000);
    await assertServerHealthy(h);
  });
});

describe('pre-setup timeout (real time, setupTimeoutMs: 100)', () => {
  const h = slowHarness({ setupTimeoutMs: 100 });

  test('a client that connects and sends nothing is closed with 1011 after ~100 ms', async () => {
    const started = Date.now();
    const c = await RawClient.open(h.srv.url);
    await assertClosedWith(c, DEADLINE);
    assert.ok(Date.now() - started >= 90, 'not before the timeout');
    assert.deepEqual(c.messages, []);
    await assertServerHealthy(h);
  });
});

describe('server shutdown', () => {
  test('server.close() closes live connections with 1001 "Server shutting down." and resolves', async () => {
    const srv = await startServer({ keepaliveIntervalMs: 0 });
    const active = await RawClient.connect(srv.url);
    const waiting = await RawClient.open(srv.url);
    await srv.close();
    assert.deepEqual(await active.waitClose(), { code: 1001, reason: 'Server shutting down.' });
    assert.deepEqual(await waiting.waitClose(), { code: 1001, reason: 'Server shutting down.' });
  });
});
