/**
 * Records the session the recording and replay tests share, driven by the official SDK: a text
 * turn, a function call answered with sendToolResponse, a close, then a resumption on a second
 * connection with the latest handle, one more turn, and a close.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Modality, type LiveServerMessage } from '@google/genai';
import { Inbox, sdk } from './server.js';

export const RECORDED_KEY = 'secret-recording-key-42';

const MODEL = 'gemini-live-2.5-flash-preview';
const TOOLS = [
  {
    functionDeclarations: [
      { name: 'get_weather', description: 'weather', parameters: { type: 'OBJECT' as never, properties: { city: { type: 'STRING' as never } }, required: ['city'] } },
    ],
  },
];

const handleOf = (m: LiveServerMessage): string | undefined => m.sessionResumptionUpdate?.newHandle;

async function connect(url: string, handle?: string) {
  const inbox = new Inbox();
  const session = await sdk(url, 'v1beta', RECORDED_KEY).live.connect({
    model: MODEL,
    config: { responseModalities: [Modality.TEXT], sessionResumption: handle ? { handle } : {}, tools: TOOLS },
    callbacks: inbox.callbacks,
  });
  return { inbox, session };
}

/** Waits for the handle that follows the turnComplete at or after `from`. */
async function handleAfter(inbox: Inbox, from: number): Promise<string> {
  const done = await inbox.turnComplete(from);
  const m = await inbox.waitFor((x) => handleOf(x) !== undefined, inbox.messages.indexOf(done));
  return handleOf(m)!;
}

export interface RecordedSession {
  sessionId: string;
  callId: string;
  /** The handle the second connection resumed with. */
  handle: string;
}

export async function recordSdkSession(url: string): Promise<RecordedSession> {
  const first = await connect(url);
  const sessionId = first.inbox.messages[0]!.setupComplete!.sessionId!;
  let mark = first.inbox.messages.length;
  first.session.sendClientContent({ turns: 'Hello world!' });
  await handleAfter(first.inbox, mark);
  mark = first.inbox.messages.length;
  first.session.sendClientContent({ turns: 'What does get_weather say for city=Paris?' });
  const call = (await first.inbox.waitFor((m) => m.toolCall !== undefined, mark)).toolCall!.functionCalls![0]!;
  first.session.sendToolResponse({ functionResponses: [{ id: call.id, name: call.name, response: { output: 'sunny, 21 C' } }] });
  const handle = await handleAfter(first.inbox, mark);
  first.session.close();
  await first.inbox.waitClose();

  const second = await connect(url, handle);
  mark = second.inbox.messages.length;
  second.session.sendClientContent({ turns: 'Do you remember me?' });
  await handleAfter(second.inbox, mark);
  second.session.close();
  await second.inbox.waitClose();
  return { sessionId, callId: call.id!, handle };
}

export type Line = Record<string, any>;

export function readLines(path: string): Line[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

export { join };
