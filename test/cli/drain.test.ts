import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Modality } from '@google/genai';
import { startBin } from '../helpers/bin.js';
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
