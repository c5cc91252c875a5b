/**
 * A stand-in OpenAI-compatible server: a real HTTP server on a free loopback port that answers
 * `POST /v1/chat/completions` with a stream shaped like OpenAI's (chat.completion.chunk objects as
 * SSE `data:` lines: a role delta first, content in several chunks, tool call fragments, an empty
 * final delta with finish_reason, the usage chunk when asked for, `data: [DONE]`). A script decides
 * what each request gets; every request is recorded, with whether the client hung up early.
 *
 * It also answers the audio endpoints: `POST /v1/audio/transcriptions` (multipart with a WAV
 * `file`, checked to be 16 kHz mono PCM16; replies `{"text"}`) and `POST /v1/audio/speech`
 * (replies raw 24 kHz PCM16 of a 440 Hz tone), each scripted by `AudioScript`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeToolCall {
  id?: string;
  name: string;
  /** An object is sent as JSON; a string as it is (to send broken JSON). */
  args: Record<string, unknown> | string;
}

export interface StreamPlan {
  /** Content deltas, one chunk each. */
  text?: string[];
  /** Reasoning deltas (`delta.reasoning_content`), sent before the text. */
  reasoning?: string[];
  toolCalls?: FakeToolCall[];
  /** Wait before each chunk after the role chunk. */
  delayMs?: number;
  /** Default: `tool_calls` with tool calls, else `stop`. */
  finishReason?: string;
  /** Default: a rough count of the request and the reply. */
  usage?: { promptTokens: number; completionTokens: number };
  /** After the planned chunks, keep the response open (no finish, no [DONE]) until the client hangs up. */
  hang?: boolean;
  /** Send an error object as a `data:` chunk after the text, as OpenAI does for mid-stream errors, then end. */
  streamError?: { message: string; type: string; code: string | null };
  /** Write every SSE event in three pieces, 1 ms apart: the client must reassemble them. */
  fragmentWrites?: boolean;
}

export interface ErrorPlan {
  status: number;
  /** Default: OpenAI's error object for the status; a string is sent as text/plain. */
  body?: unknown;
}

export type Plan = StreamPlan | ErrorPlan;

export interface RecordedRequest {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Body;
  /** The client closed the connection before the response was complete (a barge-in abort). */
  aborted: boolean;
  /** Resolves when the exchange is over; true if the client hung up first. */
  readonly ended: Promise<boolean>;
}

/** The request body as JSON: tests read into it freely. */
export type Body = any;

export type Script = (body: Body, index: number) => Plan;

/** What the fake read from a transcription request (the recorded body). */
export interface TranscriptionRequest {
  model: string | undefined;
  language: string | undefined;
  responseFormat: string | undefined;
  filename: string | undefined;
  fileType: string | undefined;
  /** The WAV file as sent. */
  file: Buffer;
  /** Its samples (after the 44-byte header). */
  samples: number;
  durationMs: number;
}

/** `delayMs`: wait before answering (to test aborts). */
export type TranscriptionPlan = ({ text: string } | ErrorPlan) & { delayMs?: number };
/** N ms of tone; default 50 ms per character of input. */
export type SpeechPlan = ({ ms?: number } | ErrorPlan) & { delayMs?: number };

export interface AudioScript {
  /** Default: `{text: "heard <durationMs> ms"}`. `index` counts transcription requests only. */
  transcribe?: (request: TranscriptionRequest, index: number) => TranscriptionPlan;
  /** `index` counts speech requests only. */
  speak?: (body: Body, index: number) => SpeechPlan;
}

export const TONE_HZ = 440;
export const TONE_AMPLITUDE = 8000;
const SPEECH_RATE = 24_000;
const TRANSCRIPTION_RATE = 16_000;

/** `ms` of a 440 Hz tone as raw 24 kHz mono PCM16LE, what the fake's speech endpoint sends. */
export function tonePcm(ms: number): Buffer {
  const n = Math.round((SPEECH_RATE * ms) / 1000);
  const out = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(TONE_AMPLITUDE * Math.sin((2 * Math.PI * TONE_HZ * i) / SPEECH_RATE)), i * 2);
  return out;
}

