/**
 * The gateway (issue #8 item 3): relive in front of an upstream Live service — here a second relive
 * in emulator mode whose connections last 1.5 s. The client's session spans many upstream
 * connection lifetimes and sees none of them.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { GeminiEngine } from '../../src/engine/gemini/gemini-engine.js';
import { parseScenario } from '../../src/engine/scripted/scenario.js';
import { Inbox, oneTurnThenLeave, sdk, startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const MODEL = 'gemini-live-2.5-flash-preview';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function upstreamAndGateway(scenario?: string) {
  const upstream = await startServer({
    keepaliveIntervalMs: 0,
    vad: false,
    lifetimes: { connectionMs: 1500, goAwayNoticeMs: 500 },
    ...(scenario ? { scenario: parseScenario(scenario, 'json') } : {}),
  });
  const gateway = await startServer({ keepaliveIntervalMs: 0, vad: false, engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway' }) });
  return {
    upstream,
    gateway,
    close: async () => {
      await gateway.close();
      await upstream.close();
    },
  };
}

async function detail(url: string, id: string) {
  return (await (await fetch(`${url}/relive/v1/sessions/${id}`)).json()) as { context: { role: string; parts: { text?: string }[] }[]; engine?: { upstream: { rotations: number; lastRestore?: string } } };
}

describe('gemini engine (gateway)', () => {
  test('a client session across many upstream lifetimes: no goAway, every input answered once, upstream record exact', async () => {
    const { upstream, gateway, close } = await upstreamAndGateway();
    try {
      const inbox = new Inbox();
      const session = await sdk(gateway.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
      const id = inbox.messages[0]!.setupComplete!.sessionId!;
      const texts: string[] = [];
      const started = Date.now();
      for (let i = 1; Date.now() - started < 6000; i++) {
        const from = inbox.messages.length;
        texts.push(`turn number ${i}`);
        session.sendClientContent({ turns: `turn number ${i}` });
        await inbox.turnComplete(from);
        assert.equal(inbox.text(from), `You said: turn number ${i}`);
        await sleep(150);
      }
      assert.equal(inbox.messages.some((m) => m.goAway), false, 'the upstream goAways stay behind the gateway');
      assert.equal(inbox.closed, undefined);
      const mine = await detail(gateway.url, id);
      assert.ok(mine.engine!.upstream.rotations >= 3, `upstream rotations ${mine.engine!.upstream.rotations}`);
      const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
      assert.equal(sessions.length, 1, 'one upstream session, resumed at every rotation');
      const upstreamUser = (await detail(upstream.url, sessions[0]!.id)).context.filter((t) => t.role === 'user').map((t) => t.parts[0]!.text);
      assert.deepEqual(upstreamUser, texts, 'every input reached the upstream exactly once');
      session.close();
      await inbox.waitClose();
    } finally {
      await close();
    }
  });

  test('tool calls through the gateway: relive ids to the client, the upstream ids to the upstream', async () => {
    const { gateway, close } = await upstreamAndGateway();
    try {
      const inbox = new Inbox();
      const session = await sdk(gateway.url).live.connect({
        model: MODEL,
        config: { responseModalities: [Modality.TEXT], tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'weather for a city' }] }] },
        callbacks: inbox.callbacks,
      });
      session.sendClientContent({ turns: 'call get_weather city=Paris' });
      const call = (await inbox.waitFor((m) => m.toolCall !== undefined)).toolCall!.functionCalls![0]!;
      assert.equal(call.name, 'get_weather');
      assert.deepEqual(call.args, { city: 'Paris' });
      session.sendToolResponse({ functionResponses: [{ id: call.id!, name: 'get_weather', response: { forecast: 'sunny' } }] });
      await inbox.turnComplete();
      assert.match(inbox.text(), /sunny/);
      session.close();
      await inbox.waitClose();
    } finally {
      await close();
    }
  });

  test('barge-in: the interrupted upstream turn does not leak into the next reply', async () => {
    const scenario = JSON.stringify({ rules: [{ match: { text: 'story' }, reply: [{ text: 'Once upon a time there was a long story. '.repeat(4), chunkDelayMs: 50 }] }] });
    const { gateway, close } = await upstreamAndGateway(scenario);
    try {
      const inbox = new Inbox();
      const session = await sdk(gateway.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
      session.sendClientContent({ turns: 'tell me a story' });
      await inbox.waitFor((m) => m.serverContent?.modelTurn !== undefined);
      session.sendClientContent({ turns: 'stop, what time is it' });
      await inbox.waitFor((m) => m.serverContent?.interrupted === true);
      const after = inbox.messages.findIndex((m) => m.serverContent?.interrupted) + 1;
      await inbox.turnComplete(after + 1);
      const reply = inbox.text(after + 1);
      assert.equal(reply, 'You said: stop, what time is it');
      session.close();
      await inbox.waitClose();
    } finally {
      await close();
    }
  });

  test('an upstream session that cannot be resumed is re-seeded from the transcript, and the control API says so', async () => {
    const { upstream, gateway, close } = await upstreamAndGateway();
    try {
      const inbox = new Inbox();
      const session = await sdk(gateway.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
      const id = inbox.messages[0]!.setupComplete!.sessionId!;
      session.sendClientContent({ turns: 'my name is Ada' });
      await inbox.turnComplete();
      await fetch(`${upstream.url}/relive/v1/faults`, { method: 'POST', body: JSON.stringify({ count: 1, action: { type: 'refuseResume' } }) });
      // The upstream connection's 1.5 s lifetime runs out; its resume is refused.
      await waitFor(async () => (await detail(gateway.url, id)).engine?.upstream.lastRestore === 'transcript', { what: 'the restore from the transcript', stepMs: 100 });
      const from = inbox.messages.length;
      session.sendClientContent({ turns: 'what is my name' });
      await inbox.turnComplete(from);
      assert.equal(inbox.text(from), 'You said: what is my name');
      const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
      assert.equal(sessions.length, 2, 'a second upstream session');
      const contexts = await Promise.all(sessions.map(async (s) => (await detail(upstream.url, s.id)).context.map((t) => `${t.role}: ${t.parts[0]!.text}`)));
      const seeded = contexts.find((c) => c.includes('user: what is my name'))!;
      assert.deepEqual(seeded, ['user: my name is Ada', 'model: You said: my name is Ada', 'user: what is my name', 'model: You said: what is my name'], 'the new upstream session was seeded');
      assert.equal(inbox.messages.some((m) => m.goAway), false);
      session.close();
      await inbox.waitClose();
    } finally {
      await close();
    }
  });
});

describe('an upstream that refuses', () => {
  test('realtime audio does not start an upstream connection attempt per chunk; the turn gets the failure', async () => {
    // An upstream that answers every upgrade 403, as Google's does a bad key.
    let upgrades = 0;
    const refusing = createHttpServer();
    refusing.on('upgrade', (_req, socket) => {
      upgrades++;
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const port = (refusing.address() as { port: number }).port;
    const gateway = await startServer({ keepaliveIntervalMs: 0, vad: false, engine: new GeminiEngine({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'bad' }) });
    try {
      const inbox = new Inbox();
      const session = await sdk(gateway.url).live.connect({ model: 'gemini-live-2.5-flash-preview', config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
      const chunk = Buffer.alloc(640).toString('base64');
      for (let i = 0; i < 50; i++) {
        session.sendRealtimeInput({ audio: { data: chunk, mimeType: 'audio/pcm;rate=16000' } });
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(upgrades <= 2, `${upgrades} upstream attempts for 50 audio chunks`);
      session.sendRealtimeInput({ audioStreamEnd: true });
      const closed = await inbox.waitClose();
      assert.equal(closed.code, 1011);
    } finally {
      await gateway.close();
      refusing.close();
    }
  });
});

describe('an upstream that closes before setupComplete', () => {
  // The client library rejects with the close's code and reason as fields (ClosedBeforeSetupError);
  // the gateway passes that close on to its own client as it is.
  const cases: [string, Parameters<typeof startServer>[0], string, { code: number; reason: RegExp }][] = [
    ['1008 for a model it does not serve', { unknownModels: 'reject' }, 'gemini-made-up', { code: 1008, reason: /^models\/gemini-made-up is not found for API version v1beta, or is not supported for bidiGenerateContent/ }],
    ['1007 for a key not in its allow-list', { apiKeys: ['not-the-gateway-key'] }, MODEL, { code: 1007, reason: /^API key not valid\. Please pass a valid API key\.$/ }],
  ];
  for (const [what, upstreamOptions, model, expected] of cases) {
    test(`${what}: the client of the gateway gets that close`, async () => {
      const upstream = await startServer({ keepaliveIntervalMs: 0, vad: false, ...upstreamOptions });
      const gateway = await startServer({ keepaliveIntervalMs: 0, vad: false, engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway' }) });
      try {
        const inbox = new Inbox();
        const session = await sdk(gateway.url).live.connect({ model, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
        session.sendClientContent({ turns: 'hello' });
        const closed = await inbox.waitClose();
        assert.equal(closed.code, expected.code);
        assert.match(closed.reason, expected.reason);
      } finally {
        await gateway.close();
        await upstream.close();
      }
    });
  }
});

describe('relive --engine gemini (CLI)', () => {
  test('parses the gateway flags and refuses them without the engine', async () => {
    const { parseServeArgs } = await import('../../src/cli/serve-options.js');
    const parsed = parseServeArgs(['--engine', 'gemini', '--upstream-url', 'http://127.0.0.1:9000', '--upstream-model', 'gemini-live-2.5-flash-preview'], { GEMINI_API_KEY: 'k' });
    assert.ok(!('help' in parsed));
    assert.deepEqual(parsed.engine, { kind: 'gemini', upstreamUrl: 'http://127.0.0.1:9000', model: 'gemini-live-2.5-flash-preview', apiKey: 'k' });
    assert.throws(() => parseServeArgs(['--upstream-url', 'http://x'], {}), /only apply with --engine gemini/);
    assert.throws(() => parseServeArgs(['--engine', 'gemini', '--upstream-url', 'ftp://x'], {}), /must be an http/);
  });
});

describe('gateway across client reconnects', () => {
  test('a client that resumes within the grace period finds the same upstream session, not a re-seeded one', async () => {
    const { upstream, gateway, close } = await upstreamAndGateway();
    try {
      const handle = await oneTurnThenLeave(gateway.url, MODEL, 'first words');

      const second = new Inbox();
      const b = await sdk(gateway.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], sessionResumption: { handle } }, callbacks: second.callbacks });
      b.sendClientContent({ turns: 'second words' });
      await second.turnComplete();
      assert.equal(second.text(), 'You said: second words');
      const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
      assert.equal(sessions.length, 1, 'still one upstream session');
      const texts = (await detail(upstream.url, sessions[0]!.id)).context.map((t) => t.parts[0]!.text);
      assert.deepEqual(texts, ['first words', 'You said: first words', 'second words', 'You said: second words'], 'nothing sent twice');
      b.close();
      await second.waitClose();
    } finally {
      await close();
    }
  });
});

describe('gateway restarts', () => {
  test('a relive restarted on its store resumes each session\'s upstream session through the stored upstream handle', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { SqliteStore } = await import('../../src/store/sqlite-store.js');
    const { sessionHandleStore } = await import('../../src/engine/gemini/session-handle-store.js');
    const dir = mkdtempSync(join(tmpdir(), 'relive-gateway-'));
    const upstream = await startServer({ keepaliveIntervalMs: 0, vad: false });
    const gatewayOn = async () => {
      const store = SqliteStore.open(join(dir, 'relive.db'));
      return startServer({
        keepaliveIntervalMs: 0,
        vad: false,
        store,
        engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway', handleStore: (id) => sessionHandleStore(store, id) }),
      });
    };
    try {
      const first = await gatewayOn();
      const a = new Inbox();
      const s1 = await sdk(first.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], sessionResumption: {} }, callbacks: a.callbacks });
      const id = a.messages[0]!.setupComplete!.sessionId!;
      s1.sendClientContent({ turns: 'before the restart' });
      await a.turnComplete();
      const handle = (await a.waitFor((m) => m.sessionResumptionUpdate?.resumable === true, 2)).sessionResumptionUpdate!.newHandle!;
      s1.close();
      await a.waitClose();
      await first.close();

      const second = await gatewayOn();
      try {
        const b = new Inbox();
        const s2 = await sdk(second.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], sessionResumption: { handle } }, callbacks: b.callbacks });
        s2.sendClientContent({ turns: 'after the restart' });
        await b.turnComplete();
        assert.equal(b.text(), 'You said: after the restart');
        assert.equal((await detail(second.url, id)).engine?.upstream.lastRestore, 'handle');
        const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
        assert.equal(sessions.length, 1, 'the same upstream session, resumed');
        const texts = (await detail(upstream.url, sessions[0]!.id)).context.map((t) => t.parts[0]!.text);
        assert.deepEqual(texts, ['before the restart', 'You said: before the restart', 'after the restart', 'You said: after the restart']);
        s2.close();
        await b.waitClose();
      } finally {
        await second.close();
      }
    } finally {
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
