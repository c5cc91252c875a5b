import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runChat, type ChatOptions } from '../../src/cli/chat.js';
import { parseScenario } from '../../src/engine/scripted/scenario.js';
import { startServer, type TestServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';

/** Runs a chat fed with `lines` (piped, not a TTY) and returns its exit code and everything it printed. */
async function chat(
  url: string,
  lines: string[],
  extra: Partial<ChatOptions> = {},
  endInput = true,
): Promise<{ code: number; out: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => (out += chunk));
  for (const line of lines) input.write(`${line}\n`);
  if (endInput) input.end();
  const code = await runChat({
    url,
    model: MODEL,
    apiKey: 'test-key',
    apiVersion: 'v1beta',
    modality: 'TEXT',
    input,
    output,
    ...extra,
  });
  return { code, out };
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('relive chat', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  test('piped TEXT chat: header, both replies in order, exit 0 at end of input', async () => {
    const { code, out } = await chat(server.url, ['Hello there', 'second turn']);
    assert.equal(code, 0, out);
    const lines = out.split('\n');
    assert.match(lines[0]!, /^relive chat: /);
    assert.ok(lines[0]!.includes(server.url), lines[0]);
    assert.ok(lines[0]!.includes(MODEL), lines[0]);
    assert.ok(lines[0]!.includes('TEXT'), lines[0]);
    const first = out.indexOf('You said: Hello there');
    const second = out.indexOf('You said: second turn');
    assert.ok(first > 0, out);
    assert.ok(second > first, out);
    // Piped input waits for each turn: the second line is sent only after the first reply.
    assert.ok(out.indexOf('you> second turn') > first, out);
    assert.match(out, /^model> Hello! This is relive, the Gemini Live emulator\. You said: Hello there$/m);
    assert.match(out, /^model> You said: second turn$/m);
    assert.doesNotMatch(out, /\[closed|\[error/);
  });

  test('/help and /quit: help text, unknown command note, nothing after /quit is sent', async () => {
    const { code, out } = await chat(server.url, ['/help', '/nope', 'Hello there', '/quit', 'never sent'], {}, false);
    assert.equal(code, 0, out);
    assert.match(out, /\/quit/);
    assert.match(out, /\[unknown command \/nope; \/help lists the commands\]/);
    assert.match(out, /You said: Hello there/);
    assert.doesNotMatch(out, /never sent/);
  });

  test('AUDIO modality prints the transcript and an [audio …] note', { timeout: 20_000 }, async () => {
    const { code, out } = await chat(server.url, ['Hello there'], { modality: 'AUDIO', voice: 'Puck' });
    assert.equal(code, 0, out);
    assert.ok(out.split('\n')[0]!.includes('AUDIO'), out);
    assert.match(out, /You said: Hello there/);
    const note = /\[audio (\d+\.\d) s\]/.exec(out);
    assert.ok(note, out);
    assert.ok(Number(note[1]) > 0.5, out);
  });

  test('a connection that fails resolves with 1 and prints an error', async () => {
    const port = await closedPort();
    const { code, out } = await chat(`http://127.0.0.1:${port}`, ['Hello there']);
    assert.equal(code, 1);
    assert.match(out, /^relive chat: /);
    assert.match(out, /\[error: cannot connect to http:\/\/127\.0\.0\.1:\d+: .+\]/);
  });
});

describe('relive chat with a scripted scenario', () => {
  let server: TestServer;
  before(async () => {
    const scenario = parseScenario(
      JSON.stringify({
        rules: [
          { match: { text: 'weather' }, reply: [{ text: 'Let me check.' }, { call: { name: 'get_weather', args: { city: 'Paris' } } }, { text: 'The tool said: {{response.output}}' }] },
          { match: { text: 'break' }, reply: [{ text: 'Oops.' }, { close: 'unavailable' }] },
        ],
      }),
      'json',
    );
    server = await startServer({ scenario });
  });
  after(async () => {
    await server.close();
  });

  test('a tool call is printed and answered automatically, and the turn continues', async () => {
    const { code, out } = await chat(server.url, ['weather', 'after the tool']);
    assert.equal(code, 0, out);
    assert.match(out, /\[tool call get_weather\(\{"city":"Paris"\}\).*ok \(answered by relive chat\)/);
    // The script resumes after the call with the response it received, in the same turn.
    assert.match(out, /^model> The tool said: ok \(answered by relive chat\)$/m);
    assert.ok(out.indexOf('The tool said') < out.indexOf('you> after the tool'), out);
    assert.match(out, /You said: after the tool/);
  });

  test('a server close with an error code prints [closed …] and resolves with 1', async () => {
    const { code, out } = await chat(server.url, ['break', 'not answered']);
    assert.equal(code, 1, out);
    assert.match(out, /\[closed 1011: The service is currently unavailable\.\]/);
    assert.doesNotMatch(out, /You said: not answered/);
  });
});
