/**
 * The gateway's context-loss check (issue #16 item 4): an upstream session resumed by handle that
 * comes back without its history (relive's `dropHistoryOnResume` fault on the upstream relive) is
 * noticed at the next turn's promptTokenCount, re-seeded from relive's transcript, logged and
 * counted; a resume that kept its history is left alone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { GeminiEngine } from '../../src/engine/gemini/gemini-engine.js';
import { Inbox, sdk, startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const MODEL = 'gemini-live-2.5-flash-preview';

interface Detail {
  context: { role: string; parts: { text?: string }[] }[];
  engine?: { upstream: { rotations: number } };
}
const detail = async (url: string, id: string) => (await (await fetch(`${url}/relive/v1/sessions/${id}`)).json()) as Detail;
const reseedsCounted = async (url: string) => Number(/^relive_gateway_context_reseeds_total (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);

describe('gateway context-loss check', () => {
  test('an upstream resumed without its history is re-seeded: warning, metric, and the next turn has the history upstream', async () => {
    // Upstream connections of 1.5 s: the gateway's upstream link rotates (resumes by handle) between turns.
    const upstream = await startServer({ keepaliveIntervalMs: 0, vad: false, lifetimes: { connectionMs: 1500, goAwayNoticeMs: 500 } });
    const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
    const log = { info() {}, warn: (obj: object, msg: string) => void warnings.push({ obj: obj as Record<string, unknown>, msg }) };
    const gateway = await startServer({ keepaliveIntervalMs: 0, vad: false, engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway', log }) });
    try {
      const inbox = new Inbox();
      const session = await sdk(gateway.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
      const id = inbox.messages[0]!.setupComplete!.sessionId!;
      const turn = async (text: string) => {
        const at = inbox.messages.length;
        session.sendClientContent({ turns: text });
        await inbox.turnComplete(at);
        assert.equal(inbox.text(at), `You said: ${text}`);
      };
      const early = ['my name is Ada and I keep the lighthouse on the northern cliff', 'the lamp is lit every evening at six and put out at dawn'];
      for (const text of early) await turn(text);

      // A resume that keeps the history: no re-seed.
      await waitFor(async () => ((await detail(gateway.url, id)).engine?.upstream.rotations ?? 0) >= 1, { what: 'a first upstream rotation', timeoutMs: 10_000 });
      await turn('a healthy resume');
      assert.equal(await reseedsCounted(gateway.url), 0, 'a resume with its history is not re-seeded');

      // The next upstream resume loses the history.
      await fetch(`${upstream.url}/relive/v1/faults`, { method: 'POST', body: JSON.stringify({ count: 1, action: { type: 'dropHistoryOnResume' } }) });
      await waitFor(async () => ((await (await fetch(`${upstream.url}/relive/v1/faults`)).json()) as { faults: unknown[] }).faults.length === 0, { what: 'the fault to strike at a rotation', timeoutMs: 10_000 });
      await turn('after the forgetful resume');
      await waitFor(async () => (await reseedsCounted(gateway.url)) === 1, { what: 'the re-seed to be counted', timeoutMs: 5_000 });
      assert.equal(warnings.length, 1, 'one warning line');
      assert.match(warnings[0]!.msg, /lost its context after a resume: re-seeded/);
      assert.equal(warnings[0]!.obj.session, id);
      assert.ok((warnings[0]!.obj.promptTokens as number) < (warnings[0]!.obj.tokensBefore as number) / 2);

      await turn('do you remember?');
      const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
      const texts = (await detail(upstream.url, sessions[0]!.id)).context.map((t) => t.parts.map((p) => p.text ?? '').join(''));
      for (const text of early) assert.ok(texts.includes(text), `the upstream has "${text}" again`);
      assert.deepEqual(texts.slice(-2), ['do you remember?', 'You said: do you remember?'], 'and the newest turn after it');
      assert.equal(await reseedsCounted(gateway.url), 1, 'one re-seed only');
      session.close();
      await inbox.waitClose();
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
