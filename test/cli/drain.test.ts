import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Modality } from '@google/genai';
import { startBin } from '../helpers/bin.js';
import { waitFor } from '../helpers/wait.js';
import { Inbox, sdk } from '../helpers/server.js';

test('SIGTERM drains (goAway, close at the deadline, exit 0) and a restarted server resumes the session from SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relive-drain-'));
  const store = `sqlite:${join(dir, 'relive.db')}`;
  const first = startBin(['--port', '0', '--store', store, '--drain-notice', '0.5']);
  const url = await first.listening;
  const inbox = new Inbox();
  const session = await sdk(url).live.connect({
    model: 'gemini-live-2.5-flash-preview',
    config: { responseModalities: [Modality.TEXT], sessionResumption: {} },
    callbacks: inbox.callbacks,
  });
  const id = inbox.messages[0]!.setupComplete!.sessionId!;
  session.sendClientContent({ turns: 'remember the number 42' });
  await inbox.turnComplete();
  const update = await inbox.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined && inbox.messages.indexOf(m) > 2);
  const handle = update.sessionResumptionUpdate!.newHandle!;

  first.child.kill('SIGTERM');
  const goAway = await inbox.waitFor((m) => m.goAway !== undefined);
  assert.equal(goAway.goAway!.timeLeft, '0.5s');
  assert.deepEqual(await inbox.waitClose(), { code: 1008, reason: 'The operation was aborted.' });
  assert.equal(await first.exited, 0);

  const port = new URL(url).port;
  const second = startBin(['--port', port, '--store', store]);
  await second.listening;
  const again = new Inbox();
  const resumed = await sdk(url).live.connect({
    model: 'gemini-live-2.5-flash-preview',
    config: { responseModalities: [Modality.TEXT], sessionResumption: { handle } },
    callbacks: again.callbacks,
  });
  assert.equal(again.messages[0]!.setupComplete!.sessionId, id);
  resumed.sendClientContent({ turns: 'what was the number?' });
  await again.turnComplete();
  const detail = (await (await fetch(`${url}/relive/v1/sessions/${id}`)).json()) as { context: { role: string; parts: { text?: string }[] }[] };
  assert.deepEqual(
    detail.context.map((t) => t.parts[0]?.text),
    ['remember the number 42', 'You said: remember the number 42', 'what was the number?', 'You said: what was the number?'],
  );
  resumed.close();
  await again.waitClose();
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});

test('Ctrl-C with a client connected says what the drain waits for; a second one stops before the drain\'s deadline', async () => {
  const relive = startBin(['--port', '0', '--store', 'memory', '--drain-notice', '600']);
  const url = await relive.listening;
  const inbox = new Inbox();
  await sdk(url).live.connect({ model: 'gemini-live-2.5-flash-preview', config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });

  relive.child.kill('SIGINT');
  const goAway = await inbox.waitFor((m) => m.goAway !== undefined);
  assert.equal(goAway.goAway!.timeLeft, '600s');
  const entries = () => relive.lines.map((l) => JSON.parse(l) as { msg: string; level: number; connections?: number; drainAtMostMs?: number });
  // stdout and the socket are read apart: the line may come in after the goAway.
  await waitFor(() => entries().some((e) => e.msg.startsWith('draining 1 connection')), 'the draining log line');
  const told = entries().find((e) => e.msg.startsWith('draining 1 connection'))!;
  assert.equal(told.msg, 'draining 1 connection: goAway sent to each, new connections refused; stopping once the clients have left, in at most 600 s — press Ctrl-C again to stop at once');
  assert.equal(told.connections, 1);
  assert.equal(told.drainAtMostMs, 600_000);

  relive.child.kill('SIGINT');
  assert.equal(await relive.exited, 0);
  // Before the drain's deadline, whose close would be 1008: the client got the shutdown's 1001.
  assert.deepEqual(await inbox.waitClose(), { code: 1001, reason: 'Server shutting down.' });
  // 'exit' may come before the last of stdout is read.
  await waitFor(() => entries().at(-1)?.msg === 'stopped', 'the stopped log line');
  const msgs = entries().map((e) => e.msg);
  assert.ok(msgs.indexOf('second signal: closing every connection now') > msgs.indexOf(told.msg));
});

test('SIGTERM drains with the same account, naming the signals that stop at once; scaled deadlines are told in real seconds', async () => {
  const relive = startBin(['--port', '0', '--store', 'memory', '--drain-notice', '120', '--time-scale', '60']);
  const url = await relive.listening;
  const inbox = new Inbox();
  await sdk(url).live.connect({ model: 'gemini-live-2.5-flash-preview', config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
  relive.child.kill('SIGTERM');
  assert.deepEqual(await inbox.waitClose(), { code: 1008, reason: 'The operation was aborted.' });
  assert.equal(await relive.exited, 0);
  await waitFor(() => relive.lines.some((l) => l.includes('"msg":"stopped"')), 'the stopped log line');
  const msgs = relive.lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.ok(
    msgs.includes('draining 1 connection: goAway sent to each, new connections refused; stopping once the clients have left, in at most 2 s — a second SIGTERM or SIGINT stops at once'),
    msgs.join('\n'),
  );
});
