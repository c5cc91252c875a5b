/**
 * Function calls as each model runs them, through the official SDK. gemini-3.8-live: a function
 * declared without `behavior` is NON_BLOCKING (the turn ends without waiting for the response);
 * the response's scheduling decides what follows (SILENT: nothing, WHEN_IDLE: after the current
 * output, INTERRUPT: at once, but not while the user is speaking); new user input cancels a
 * BLOCKING call and leaves NON_BLOCKING ones running; no resumable handle while a call is owed.
 * The 2.5 models keep the 2025 behaviour (BLOCKING by default, a barge-in cancels every call,
 * INTERRUPT cuts in at once).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Behavior, FunctionResponseScheduling, Modality, type LiveConnectConfig, type LiveServerMessage, type Session } from '@google/genai';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

const LIVE_38 = 'gemini-3.8-live';
const HALF_CASCADE = 'gemini-live-2.5-flash-preview';
const NATIVE_25 = 'gemini-2.5-flash-native-audio-preview-12-2025';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The story is told in sentences 150 ms apart (AUDIO is spoken a sentence at a time): input sent at its first words finds it still talking.
/** Long enough for a message the server would send at once to arrive: how "nothing came" is checked. */
const QUIET_MS = 250;

let server: TestServer;
before(async () => {
  server = await startServer({
    keepaliveIntervalMs: 0,
    scenario: { fallback: 'builtin', rules: [{ match: { text: 'story' }, reply: [{ text: 'Once upon a time. There was a story. It went on and. On and on. For a long while.', chunkDelayMs: 150 }] }] },
  });
});
after(() => server.close());

interface Open {
  session: Session;
  inbox: Inbox;
}

async function open(model: string, config: LiveConnectConfig): Promise<Open> {
  const inbox = new Inbox();
  const session = await sdk(server.url).live.connect({ model, config, callbacks: inbox.callbacks });
  return { session, inbox };
}

const weather = (behavior?: Behavior) => [{ functionDeclarations: [{ name: 'get_weather', ...(behavior ? { behavior } : {}) }] }];
const audio = (extra: LiveConnectConfig = {}): LiveConnectConfig => ({ responseModalities: [Modality.AUDIO], outputAudioTranscription: {}, ...extra });

/** What the model said after message `from`: its words as text or as the transcript of its speech. */
function said(messages: readonly LiveServerMessage[], from = 0): string {
  return messages
    .slice(from)
    .map((m) => (m.serverContent?.outputTranscription?.text ?? '') + (m.serverContent?.modelTurn?.parts ?? []).map((p) => p.text ?? '').join(''))
    .join('');
}

const index = (inbox: Inbox, pred: (m: LiveServerMessage) => boolean, from = 0) => inbox.messages.findIndex((m, i) => i >= from && pred(m));
const isComplete = (m: LiveServerMessage) => m.serverContent?.turnComplete === true;

/** Asks for the weather and returns the call, once its toolCall has arrived. */
async function callWeather({ session, inbox }: Open, realtime = false): Promise<{ id: string; at: number }> {
  if (realtime) session.sendRealtimeInput({ text: 'get_weather city=Paris' });
  else session.sendClientContent({ turns: 'get_weather city=Paris' });
  const call = await inbox.waitFor((m) => m.toolCall !== undefined);
  return { id: call.toolCall!.functionCalls![0]!.id!, at: inbox.messages.indexOf(call) };
}

function answer(session: Session, id: string, scheduling?: FunctionResponseScheduling, willContinue?: boolean): void {
  session.sendToolResponse({ functionResponses: [{ id, name: 'get_weather', response: { temp: 21 }, ...(scheduling ? { scheduling } : {}), ...(willContinue ? { willContinue } : {}) }] });
}

/** gemini-3.8-live with a NON_BLOCKING call left pending, in the middle of telling a story. */
async function callThenStory(): Promise<Open & { call: { id: string }; story: number }> {
  const o = await open(LIVE_38, audio({ tools: weather() }));
  const call = await callWeather(o);
  await o.inbox.turnComplete(call.at);
  const story = o.inbox.messages.length;
  o.session.sendClientContent({ turns: 'tell me a story' });
  await o.inbox.waitFor((m) => m.serverContent?.outputTranscription !== undefined, story);
  return { ...o, call, story };
}

/** Answers the call WHEN_IDLE (the model is idle): the next turn speaks the result. */
async function resultSpoken(o: Open, id: string): Promise<void> {
  const mark = o.inbox.messages.length;
  answer(o.session, id, FunctionResponseScheduling.WHEN_IDLE);
  await o.inbox.turnComplete(mark);
  assert.match(said(o.inbox.messages, mark), /get_weather returned/);
}

async function done({ session, inbox }: Open): Promise<void> {
  session.close();
  await inbox.waitClose();
}

