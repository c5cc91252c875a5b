/**
 * The logs of the real `relive` bin: human lines on a terminal (a pseudo-terminal made by util-linux
 * `script`), JSON lines otherwise, either forced by --log-format or RELIVE_LOG_FORMAT, and at
 * --log-level debug a line for each event of a connection's life.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { Modality } from '@google/genai';
import { BIN, startBin } from '../helpers/bin.js';
import { waitFor } from '../helpers/wait.js';
import { HAS_SCRIPT, startBinInPty } from '../helpers/pty.js';
import { Inbox, sdk } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';
/** A human line: local time, level, message. */
const HUMAN = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/;

function isJson(line: string): boolean {
  try {
    return typeof (JSON.parse(line) as { msg?: unknown }).msg === 'string';
  } catch {
    return false;
  }
}

/** Runs the bin with stdout a pipe, however its lines look; resolves with them at exit. */
function runPiped(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': every line of the output has been read by then.
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return { child, lines: () => stdout.split('\n').filter(Boolean), stderr: () => stderr, exited };
}

test('on a terminal: human lines, the URL and how to point a client first; Ctrl-C says what the drain waits for and a second Ctrl-C stops at once', { skip: !HAS_SCRIPT && 'util-linux script is not installed' }, async () => {
  const relive = startBinInPty(['--port', '0', '--store', 'memory', '--drain-notice', '600']);
  const first = await relive.line(() => true);
  assert.match(first, HUMAN);
  const url = /INFO {2}relive listening on (http:\/\/[\d.]+:\d+) — point clients at it with GOOGLE_GEMINI_BASE_URL=(\S+) or new GoogleGenAI\(\{ apiKey, httpOptions: \{ baseUrl: '(\S+)' \} \}\)/.exec(first);
  assert.ok(url, first);
  assert.equal(url[2], url[1]);
  assert.equal(url[3], url[1]);
  assert.match(first, / mode=emulator store=memory/);

  const inbox = new Inbox();
  const session = await sdk(url[1]!).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
  session.sendClientContent({ turns: 'hello' });
  await inbox.turnComplete();
  const opened = await relive.line((l) => l.includes('connection opened'));
  assert.match(opened, HUMAN);
  assert.match(opened, /INFO {2}\[c\d+\] connection opened remote=127\.0\.0\.1 path=\/+ws\//);
  const started = await relive.line((l) => l.includes('session started'));
  assert.match(started, new RegExp(`\\[c\\d+ ${inbox.messages[0]!.setupComplete!.sessionId!.slice(0, 8)}\\] session started model=models/${MODEL} modality=TEXT`));
  // Not every field: pino's bookkeeping stays in the JSON lines.
  for (const line of relive.lines) {
    assert.doesNotMatch(line, /\bpid=|\bhostname=|"level":/, line);
    assert.ok(!isJson(line), line);
  }
  // Info is the default level: the per-message lines are debug's.
  assert.ok(!relive.lines.some((l) => l.includes('client message')));

  relive.type('\x03');
  const goAway = await inbox.waitFor((m) => m.goAway !== undefined);
  assert.equal(goAway.goAway!.timeLeft, '600s');
  const told = await relive.line((l) => l.includes('draining'));
  assert.match(told, /INFO {2}draining 1 connection: goAway sent to each, new connections refused; stopping once the clients have left, in at most 600 s — press Ctrl-C again to stop at once/);

  relive.type('\x03');
  assert.equal(await relive.exited, 0);
  // Stopped at once: the client was closed by the shutdown (1001), not at the drain's deadline (1008).
  assert.deepEqual(await inbox.waitClose(), { code: 1001, reason: 'Server shutting down.' });
  const second = relive.lines.findIndex((l) => l.includes('second signal'));
  assert.ok(second > relive.lines.indexOf(told), relive.lines.join('\n'));
  assert.match(relive.lines[second]!, /WARN {2}second signal: closing every connection now signal=SIGINT/);
  assert.match(relive.lines.at(-1)!, /INFO {2}stopped$/);
});

test('on a terminal with no connection, Ctrl-C stops without a drain', { skip: !HAS_SCRIPT && 'util-linux script is not installed' }, async () => {
  const relive = startBinInPty(['--port', '0', '--store', 'memory']);
  await relive.line((l) => l.includes('relive listening'));
  relive.type('\x03');
  assert.equal(await relive.exited, 0);
  const stopping = relive.lines.findIndex((l) => l.includes('stopping: no connection open'));
  assert.ok(stopping > 0, relive.lines.join('\n'));
  assert.ok(!relive.lines.some((l) => l.includes('draining 1') || l.includes('second signal')), relive.lines.join('\n'));
  assert.match(relive.lines.at(-1)!, /INFO {2}stopped$/);
});

test('RELIVE_LOG_FORMAT=json gives JSON lines on a terminal, and --log-format pretty human lines through a pipe', { skip: !HAS_SCRIPT && 'util-linux script is not installed' }, async () => {
  const json = startBinInPty(['--port', '0', '--store', 'memory'], { RELIVE_LOG_FORMAT: 'json' });
  const first = await json.line(() => true);
  const entry = JSON.parse(first) as { level: number; msg: string; url: string; pid: number };
  assert.equal(entry.level, 30);
  assert.ok(entry.msg.startsWith(`relive listening on ${entry.url}`));
  assert.equal(typeof entry.pid, 'number');
  json.type('\x03');
  assert.equal(await json.exited, 0);
  assert.ok(json.lines.every(isJson), json.lines.join('\n'));

  const pretty = runPiped(['--port', '0', '--store', 'memory', '--log-format', 'pretty']);
  await waitFor(() => pretty.lines().length > 0, { what: 'pretty output', timeoutMs: 30_000 });
  pretty.child.kill('SIGTERM');
  assert.equal(await pretty.exited, 0);
  const lines = pretty.lines();
  assert.match(lines[0]!, HUMAN);
  assert.match(lines[0]!, /relive listening on http:/);
  // No colours when the output is no terminal.
  assert.ok(!lines.some((l) => l.includes('\u001b[')));
  assert.match(lines.find((l) => l.includes('stopping'))!, /INFO {2}stopping: no connection open signal=SIGTERM/);
});

test('without a terminal the lines are JSON; --log-format json forces them too', async () => {
  for (const args of [[], ['--log-format', 'json']]) {
    const relive = startBin(['--port', '0', '--store', 'memory', ...args]);
    await relive.listening; // resolves only on a JSON line
    relive.child.kill('SIGTERM');
    assert.equal(await relive.exited, 0);
    await waitFor(() => relive.lines.at(-1)?.includes('"msg":"stopped"') === true, 'the stopped log line');
    assert.ok(relive.lines.length >= 2 && relive.lines.every(isJson), relive.lines.join('\n'));
  }
});

test('a bad --log-format or RELIVE_LOG_FORMAT is refused with a message naming it', async () => {
  const flag = runPiped(['--log-format', 'fancy']);
  assert.equal(await flag.exited, 2);
  assert.equal(flag.stderr(), 'relive: --log-format must be pretty or json; got "fancy"\n');
  const env = runPiped([], { RELIVE_LOG_FORMAT: 'xml' });
  assert.equal(await env.exited, 2);
  assert.equal(env.stderr(), 'relive: RELIVE_LOG_FORMAT must be pretty or json; got "xml"\n');
  const level = runPiped([], { RELIVE_LOG_LEVEL: 'loud' });
  assert.equal(await level.exited, 2);
  assert.match(level.stderr(), /^relive: RELIVE_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent\n$/);
});

interface Entry {
  level: number;
  msg: string;
  conn?: string;
  [key: string]: unknown;
}

/** A client's whole life against a bin at `level`: a text turn, 50 audio chunks, the end of the stream, a close. */
async function connectionLife(level: 'debug' | 'trace'): Promise<Entry[]> {
  const relive = startBin(['--port', '0', '--store', 'memory', '--log-level', level]);
  const url = await relive.listening;
  const inbox = new Inbox();
  const session = await sdk(url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], sessionResumption: {} }, callbacks: inbox.callbacks });
  session.sendClientContent({ turns: 'hello' });
  await inbox.turnComplete();
  const chunk = Buffer.alloc(640).toString('base64'); // 20 ms of silence at 16 kHz
  for (let i = 0; i < 50; i++) session.sendRealtimeInput({ audio: { data: chunk, mimeType: 'audio/pcm;rate=16000' } });
  session.sendRealtimeInput({ audioStreamEnd: true });
  const entries = (): Entry[] => relive.lines.map((l) => JSON.parse(l) as Entry);
  await waitFor(() => entries().some((e) => e.kind === 'realtimeInput.audioStreamEnd'), { what: 'the audioStreamEnd log entry', timeoutMs: 10_000 });
  session.close();
  await waitFor(() => entries().some((e) => e.msg === 'connection closed'), { what: 'the connection closed log entry', timeoutMs: 10_000 });
  relive.child.kill('SIGTERM');
  assert.equal(await relive.exited, 0);
  return entries();
}

