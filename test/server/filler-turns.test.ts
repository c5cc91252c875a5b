/**
 * Extended thinking's filler turns, through the official SDK: gemini-3.8-live-extended-thinking
 * answers a request with a filler turn and then the answer, each ending turnComplete, the filler
 * IN_PROGRESS and the answer IDLE. No resumable handle between them; usageMetadata on the last.
 * A scenario's `filler` step makes its own turn on that model and is part of the one turn on others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Modality, type LiveConnectConfig, type LiveServerMessage } from '@google/genai';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

const ET = 'gemini-3.8-live-extended-thinking';
const config = (extra: LiveConnectConfig = {}): LiveConnectConfig => ({
  responseModalities: [Modality.AUDIO],
  outputAudioTranscription: {},
  thinkingConfig: { thinkingLevel: 'LOW' as never },
  ...extra,
});

let server: TestServer;
before(async () => {
  server = await startServer({
    keepaliveIntervalMs: 0,
    scenario: {
      fallback: 'builtin',
      rules: [
        { match: { text: 'flight' }, reply: [{ filler: 'One moment, checking the flights.' }, { text: 'Your flight leaves at nine.' }] },
        { match: { text: 'long' }, reply: [{ filler: 'Let me see.' }, { text: 'First part. Second part. Third part. Fourth part. Fifth part.', chunkDelayMs: 150 }] },
      ],
    },
  });
});
after(() => server.close());

/** Each turn of the reply: what was said (the transcript of its speech) and its interactionStatus. */
function turns(messages: readonly LiveServerMessage[], from = 0): { said: string; status?: string; usage: boolean; generationComplete: boolean; interrupted: boolean }[] {
  const out: ReturnType<typeof turns> = [];
  let said = '';
  let generationComplete = false;
  let interrupted = false;
  for (const m of messages.slice(from)) {
    const sc = m.serverContent;
    said += sc?.outputTranscription?.text ?? '';
    generationComplete ||= sc?.generationComplete === true;
    interrupted ||= sc?.interrupted === true;
    if (!sc?.turnComplete) continue;
    out.push({ said, ...(sc.interactionStatus ? { status: sc.interactionStatus } : {}), usage: m.usageMetadata !== undefined, generationComplete, interrupted });
    said = '';
    generationComplete = false;
    interrupted = false;
  }
  return out;
}

describe('gemini-3.8-live-extended-thinking', () => {
  test('a request gets a filler turn (IN_PROGRESS), then the answer (IDLE); usageMetadata only with the last', async () => {
    const inbox = new Inbox();
    const session = await sdk(server.url).live.connect({ model: ET, config: config(), callbacks: inbox.callbacks });
    session.sendClientContent({ turns: 'what time is it' });
    await inbox.waitFor((m) => m.serverContent?.interactionStatus === 'IDLE');
    assert.deepEqual(turns(inbox.messages), [
      { said: 'Let me think about that.', status: 'IN_PROGRESS', usage: false, generationComplete: true, interrupted: false },
      { said: 'You said: what time is it', status: 'IDLE', usage: true, generationComplete: true, interrupted: false },
    ]);
    // The session's history has both model turns, as the client received them.
    const id = inbox.messages[0]!.setupComplete!.sessionId!;
    const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as { context: { role: string; parts: { text?: string; transcript?: string }[] }[] };
    assert.deepEqual(
      detail.context.map((t) => `${t.role}: ${t.parts.map((p) => p.text ?? p.transcript ?? '').join('')}`),
      ['user: what time is it', 'model: Let me think about that.', 'model: You said: what time is it'],
    );
    session.close();
    await inbox.waitClose();
  });

  test('no resumable handle between the filler and the answer; one after the answer', async () => {
    const inbox = new Inbox();
    const session = await sdk(server.url).live.connect({ model: ET, config: config({ sessionResumption: {} }), callbacks: inbox.callbacks });
    session.sendClientContent({ turns: 'what is the flight' });
    const idle = await inbox.waitFor((m) => m.serverContent?.interactionStatus === 'IDLE');
    const handle = await inbox.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined, inbox.messages.indexOf(idle));
    assert.equal(handle.sessionResumptionUpdate?.resumable, true);
    const filler = inbox.messages.findIndex((m) => m.serverContent?.interactionStatus === 'IN_PROGRESS');
    const between = inbox.messages.slice(filler, inbox.messages.indexOf(idle)).filter((m) => m.sessionResumptionUpdate);
    assert.equal(between.length, 1, 'the update after the filler turn');
    assert.deepEqual([between[0]!.sessionResumptionUpdate?.resumable ?? false, between[0]!.sessionResumptionUpdate?.newHandle], [false, undefined]);
    assert.deepEqual(turns(inbox.messages).map((t) => [t.said, t.status]), [
      ['One moment, checking the flights.', 'IN_PROGRESS'],
      ['Your flight leaves at nine.', 'IDLE'],
    ]);
    session.close();
    await inbox.waitClose();
  });

  test('a barge-in during the answer ends the interaction: interrupted, turnComplete IDLE', async () => {
    const inbox = new Inbox();
    const session = await sdk(server.url).live.connect({ model: ET, config: config(), callbacks: inbox.callbacks });
    session.sendClientContent({ turns: 'tell me something long' });
    const filler = await inbox.waitFor((m) => m.serverContent?.interactionStatus === 'IN_PROGRESS');
    await inbox.waitFor((m) => m.serverContent?.outputTranscription !== undefined, inbox.messages.indexOf(filler) + 1);
    session.sendClientContent({ turns: 'stop' });
    await inbox.waitFor((m) => m.serverContent?.interrupted === true);
    // The answer to "stop": its own filler and answer.
    await inbox.waitFor((m) => m.serverContent?.interactionStatus === 'IDLE' && turns(inbox.messages).length >= 4);
    const all = turns(inbox.messages);
    assert.deepEqual(all.map((t) => [t.status, t.interrupted]), [
      ['IN_PROGRESS', false],
      ['IDLE', true],
      ['IN_PROGRESS', false],
      ['IDLE', false],
    ]);
    assert.match(all[1]!.said, /^First part\./);
    assert.equal(all[3]!.said, 'You said: stop');
    session.close();
    await inbox.waitClose();
  });
});

test('gemini-3.8-live (no filler turns): a scenario filler step is part of the one turn', async () => {
  const inbox = new Inbox();
  const session = await sdk(server.url).live.connect({ model: 'gemini-3.8-live', config: { responseModalities: [Modality.AUDIO], outputAudioTranscription: {} }, callbacks: inbox.callbacks });
  session.sendClientContent({ turns: 'what is the flight' });
  await inbox.waitFor((m) => m.serverContent?.interactionStatus === 'IDLE');
  const all = turns(inbox.messages);
  assert.equal(all.length, 1);
  assert.equal(all[0]!.said.replace(/\s+/g, ' '), 'One moment, checking the flights. Your flight leaves at nine.');
  session.close();
  await inbox.waitClose();
});
