/**
 * interactionStatus on turnComplete (issue #16): 3.8 profiles send it on every turnComplete,
 * IDLE on the last turn of a request; older models never send it. And usageMetadata per profile:
 * gemini-3.1-flash-live-preview sends none.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Modality } from '@google/genai';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startServer({ keepaliveIntervalMs: 0 });
});
after(() => server.close());

async function oneTurn(model: string, modality: Modality): Promise<Inbox> {
  const inbox = new Inbox();
  const session = await sdk(server.url).live.connect({ model, config: { responseModalities: [modality] }, callbacks: inbox.callbacks });
  // Realtime text: every model takes it (3.1 takes clientContent only as initial history).
  session.sendRealtimeInput({ text: 'hello there' });
  await inbox.turnComplete();
  session.close();
  await inbox.waitClose();
  return inbox;
}

test('gemini-3.8-live: the turnComplete of a request carries interactionStatus IDLE', async () => {
  const inbox = await oneTurn('gemini-3.8-live', Modality.AUDIO);
  const completes = inbox.messages.filter((m) => m.serverContent?.turnComplete);
  assert.equal(completes.length, 1);
  assert.equal(completes[0]?.serverContent?.interactionStatus, 'IDLE');
  // Only turnComplete carries it.
  const others = inbox.messages.filter((m) => m.serverContent && !m.serverContent.turnComplete);
  assert.ok(others.length > 0);
  assert.ok(others.every((m) => m.serverContent?.interactionStatus === undefined));
});

test('gemini-2.5: no interactionStatus on turnComplete', async () => {
  const inbox = await oneTurn('gemini-live-2.5-flash-preview', Modality.TEXT);
  const completes = inbox.messages.filter((m) => m.serverContent?.turnComplete);
  assert.equal(completes.length, 1);
  assert.equal(completes[0]?.serverContent?.interactionStatus, undefined);
});

test('gemini-3.1-flash-live-preview: no usageMetadata on any message; 2.5 and 3.8 send it with turnComplete', async () => {
  const v31 = await oneTurn('gemini-3.1-flash-live-preview', Modality.AUDIO);
  assert.equal(v31.messages.filter((m) => m.serverContent?.turnComplete).length, 1);
  assert.ok(v31.messages.every((m) => m.usageMetadata === undefined));
  for (const [model, modality] of [['gemini-3.8-live', Modality.AUDIO], ['gemini-live-2.5-flash-preview', Modality.TEXT]] as const) {
    const inbox = await oneTurn(model, modality);
    const complete = inbox.messages.find((m) => m.serverContent?.turnComplete);
    assert.ok((complete?.usageMetadata?.totalTokenCount ?? 0) > 0, model);
  }
});