export interface FakeOpenAI {
  /** The base URL to give an OpenAI client: `http://127.0.0.1:PORT/v1`. */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Resolves with request number `index` once it has arrived. */
  request(index: number, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

const ERRORS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Invalid value for 'messages'.", type: 'invalid_request_error', code: null },
  401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' },
  404: { message: 'The model `no-such-model` does not exist or you do not have access to it.', type: 'invalid_request_error', code: 'model_not_found' },
  429: {
    message: 'You exceeded your current quota, please check your plan and billing details.',
    type: 'insufficient_quota',
    code: 'insufficient_quota',
  },
  500: { message: 'The server had an error while processing your request.', type: 'server_error', code: null },
  503: { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', code: null },
};

export async function startFakeOpenAI(script: Script, audio: AudioScript = {}): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const arrivals: ((r: RecordedRequest) => void)[][] = [];
  let completionId = 0;
  let transcriptions = 0;
  let speeches = 0;

  function recordRequest(req: IncomingMessage, res: ServerResponse, path: string, body: Body): RecordedRequest {
    let settle!: (aborted: boolean) => void;
    const record: RecordedRequest = { path, headers: req.headers, body, aborted: false, ended: new Promise((r) => (settle = r)) };
    const index = requests.push(record) - 1;
    for (const w of arrivals[index] ?? []) w(record);
    // The response's close comes before its finish when the client went away mid-stream.
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
      settle(record.aborted);
    });
    return record;
  }

  function sendError(res: ServerResponse, plan: ErrorPlan): void {
    const error = ERRORS[plan.status] ?? { message: `HTTP ${plan.status}`, type: 'server_error', code: null };
    if (typeof plan.body === 'string') res.writeHead(plan.status, { 'content-type': 'text/plain' }).end(plan.body);
    else sendJson(res, plan.status, plan.body ?? { error: { ...error, param: null } });
  }

  async function transcription(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): Promise<void> {
    const parts = parseMultipart(req.headers['content-type'], raw);
    const file = parts.find((p) => p.name === 'file');
    const field = (name: string): string | undefined => parts.find((p) => p.name === name)?.data.toString('utf8');
    const problem = !file ? "'file' is missing" : wavProblem(file.data);
    const samples = file && !problem ? (file.data.length - 44) / 2 : 0;
    const body: TranscriptionRequest = {
      model: field('model'),
      language: field('language'),
      responseFormat: field('response_format'),
      filename: file?.filename,
      fileType: file?.type,
      file: file?.data ?? Buffer.alloc(0),
      samples,
      durationMs: (samples * 1000) / TRANSCRIPTION_RATE,
    };
    recordRequest(req, res, path, body);
    if (problem || !body.model) {
      sendJson(res, 400, { error: { message: problem ?? "'model' is missing", type: 'invalid_request_error', param: null, code: null } });
      return;
    }
    const plan = audio.transcribe?.(body, transcriptions++) ?? { text: `heard ${body.durationMs} ms` };
    if (plan.delayMs) await sleep(plan.delayMs);
    if (res.destroyed) return;
    if ('status' in plan) sendError(res, plan);
    else sendJson(res, 200, { text: plan.text });
  }

  async function speech(req: IncomingMessage, res: ServerResponse, path: string, body: Body): Promise<void> {
    recordRequest(req, res, path, body);
    if (typeof body?.input !== 'string' || typeof body?.model !== 'string') {
      sendJson(res, 400, { error: { message: "'input' and 'model' are required", type: 'invalid_request_error', param: null, code: null } });
      return;
    }
    const plan = audio.speak?.(body, speeches++) ?? {};
    if (plan.delayMs) await sleep(plan.delayMs);
    if (res.destroyed) return;
    if ('status' in plan) {
      sendError(res, plan);
      return;
    }
    const pcm = tonePcm(plan.ms ?? body.input.length * 50);
    res.writeHead(200, { 'content-type': 'audio/pcm', 'content-length': pcm.length }).end(pcm);
  }

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'POST' && path === '/v1/audio/transcriptions') {
      await transcription(req, res, path, Buffer.concat(chunks));
      return;
    }
    if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/audio/speech')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
      return;
    }
    let body: Body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      sendJson(res, 400, { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } });
      return;
    }
    if (path === '/v1/audio/speech') {
      await speech(req, res, path, body);
      return;
    }
    recordRequest(req, res, path, body);
    const plan = script(body, requests.length - 1);
    if ('status' in plan) {
      sendError(res, plan);
      return;
    }
    await stream(res, body, plan, `chatcmpl-fake${++completionId}`);
  }

  async function stream(res: ServerResponse, body: Body, plan: StreamPlan, id: string): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const created = Math.floor(Date.now() / 1000);
    const includeUsage = body?.stream_options?.include_usage === true;
    let gone = false;
    res.on('close', () => (gone = true));
    const send = async (data: string): Promise<void> => {
      const event = `data: ${data}\n\n`;
      if (!plan.fragmentWrites) {
        res.write(event);
        return;
      }
      const a = Math.floor(event.length / 3);
      for (const piece of [event.slice(0, a), event.slice(a, 2 * a), event.slice(2 * a)]) {
        res.write(piece);
        await sleep(1);
      }
    };
    const chunk = async (delta: object, finishReason: string | null = null): Promise<void> => {
      const payload = {
        id,
        object: 'chat.completion.chunk',
        created,
        model: body.model,
        system_fingerprint: 'fp_fake',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        // With include_usage, every chunk but the last carries usage: null.
        ...(includeUsage ? { usage: null } : {}),
      };
      await send(JSON.stringify(payload));
    };
    const pause = async (): Promise<boolean> => {
      if (plan.delayMs) await sleep(plan.delayMs);
      return !gone;
    };

    const calls = plan.toolCalls ?? [];
    await chunk({ role: 'assistant', content: calls.length > 0 && !plan.text?.length ? null : '', refusal: null });
    for (const r of plan.reasoning ?? []) {
      if (!(await pause())) return;
      await chunk({ reasoning_content: r });
    }
    for (const t of plan.text ?? []) {
      if (!(await pause())) return;
      await chunk({ content: t });
    }
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i]!;
      const args = typeof call.args === 'string' ? call.args : JSON.stringify(call.args);
      if (!(await pause())) return;
      await chunk({ tool_calls: [{ index: i, id: call.id ?? `call_fake${i}`, type: 'function', function: { name: call.name, arguments: '' } }] });
      // The arguments in fragments of up to 7 characters, as a model writes them.
      for (let at = 0; at < args.length; at += 7) {
        await chunk({ tool_calls: [{ index: i, function: { arguments: args.slice(at, at + 7) } }] });
      }
    }
    if (plan.streamError) {
      await send(JSON.stringify({ error: plan.streamError }));
      res.end();
      return;
    }
    if (plan.hang) return; // left open; the client's abort closes it
    if (!(await pause())) return;
    await chunk({}, plan.finishReason ?? (calls.length > 0 ? 'tool_calls' : 'stop'));
    if (includeUsage) {
      const words = (plan.text ?? []).join('').split(/\s+/).filter(Boolean).length;
      const usage = plan.usage ?? { promptTokens: Math.ceil(JSON.stringify(body.messages).length / 4), completionTokens: words + calls.length * 10 };
      await send(
        JSON.stringify({
          id,
          object: 'chat.completion.chunk',
          created,
          model: body.model,
          system_fingerprint: 'fp_fake',
          choices: [],
          usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens },
        }),
      );
    }
    await send('[DONE]');
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    request(index, timeoutMs = 10_000) {
      const found = requests[index];
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`request ${index} did not arrive (${requests.length} did)`)), timeoutMs);
        (arrivals[index] ??= []).push((r) => {
          clearTimeout(timer);
          resolve(r);
        });
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