test('--log-level debug tells a connection\'s life: opened, setup, each client message with its size, turns, handles, close; streamed audio is summarized', async () => {
  const entries = await connectionLife('debug');
  const conn = entries.filter((e) => e.conn !== undefined);
  const find = (msg: string): Entry => {
    const e = conn.find((x) => x.msg === msg);
    assert.ok(e, `no "${msg}" line in:\n${conn.map((x) => x.msg).join('\n')}`);
    return e;
  };
  assert.equal(find('connection opened').remote, '127.0.0.1');
  const setup = find('setup received');
  assert.equal(setup.level, 20);
  assert.equal(setup.model, `models/${MODEL}`);
  assert.deepEqual(setup.modalities, ['TEXT']);
  assert.equal(setup.resumption, 'asked');
  assert.ok(Number(setup.bytes) > 0);
  const text = conn.find((e) => e.msg === 'client message' && e.kind === 'clientContent');
  assert.ok(text && text.index === 1 && Number(text.bytes) > 0, JSON.stringify(text));
  const order = ['setup received', 'session started', 'model turn started', 'model turn ended', 'connection closed'].map((m) => conn.indexOf(find(m)));
  assert.deepEqual([...order].sort((a, b) => a - b), order, 'lines out of order');
  assert.ok(Number(find('model turn ended').totalTokens) > 0);
  assert.equal(conn.filter((e) => e.msg === 'resumption handle issued').length >= 2, true, 'a handle at setup and one after the turn');
  assert.equal(find('connection closed').code, 1005); // the SDK closes without a status code

  // 50 chunks of 20 ms: not a line each. The first is told, the rest summarized; none lost.
  const audio = conn.filter((e) => e.kind === 'realtimeInput.audio');
  assert.ok(audio.length < 10, `${audio.length} lines for 50 audio chunks`);
  assert.equal(audio[0]!.index, 2);
  const summarized = audio.slice(1).reduce((n, e) => n + Number(e.chunks), 0);
  assert.equal(1 + summarized, 50);
  assert.equal(audio.slice(1).reduce((n, e) => n + Number(e.bytes), 0) > 0, true);
  assert.ok(conn.indexOf(audio.at(-1)!) < conn.findIndex((e) => e.kind === 'realtimeInput.audioStreamEnd'), 'the summary comes before the end of the stream');
});

test('--log-level trace has a line for every audio chunk', async () => {
  const entries = await connectionLife('trace');
  const audio = entries.filter((e) => e.kind === 'realtimeInput.audio');
  assert.equal(audio.length, 50);
  assert.ok(audio.every((e) => e.level === 10 && Number(e.bytes) > 0));
});
