/**
 * The `modelProfiles` option (issue #16): a user's profile for a model of their own is what the
 * server runs, here seen on the wire through the fields the emulator acts on.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Modality } from '@google/genai';
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
