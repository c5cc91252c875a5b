/**
 * LiveKit's text input, frame for frame as @livekit/agents-plugin-google 1.9.0 sends it (its
 * transcript against relive): the words as `clientContent {turnComplete: false}`, then a "."
 * placeholder with `turnComplete: true`; `generateReply({instructions})` as a model-role turn,
 * then the placeholder. relive answered "You said: ." to all of it, so scenario rules and the
 * built-in tool calls never fired from LiveKit. The model now reads the user's whole input since
 * it last spoke.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startServer({
    keepaliveIntervalMs: 0,
    scenario: { fallback: 'builtin', rules: [{ match: { regex: 'weather in \\w+' }, reply: [{ text: 'Sunny in the scenario.' }] }] },
  });
});
after(() => server.close());

const SETUP = {
  setup: {
    model: 'models/gemini-live-2.5-flash-preview',
    generationConfig: { responseModalities: ['TEXT'] },
    tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } }] }],
  },
};
const say = (role: 'user' | 'model', text: string, turnComplete: boolean) => ({ clientContent: { turns: [{ parts: [{ text }], role }], turnComplete } });

async function reply(c: RawClient, ...frames: object[]): Promise<string> {
  const from = c.messages.length;
  for (const f of frames) c.send(f);
  await c.waitFor((m) => m.serverContent?.turnComplete === true || m.toolCall !== undefined, 3000, from);
  return c.textFrom(from);
}

test('typed text then the "." placeholder: the reply answers the words', async () => {
  const c = await RawClient.connect(server.url, SETUP);
  assert.equal(await reply(c, say('user', 'hello, I typed this', false), say('user', '.', true)), 'Hello! This is relive, the Gemini Live emulator. You said: hello, I typed this');
  await c.dispose();
});

test('a scenario rule matches words sent before the placeholder', async () => {
  const c = await RawClient.connect(server.url, SETUP);
  assert.equal(await reply(c, say('user', 'what is the weather in Paris', false), say('user', '.', true)), 'Sunny in the scenario.');
  await c.dispose();
});

test('the built-in tool call fires from words sent before the placeholder', async () => {
  const c = await RawClient.connect(server.url, SETUP);
  const from = c.messages.length;
  c.send(say('user', 'call get_weather city=Oslo', false));
  c.send(say('user', '.', true));
  const call = await c.waitFor((m) => m.toolCall !== undefined, 3000, from);
  assert.deepEqual(call.toolCall.functionCalls.map((f: { name: string; args: unknown }) => [f.name, f.args]), [['get_weather', { city: 'Oslo' }]]);
  await c.dispose();
});

test('generateReply({instructions}): the model-role instructions are the words when the user said none', async () => {
  const c = await RawClient.connect(server.url, SETUP);
  await reply(c, say('user', 'first turn', true));
  assert.equal(await reply(c, say('model', 'Greet the user warmly', false), say('user', '.', true)), 'You said: Greet the user warmly');
  await c.dispose();
});

test('history the client replays (user and model turns) is not read as new input', async () => {
  const c = await RawClient.connect(server.url, SETUP);
  const replay = { clientContent: { turns: [{ parts: [{ text: 'old question' }], role: 'user' }, { parts: [{ text: 'old answer' }], role: 'model' }], turnComplete: false } };
  assert.equal(await reply(c, replay, say('user', 'new question', true)), 'You said: new question');
  await c.dispose();
});

test('a "." with nothing before it is answered as it is', async () => {
  const c = await RawClient.connect(server.url, SETUP);
  assert.equal(await reply(c, say('user', '.', true)), 'You said: .');
  await c.dispose();
});