interface Part {
  name: string | undefined;
  filename: string | undefined;
  type: string | undefined;
  data: Buffer;
}

/** Enough of multipart/form-data for the fake: each part's name, filename, type and bytes. */
function parseMultipart(contentType: string | undefined, raw: Buffer): Part[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  if (!boundary) return [];
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: Part[] = [];
  let at = raw.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (raw.subarray(start, start + 2).toString() === '--') break; // the closing delimiter
    const next = raw.indexOf(delimiter, start);
    if (next === -1) break;
    const part = raw.subarray(start + 2, next - 2); // after CRLF, before the CRLF that precedes the next delimiter
    const split = part.indexOf('\r\n\r\n');
    if (split !== -1) {
      const headers = part.subarray(0, split).toString('utf8');
      parts.push({
        name: /name="([^"]*)"/i.exec(headers.replace(/filename="[^"]*"/i, ''))?.[1],
        filename: /filename="([^"]*)"/i.exec(headers)?.[1],
        type: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim(),
        data: part.subarray(split + 4),
      });
    }
    at = next;
  }
  return parts;
}

/** Why `file` is not a 16 kHz mono PCM16 WAV with a 44-byte header, or undefined when it is. */
function wavProblem(file: Buffer): string | undefined {
  if (file.length < 44) return 'file too short for a WAV header';
  const checks: [boolean, string][] = [
    [file.toString('ascii', 0, 4) === 'RIFF', 'no RIFF'],
    [file.readUInt32LE(4) === file.length - 8, 'RIFF size'],
    [file.toString('ascii', 8, 12) === 'WAVE', 'no WAVE'],
    [file.toString('ascii', 12, 16) === 'fmt ', 'no fmt chunk'],
    [file.readUInt32LE(16) === 16, 'fmt size'],
    [file.readUInt16LE(20) === 1, 'not PCM'],
    [file.readUInt16LE(22) === 1, 'not mono'],
    [file.readUInt32LE(24) === TRANSCRIPTION_RATE, 'not 16 kHz'],
    [file.readUInt32LE(28) === TRANSCRIPTION_RATE * 2, 'byte rate'],
    [file.readUInt16LE(32) === 2, 'block align'],
    [file.readUInt16LE(34) === 16, 'not 16-bit'],
    [file.toString('ascii', 36, 40) === 'data', 'no data chunk'],
    [file.readUInt32LE(40) === file.length - 44, 'data size'],
  ];
  const failed = checks.find(([ok]) => !ok);
  return failed ? `invalid WAV file: ${failed[1]}` : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
