/**
 * `relive replay FILE --url URL` (issue #5 item 4): a recording made with --record replays against
 * a fresh server with no differences (exit 0), and against a server that behaves otherwise with
 * the differences named by connection and position (exit 1); usage and I/O errors exit 2.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { parseServeArgs } from '../../src/cli/serve-options.js';
import type { ReplayReport } from '../../src/replay/report.js';
import { BIN, startBin } from '../helpers/bin.js';
import { RawClient } from '../helpers/raw-client.js';
import { filesIn, readLines, recordSdkSession } from '../helpers/recording.js';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function relive(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

async function against<T>(options: Parameters<typeof startServer>[0], fn: (server: TestServer) => Promise<T>): Promise<T> {
  const server = await startServer({ keepaliveIntervalMs: 0, ...options });
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

const report = (run: Run): ReplayReport => JSON.parse(run.stdout) as ReplayReport;

describe('relive replay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relive-replay-'));
  let sessionFile = '';
  let rejectedFile = '';

  before(async () => {
    await against({ recordDir: dir }, async (server) => {
      await recordSdkSession(server.url);
      const bad = await RawClient.open(server.url);
      bad.sendRaw('{"clientContent": {"turnComplete": true}}');
      await bad.waitClose();
    });
    const files = filesIn(dir);
    sessionFile = join(dir, files.find((f) => !f.startsWith('connection-'))!);
    rejectedFile = join(dir, files.find((f) => f.startsWith('connection-'))!);
  });

  test('an SDK session with a function call and a resumption replays against a fresh server: no differences, exit 0', async () => {
    const run = await against({}, (server) => relive(['replay', sessionFile, '--url', server.url]));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /2 connections, no differences/);
    assert.match(run.stdout, /connection 2 \(recorded c\d+, session [0-9a-f-]+\): .* — as recorded/);
  });

  test('--json: the same replay as a machine-readable report, with the handle and call id substituted', async () => {
    const run = await against({}, (server) => relive(['replay', sessionFile, '--url', server.url, '--json', '--api-key', 'another-key']));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const r = report(run);
    assert.equal(r.differences, 0);
    assert.equal(r.connections.length, 2);
    const [c1, c2] = r.connections;
    assert.equal(c1!.recorded.messages, c1!.replayed.messages);
    assert.deepEqual(c2!.replayed.close, { code: 1005, reason: '', initiatedBy: 'client' });
    assert.equal(c2!.replayed.messages, 7, 'the resumption worked: the replayed handle was sent');
    assert.ok(!run.stdout.includes('another-key'), 'the key stays out of the report');
  });

  test('a server that closes on the second turn: the missing messages from #9 on and the close are reported, exit 1', async () => {
    const fault = { match: { messageType: 'clientContent', turn: 2 }, count: 1, action: { type: 'close', name: 'unavailable' } };
    const run = await against({}, async (server) => {
      server.server.faults.add(fault);
      return relive(['replay', sessionFile, '--url', server.url, '--json', '--timeout-ms', '1000']);
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const c1 = report(run).connections[0]!;
    const missing = c1.differences.find((d) => d.kind === 'missing');
    assert.ok(missing && missing.kind === 'missing');
    assert.equal(missing.expected[0]!.message, 9, 'the reply to the second turn, after setupComplete, an update, the first turn and its handle');
    assert.equal(missing.expected[0]!.label, 'serverContent{modelTurn}');
    const close = c1.differences.find((d) => d.kind === 'close');
    assert.deepEqual(close, {
      kind: 'close',
      expected: { code: 1005, reason: '', initiatedBy: 'client' },
      got: { code: 1011, reason: 'The service is currently unavailable.', initiatedBy: 'server' },
    });
    assert.equal(c1.replayed.notSent, 1, 'the toolResponse had nowhere to go');
  });

  test('a server whose messages differ in shape: the position and the missing key paths are named, exit 1', async () => {
    const run = await against({ sessionIdInSetupComplete: false }, (server) => relive(['replay', sessionFile, '--url', server.url]));
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /2 connections, 2 differences/);
    assert.match(run.stdout, /connection 1 [^\n]*\n {2}server message #1 \(replay #1\): expected setupComplete\{sessionId\}, got setupComplete\n {4}missing: setupComplete\.sessionId:string/);
    assert.match(run.stdout, /connection 2 [^\n]*\n {2}server message #1 \(replay #1\)/);
  });

  test('a connection refused at its first message replays to the same 1007', async () => {
    const run = await against({}, (server) => relive(['replay', rejectedFile, '--url', server.url]));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /close 1007 "Request contains an invalid argument\." by the server — as recorded/);
  });

  test('usage and I/O errors exit 2: no file, a missing file, a file with no connection, nothing listening', async () => {
    const none = await relive(['replay']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /a recording FILE is needed/);
    const missing = await relive(['replay', join(dir, 'nope.ndjson')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.ndjson: no such file/);
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, 'hello\n');
    const noConn = await relive(['replay', empty]);
    assert.equal(noConn.code, 2);
    assert.match(noConn.stderr, /holds no connection/);
    const port = await against({}, async (server) => server.port);
    const unreachable = await relive(['replay', sessionFile, '--url', `http://127.0.0.1:${port}`]);
    assert.equal(unreachable.code, 2, unreachable.stdout + unreachable.stderr);
    assert.match(unreachable.stderr, /cannot reach/);
    const badTimeout = await relive(['replay', sessionFile, '--timeout-ms', 'soon']);
    assert.equal(badTimeout.code, 2);
  });
});

describe('relive serve --record DIR', () => {
  test('the flag maps to recordDir; an empty one is refused', () => {
    const parsed = parseServeArgs(['--record', 'out/rec'], {});
    assert.ok(!('help' in parsed));
    assert.equal(parsed.options.recordDir, 'out/rec');
    assert.throws(() => parseServeArgs(['--record', ''], {}), /--record needs a directory/);
  });

  test('creates DIR, records a session, and has written it all when SIGTERM ends the process', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'relive-serve-record-')), 'a', 'b');
    const bin = startBin(['--port', '0', '--store', 'memory', '--drain-notice', '0.2', '--record', dir]);
    const url = await bin.listening;
    const inbox = new Inbox();
    const session = await sdk(url).live.connect({ model: 'gemini-live-2.5-flash-preview', config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
    session.sendClientContent({ turns: 'Hello world!' });
    await inbox.turnComplete();
    // Left open: the drain at SIGTERM closes it, and the recording must still end with that close.
    bin.child.kill('SIGTERM');
    assert.equal(await bin.exited, 0);
    const files = filesIn(dir);
    assert.equal(files.length, 1);
    const lines = readLines(join(dir, files[0]!));
    assert.equal(lines[0]!.event, 'open');
    assert.ok(lines.some((l) => l.dir === 'server' && l.json.goAway), 'the drain goAway');
    assert.equal(lines.at(-1)!.event, 'close');
    assert.ok(bin.lines.some((l) => l.includes(`"record":"${dir}"`)), 'the start line names the directory');
  });
});