describe('default function behaviour', () => {
  test('gemini-3.8-live: no behavior means NON_BLOCKING; the turn ends without waiting for the response', async () => {
    const o = await open(LIVE_38, audio({ tools: weather() }));
    const call = await callWeather(o);
    await o.inbox.turnComplete(call.at);
    answer(o.session, call.id);
    await o.inbox.turnComplete(index(o.inbox, isComplete, call.at) + 1);
    assert.match(said(o.inbox.messages, call.at), /get_weather returned \{"temp":21\}/);
    await done(o);
  });

  test('2.5: no behavior means BLOCKING; the turn waits for the response', async () => {
    const o = await open(HALF_CASCADE, { responseModalities: [Modality.TEXT], tools: weather() });
    const call = await callWeather(o);
    await sleep(QUIET_MS);
    assert.equal(index(o.inbox, isComplete), -1, 'no turnComplete before the response');
    const mark = o.inbox.messages.length;
    answer(o.session, call.id);
    await o.inbox.turnComplete(mark);
    assert.equal(index(o.inbox, isComplete), index(o.inbox, isComplete, mark), 'the turn ended after the response');
    assert.match(said(o.inbox.messages, mark), /get_weather returned/);
    await done(o);
  });

  test('gemini-3.1-flash-live-preview runs a NON_BLOCKING declaration BLOCKING (it has only blocking calls)', async () => {
    const o = await open('gemini-3.1-flash-live-preview', audio({ tools: weather(Behavior.NON_BLOCKING) }));
    // 3.1 takes typed input as realtime text (clientContent only as initial history).
    await callWeather(o, true);
    await sleep(QUIET_MS);
    assert.equal(index(o.inbox, isComplete), -1, 'the turn waits for the response');
    await done(o);
  });
});

describe('gemini-3.8-live: the scheduling of a NON_BLOCKING response', () => {
  test('SILENT: nothing is said; the result is in the context; a resumable handle follows once no call is owed', async () => {
    const o = await open(LIVE_38, audio({ tools: weather(), sessionResumption: {} }));
    const call = await callWeather(o);
    const end = await o.inbox.turnComplete(call.at);
    // The update after the call's turn: the call is owed, so not resumable.
    const update = await o.inbox.waitFor((m) => m.sessionResumptionUpdate !== undefined, o.inbox.messages.indexOf(end));
    assert.deepEqual([update.sessionResumptionUpdate?.resumable ?? false, update.sessionResumptionUpdate?.newHandle], [false, undefined]);
    const mark = o.inbox.messages.length;
    answer(o.session, call.id, FunctionResponseScheduling.SILENT);
    const handle = await o.inbox.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined, mark);
    assert.equal(handle.sessionResumptionUpdate?.resumable, true);
    await sleep(QUIET_MS);
    assert.ok(o.inbox.messages.slice(mark).every((m) => !m.serverContent), 'the model said nothing');
    await done(o);
  });

  test('SILENT with willContinue: the call is quiet, the session is at a boundary; a later WHEN_IDLE answer is spoken', async () => {
    const o = await open(LIVE_38, audio({ tools: weather(), sessionResumption: {} }));
    const call = await callWeather(o);
    await o.inbox.turnComplete(call.at);
    const mark = o.inbox.messages.length;
    answer(o.session, call.id, FunctionResponseScheduling.SILENT, true);
    await o.inbox.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined, mark);
    await resultSpoken(o, call.id);
    await done(o);
  });

  test('WHEN_IDLE while the model speaks: the speech finishes, then the result is spoken', async () => {
    const { call, story, ...o } = await callThenStory();
    answer(o.session, call.id, FunctionResponseScheduling.WHEN_IDLE);
    const storyEnd = await o.inbox.turnComplete(story);
    const at = o.inbox.messages.indexOf(storyEnd);
    assert.ok(o.inbox.messages.slice(story, at).every((m) => !m.serverContent?.interrupted), 'not cut off');
    assert.match(said(o.inbox.messages, story).slice(0, 60), /Once upon a time/);
    await o.inbox.turnComplete(at + 1);
    assert.match(said(o.inbox.messages, at + 1), /get_weather returned/);
    await done(o);
  });

  test('INTERRUPT while the model speaks: the speech is cut off and the result spoken at once', async () => {
    const { call, story, ...o } = await callThenStory();
    answer(o.session, call.id, FunctionResponseScheduling.INTERRUPT);
    const cut = await o.inbox.waitFor((m) => m.serverContent?.interrupted === true, story);
    const at = o.inbox.messages.indexOf(cut);
    await o.inbox.turnComplete(at + 1);
    const next = index(o.inbox, isComplete, at) + 1;
    await o.inbox.turnComplete(next);
    assert.match(said(o.inbox.messages, next), /get_weather returned/);
    await done(o);
  });
});

