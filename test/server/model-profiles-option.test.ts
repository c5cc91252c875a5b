/**
 * The `modelProfiles` option (issue #16): a user's profile for a model of their own is what the
 * server runs, here seen on the wire through the fields the emulator acts on.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Modality } from '@google/genai';
import { pino } from 'pino';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startServer({
    keepaliveIntervalMs: 0,
    modelProfiles: [{ name: 'acme-live-1', extends: 'gemini-3.8-live', models: ['acme-live-1*'], usageMetadata: false }],
  });
});
after(() => server.close());

test('a model of the user\'s own runs its profile: interactionStatus from 3.8, no usageMetadata', async () => {
  const inbox = new Inbox();
  const session = await sdk(server.url).live.connect({ model: 'acme-live-1-preview', config: { responseModalities: [Modality.AUDIO] }, callbacks: inbox.callbacks });
  session.sendClientContent({ turns: 'hello there' });
  await inbox.turnComplete();
  session.close();
  await inbox.waitClose();
  const complete = inbox.messages.find((m) => m.serverContent?.turnComplete);
  assert.equal(complete?.serverContent?.interactionStatus, 'IDLE');
  assert.ok(inbox.messages.every((m) => m.usageMetadata === undefined));
});

test('a model no profile names runs with the default profile, and the server warns once per model', async () => {
  const lines: { level: number; msg: string; model?: string; profile?: string }[] = [];
  const logged = await startServer({ keepaliveIntervalMs: 0, logger: pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s)) }) });
  try {
    for (const model of ['gemini-9-live', 'gemini-9-live', 'models/gemini-9-live', 'gemini-live-2.5-flash-preview', 'gemini-10-live']) {
      const inbox = new Inbox();
      const session = await sdk(logged.url).live.connect({ model, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
      session.sendClientContent({ turns: 'hello there' });
      await inbox.turnComplete();
      session.close();
      await inbox.waitClose();
    }
    const warnings = lines.filter((l) => l.msg.startsWith('no model profile names this model'));
    assert.deepEqual(
      warnings.map((w) => [w.model, w.profile]),
      [
        ['models/gemini-9-live', 'default'],
        ['models/gemini-10-live', 'default'],
      ],
    );
  } finally {
    await logged.close();
  }
});
