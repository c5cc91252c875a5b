/**
 * The official @google/genai 3.1.0 SDK, unmodified, pointed at relive with httpOptions.baseUrl.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Behavior, Modality, type FunctionCall } from '@google/genai';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';
let server: TestServer;

before(async () => {
  server = await startServer({ keepaliveIntervalMs: 0 });
});
after(() => server.close());

describe('@google/genai against relive', () => {
  test('the session-management example of the Gemini docs runs unchanged', async () => {
    // https://ai.google.dev/gemini-api/docs/live-session: resumption and compression on, "Hello world!".
    const ai = sdk(server.url);
    const inbox = new Inbox();
    const previousSessionHandle: string | undefined = undefined;
    const session = await ai.live.connect({
      model: MODEL,
      callbacks: inbox.callbacks,
      config: {
        responseModalities: [Modality.TEXT],
        sessionResumption: { handle: previousSessionHandle },
        contextWindowCompression: { slidingWindow: {} },
      },
    });
    session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'Hello world!' }] }] });
    const done = await inbox.turnComplete();
    assert.equal(done.serverContent?.turnComplete, true);
    assert.match(inbox.text(), /Hello world!/);
    assert.ok(inbox.messages.some((m) => m.serverContent?.generationComplete === true));
    session.close();
    assert.deepEqual(await inbox.waitClose(), { code: 1000, reason: '' });
  });

  test('setupComplete carries the session id, visible through the control API', async () => {
    const inbox = new Inbox();
    const session = await sdk(server.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
    const id = inbox.messages[0]?.setupComplete?.sessionId;
    assert.ok(id);
    const res = await fetch(`${server.url}/relive/v1/sessions/${id}`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'idle');
    session.close();
    await inbox.waitClose();
  });

  test('every API version and the default v1 path work', async () => {
    for (const version of ['v1', 'v1beta', 'v1alpha']) {
      const inbox = new Inbox();
      const session = await sdk(server.url, version).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
      session.sendClientContent({ turns: `hi on ${version}` });
      await inbox.turnComplete();
      assert.match(inbox.text(), new RegExp(`hi on ${version}`));
      session.close();
      await inbox.waitClose();
    }
  });

  test('a function call round trip: toolCall, sendToolResponse, the model continues', async () => {
    const inbox = new Inbox();
    const session = await sdk(server.url).live.connect({
      model: MODEL,
      callbacks: inbox.callbacks,
      config: {
        responseModalities: [Modality.TEXT],
        tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'weather', parameters: { type: 'OBJECT' as never, properties: { city: { type: 'STRING' as never } }, required: ['city'] } }] }],
      },
    });
    session.sendClientContent({ turns: 'What does get_weather say for city=Paris?' });
    const msg = await inbox.waitFor((m) => m.toolCall !== undefined);
    const call = msg.toolCall!.functionCalls![0] as FunctionCall;
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(call.args, { city: 'Paris' });
    const mark = inbox.messages.length;
    session.sendToolResponse({ functionResponses: [{ id: call.id, name: call.name, response: { output: 'sunny, 21 C' } }] });
    await inbox.turnComplete(mark);
    assert.match(inbox.text(mark), /sunny, 21 C/);
    session.close();
    await inbox.waitClose();
  });

  test('non-blocking functions are declared with Behavior.NON_BLOCKING and do not hold the turn', async () => {
    const inbox = new Inbox();
    const session = await sdk(server.url).live.connect({
      model: MODEL,
      callbacks: inbox.callbacks,
      config: { responseModalities: [Modality.TEXT], tools: [{ functionDeclarations: [{ name: 'search_docs', behavior: Behavior.NON_BLOCKING }] }] },
    });
    session.sendClientContent({ turns: 'search docs for goAway' });
    await inbox.turnComplete();
    assert.ok(inbox.messages.some((m) => m.toolCall));
    session.close();
    await inbox.waitClose();
  });

  test('sending during a reply interrupts it: interrupted, then turnComplete, no generationComplete', async () => {
    const slow = await startServer({
      keepaliveIntervalMs: 0,
      scenario: { fallback: 'builtin', rules: [{ match: { text: 'story' }, reply: [{ text: 'Once upon a time there was a very long story that kept going and going.', chunkDelayMs: 50 }] }] },
    });
    try {
      const inbox = new Inbox();
      const session = await sdk(slow.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
      session.sendClientContent({ turns: 'tell me a story' });
      await inbox.waitFor((m) => m.serverContent?.modelTurn !== undefined);
      const mark = inbox.messages.length;
      session.sendClientContent({ turns: 'stop' });
      await inbox.waitFor((m) => m.serverContent?.interrupted === true, mark);
      const firstTurnEnd = inbox.messages.findIndex((m, i) => i >= mark && m.serverContent?.turnComplete);
      assert.ok(inbox.messages.slice(0, firstTurnEnd).every((m) => !m.serverContent?.generationComplete));
      await inbox.turnComplete(firstTurnEnd + 1);
      assert.match(inbox.text(firstTurnEnd + 1), /You said: stop/);
      session.close();
      await inbox.waitClose();
    } finally {
      await slow.close();
    }
  });

  test('sendRealtimeInput text and sendContextUpdate are accepted', async () => {
    const inbox = new Inbox();
    const session = await sdk(server.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
    session.sendContextUpdate({ systemInstruction: { parts: [{ text: 'Be brief.' }], role: 'user' } });
    session.sendRealtimeInput({ text: 'typed realtime text' });
    await inbox.turnComplete();
    assert.match(inbox.text(), /typed realtime text/);
    session.close();
    await inbox.waitClose();
  });

  test('the web build works over Node 20 WebSocket (--experimental-websocket)', async () => {
    const script = `
      import { GoogleGenAI, Modality } from '@google/genai/web';
      const ai = new GoogleGenAI({ apiKey: 'web-key', httpOptions: { baseUrl: ${JSON.stringify(server.url)}, apiVersion: 'v1beta' } });
      let text = '';
      let resolveDone;
      const done = new Promise((r) => (resolveDone = r));
      const session = await ai.live.connect({
        model: ${JSON.stringify(MODEL)},
        config: { responseModalities: [Modality.TEXT] },
        callbacks: { onmessage: (m) => { text += m.text ?? ''; if (m.serverContent?.turnComplete) resolveDone(); }, onerror: () => {}, onclose: () => {} },
      });
      session.sendClientContent({ turns: 'hello from the browser build' });
      await done;
      session.close();
      console.log(JSON.stringify({ text }));
    `;
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '--input-type=module', '-e', script], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    const { text } = JSON.parse(stdout.trim().split('\n').pop()!) as { text: string };
    assert.match(text, /hello from the browser build/);
  });
});