describe('INTERRUPT and the user speaking (manual activity)', () => {
  const manual = { realtimeInputConfig: { automaticActivityDetection: { disabled: true } } };
  const speech = { data: Buffer.alloc(3200).toString('base64'), mimeType: 'audio/pcm;rate=16000' };

  /** A NON_BLOCKING call's turn ends; the user starts speaking; the call's INTERRUPT answer arrives. */
  async function interruptWhileSpeaking(model: string, tools: ReturnType<typeof weather>): Promise<{ o: Open; mark: number }> {
    const o = await open(model, audio({ tools, ...manual }));
    const call = await callWeather(o);
    await o.inbox.turnComplete(call.at);
    const mark = o.inbox.messages.length;
    o.session.sendRealtimeInput({ activityStart: {} });
    o.session.sendRealtimeInput({ audio: speech });
    answer(o.session, call.id, FunctionResponseScheduling.INTERRUPT);
    return { o, mark };
  }

  test('gemini-3.8-live: an INTERRUPT answer waits until the user stops speaking; their turn answers it', async () => {
    const { o, mark } = await interruptWhileSpeaking(LIVE_38, weather());
    await sleep(QUIET_MS);
    assert.ok(o.inbox.messages.slice(mark).every((m) => !m.serverContent), 'nothing while the user speaks');
    o.session.sendRealtimeInput({ activityEnd: {} });
    await o.inbox.turnComplete(mark);
    await sleep(QUIET_MS);
    assert.equal(o.inbox.messages.slice(mark).filter(isComplete).length, 1, 'one turn answers the speech and the result');
    await done(o);
  });

  test('2.5 (NON_BLOCKING declared): INTERRUPT cuts in at once, while the user is still speaking', async () => {
    const { o, mark } = await interruptWhileSpeaking(NATIVE_25, weather(Behavior.NON_BLOCKING));
    await o.inbox.waitFor((m) => m.serverContent?.modelTurn !== undefined, mark);
    o.session.sendRealtimeInput({ activityEnd: {} });
    await done(o);
  });
});

describe('new user input and pending calls', () => {
  test('gemini-3.8-live: a BLOCKING call is cancelled by new user input (interrupted, toolCallCancellation, turnComplete)', async () => {
    const o = await open(LIVE_38, audio({ tools: weather(Behavior.BLOCKING) }));
    const call = await callWeather(o);
    o.session.sendClientContent({ turns: 'never mind' });
    const cancel = await o.inbox.waitFor((m) => m.toolCallCancellation !== undefined, call.at);
    assert.deepEqual(cancel.toolCallCancellation?.ids, [call.id]);
    const cut = index(o.inbox, (m) => m.serverContent?.interrupted === true, call.at);
    const first = await o.inbox.turnComplete(call.at);
    assert.ok(cut >= 0 && cut < o.inbox.messages.indexOf(cancel) && o.inbox.messages.indexOf(cancel) < o.inbox.messages.indexOf(first));
    const after = o.inbox.messages.indexOf(first) + 1;
    await o.inbox.turnComplete(after);
    assert.match(said(o.inbox.messages, after), /You said: never mind/);
    await done(o);
  });

  test('gemini-3.8-live: a barge-in leaves a NON_BLOCKING call running; its answer still counts', async () => {
    const { call, story, ...o } = await callThenStory();
    o.session.sendClientContent({ turns: 'stop' });
    await o.inbox.waitFor((m) => m.serverContent?.interrupted === true, story);
    const stopEnd = index(o.inbox, isComplete, story) + 1;
    await o.inbox.turnComplete(stopEnd);
    assert.ok(o.inbox.messages.every((m) => !m.toolCallCancellation), 'no cancellation');
    await resultSpoken(o, call.id);
    await done(o);
  });

  test('2.5 (NON_BLOCKING declared): a barge-in cancels the pending call too', async () => {
    const o = await open(HALF_CASCADE, { responseModalities: [Modality.TEXT], tools: weather(Behavior.NON_BLOCKING) });
    const call = await callWeather(o);
    await o.inbox.turnComplete(call.at);
    const story = o.inbox.messages.length;
    o.session.sendClientContent({ turns: 'tell me a story' });
    await o.inbox.waitFor((m) => m.serverContent?.modelTurn !== undefined, story);
    o.session.sendClientContent({ turns: 'stop' });
    const cancel = await o.inbox.waitFor((m) => m.toolCallCancellation !== undefined, story);
    assert.deepEqual(cancel.toolCallCancellation?.ids, [call.id]);
    await done(o);
  });
});

describe('function behaviours a model does not run', () => {
  test('strict: gemini-3.8-live-extended-thinking refuses a BLOCKING declaration with 1007; loose mode runs it NON_BLOCKING', async () => {
    const strict = await startServer({ keepaliveIntervalMs: 0, strict: true });
    try {
      const config = audio({ tools: weather(Behavior.BLOCKING), thinkingConfig: { thinkingBudget: 1024 } });
      const refused = sdk(strict.url).live.connect({ model: 'gemini-3.8-live-extended-thinking', config, callbacks: new Inbox().callbacks });
      await assert.rejects(refused, /code 1007\): Request contains an invalid argument\./);
      const o = await open('gemini-3.8-live-extended-thinking', config);
      const call = await callWeather(o);
      // NON_BLOCKING: the request's interaction ends without the response.
      const last = await o.inbox.waitFor((m) => m.serverContent?.interactionStatus === 'IDLE', call.at);
      assert.ok(o.inbox.messages.indexOf(last) > call.at);
      await done(o);
    } finally {
      await strict.close();
    }
  });
});
