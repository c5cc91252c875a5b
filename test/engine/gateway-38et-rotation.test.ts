/**
 * The gateway on the 3.8 extended-thinking profile (issue #16 item 5): the upstream relive's
 * connections last 4 s on a manual clock, so each turn is followed by an upstream goAway, and the
 * gateway's upstream link rotates at the interaction boundary. The upstream's filler turns
 * (IN_PROGRESS) reach the client as turns of their own before each answer; the client sees no
 * goAway, every input is answered once, and the upstream's record holds each input exactly once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Modality } from '@google/genai';
import { GeminiEngine } from '../../src/engine/gemini/gemini-engine.js';
import { ManualClock } from '../../src/session/clock.js';
import { Inbox, sdk, startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const MODEL = 'gemini-3.8-live-extended-thinking';

test('3.8-ET behind the gateway: 4-second upstream connections on a manual clock, a rotation per turn, nothing lost or repeated', async () => {
  const clock = new ManualClock(0);
  const upstream = await startServer({ keepaliveIntervalMs: 0, vad: false, clock, lifetimes: { connectionMs: 4000, goAwayNoticeMs: 500 } });
  const gateway = await startServer({ keepaliveIntervalMs: 0, vad: false, engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway' }) });
  try {
    const inbox = new Inbox();
    const session = await sdk(gateway.url).live.connect({
      model: MODEL,
      config: { responseModalities: [Modality.AUDIO], outputAudioTranscription: {}, thinkingConfig: { thinkingBudget: 1024 } },
      callbacks: inbox.callbacks,
    });
    const id = inbox.messages[0]!.setupComplete!.sessionId!;
    const rotations = async () => ((await (await fetch(`${gateway.url}/relive/v1/sessions/${id}`)).json()) as { engine?: { upstream?: { rotations?: number } } }).engine?.upstream?.rotations ?? 0;
    const inputs: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const at = inbox.messages.length;
      const text = `request number ${i}`;
      inputs.push(text);
      session.sendClientContent({ turns: text });
      await inbox.waitFor((m) => m.serverContent?.interactionStatus === 'IDLE', at);
      // The upstream's filler turn reaches the client as a turn of its own, then the answer.
      const turns: { heard: string; status: string | undefined }[] = [];
      let heard = '';
      for (const m of inbox.messages.slice(at)) {
        heard += m.serverContent?.outputTranscription?.text ?? '';
        if (!m.serverContent?.turnComplete) continue;
        turns.push({ heard, status: m.serverContent.interactionStatus });
        heard = '';
      }
      assert.deepEqual(turns, [
        { heard: 'Let me think about that.', status: 'IN_PROGRESS' },
        { heard: `You said: ${text}`, status: 'IDLE' },
      ], `request ${i}: filler, then answer`);
      // The upstream connection's 4 s run out between turns: its goAway, then a rotation at the boundary.
      await clock.advance(4000);
      await waitFor(async () => (await rotations()) >= i, { what: `upstream rotation ${i}`, timeoutMs: 10_000 });
    }
    assert.ok(!inbox.messages.some((m) => m.goAway), 'the client never sees a goAway');
    const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
    assert.equal(sessions.length, 1, 'one upstream session throughout');
    const context = ((await (await fetch(`${upstream.url}/relive/v1/sessions/${sessions[0]!.id}`)).json()) as { context: { role: string; parts: { text?: string }[] }[] }).context;
    const userTexts = context.filter((t) => t.role === 'user').map((t) => t.parts.map((p) => p.text ?? '').join(''));
    assert.deepEqual(userTexts, inputs, 'each input once upstream');
    session.close();
    await inbox.waitClose();
  } finally {
    await gateway.close();
    await upstream.close();
  }
});
