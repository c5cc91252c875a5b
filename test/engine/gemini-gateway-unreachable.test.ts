/**
 * Issue #14 item 6b, as it was found: `relive --engine gemini --upstream-url http://127.0.0.1:PORT`
 * with nothing listening there sent setupComplete, then nothing for 34 s (the client library's
 * whole reconnect ladder), then 1011 with a raw "connect ECONNREFUSED", and logged nothing. Now the
 * start-up check says the upstream cannot be reached, a session's first turn is closed at once
 * with the real service's close for an unavailable backend, and the log says why.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { startBin } from '../helpers/bin.js';
import { waitFor } from '../helpers/wait.js';
import { Inbox, sdk } from '../helpers/server.js';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

type LogLine = { level: number; msg: string; upstreamUrl?: string; cause?: string; close?: { code: number; reason: string } };

describe('gateway with an unreachable upstream', () => {
  // The old behaviour took 34 s; a bound that fails it, not a timing assertion.
  test('says so at start-up, closes the first turn with 1011 "The service is currently unavailable." and logs the cause', { timeout: 20_000 }, async () => {
    const port = await closedPort();
    const upstreamUrl = `http://127.0.0.1:${port}`;
    const bin = startBin(['--port', '0', '--store', 'memory', '--engine', 'gemini', '--upstream-url', upstreamUrl, '--log-level', 'info']);
    const url = await bin.listening;
    const logs = (): LogLine[] => bin.lines.map((l) => JSON.parse(l) as LogLine);

    const inbox = new Inbox();
    const session = await sdk(url).live.connect({ model: 'gemini-live-2.5-flash-preview', config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
    session.sendClientContent({ turns: 'Hello?' });
    const closed = await inbox.waitClose();
    assert.deepEqual(closed, { code: 1011, reason: 'The service is currently unavailable.' });
    // setupComplete (relive owns the session), then the close: no partial turn before it.
    assert.ok(inbox.messages[0]!.setupComplete, 'setupComplete first');
    assert.equal(inbox.messages.filter((m) => m.serverContent).length, 0);

    const opened = logs().find((l) => l.msg.startsWith('upstream session could not be opened'));
    assert.ok(opened, `no log line for the failed upstream session:\n${bin.lines.join('\n')}`);
    assert.ok(opened.level >= 40, 'a warning or worse');
    assert.equal(opened.upstreamUrl, upstreamUrl);
    assert.match(opened.cause!, /ECONNREFUSED/);
    assert.deepEqual(opened.close, { code: 1011, reason: 'The service is currently unavailable.' });

    // The start-up check runs alongside, not before listening: its line comes when it has its answer.
    await waitFor(() => logs().some((l) => l.msg.includes('cannot be reached')), 'the unreachable log line').catch(() => undefined);
    const probe = logs().find((l) => l.msg.includes('cannot be reached'));
    assert.ok(probe, `no start-up line about the upstream:\n${bin.lines.join('\n')}`);
    assert.ok(probe.level >= 40);
    assert.equal(probe.upstreamUrl, upstreamUrl);
    assert.match(probe.cause!, /ECONNREFUSED/);
    assert.match(probe.msg, new RegExp(`gateway upstream http://127\\.0\\.0\\.1:${port} cannot be reached \\(ECONNREFUSED.*\\): sessions will close with 1011`));

    bin.child.kill('SIGTERM');
    assert.equal(await bin.exited, 0);
  });
});
