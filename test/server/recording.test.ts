/**
 * --record DIR (issue #5 item 4): every session's wire traffic as NDJSON, one file per session
 * appended across its connections, connections without a session in files of their own, and a
 * recorder that cannot write never disturbing the sessions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { NdjsonRecorder } from '../../src/server/ndjson-recorder.js';
import { ManualClock, systemClock } from '../../src/session/clock.js';
import { livePath, RawClient, TEXT_SETUP } from '../helpers/raw-client.js';
import { filesIn, readLines, RECORDED_KEY, recordSdkSession, type Line } from '../helpers/recording.js';
import { startServer } from '../helpers/server.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'relive-record-'));

describe('--record DIR', () => {
  test('an SDK session with a function call and a resumption: one file, both directions, both connections, in order', async () => {
    const dir = join(tempDir(), 'not-yet-there');
    const server = await startServer({ keepaliveIntervalMs: 0, recordDir: dir });
    let recorded;
    try {
      recorded = await recordSdkSession(server.url);
    } finally {
      await server.close();
    }
    assert.deepEqual(filesIn(dir), [`${recorded.sessionId}.ndjson`], 'one file for the session, none for its connections');
    const path = join(dir, `${recorded.sessionId}.ndjson`);
    assert.ok(!readFileSync(path, 'utf8').includes(RECORDED_KEY), 'the API key is never recorded');
    const lines = readLines(path);
    const conns = [...new Set(lines.map((l) => l.conn))];
    assert.equal(conns.length, 2, 'both connections in the one file');
    const [c1, c2] = conns.map((c) => lines.filter((l) => l.conn === c));

    // Every line: the server clock's time, ms since the connection opened, the connection, a direction.
    for (const l of lines) {
      assert.ok(!Number.isNaN(Date.parse(l.at)) && l.at.endsWith('Z'), `ISO time: ${l.at}`);
      assert.equal(typeof l.ms, 'number');
      assert.ok(['client', 'server', 'event'].includes(l.dir));
    }
    for (const c of [c1!, c2!]) {
      for (let i = 1; i < c.length; i++) {
        assert.ok(c[i]!.ms >= c[i - 1]!.ms, 'ms is monotonic within a connection');
        assert.ok(Date.parse(c[i]!.at) >= Date.parse(c[i - 1]!.at), 'at does not go back');
      }
    }
    // The first connection precedes the second: the resumption appended to the same file.
    const lastOfFirst = lines.lastIndexOf(c1![c1!.length - 1]!);
    assert.ok(lastOfFirst < lines.indexOf(c2![0]!), 'connection 1 is over before connection 2 begins');

    const summary = (c: Line[]) =>
      c.map((l) => (l.dir === 'event' ? `event:${l.event}` : l.dir === 'client' ? `client:${Object.keys(l.json)[0]}` : `server:${Object.keys(l.json).filter((k) => k !== 'usageMetadata')[0]}`));
    const s1 = summary(c1!);
    assert.deepEqual(s1.slice(0, 5), ['event:open', 'client:setup', 'event:session', 'server:setupComplete', 'server:sessionResumptionUpdate']);
    assert.ok(s1.indexOf('server:toolCall') < s1.indexOf('client:toolResponse'), 'the call before its response');
    assert.deepEqual(s1.slice(-3), ['server:serverContent', 'server:sessionResumptionUpdate', 'event:close'], 'turnComplete, its handle, the close');

    const open = c1![0]!;
    assert.equal(open.v, 1);
    assert.equal(open.apiVersion, 'v1beta');
    assert.match(open.path, /BidiGenerateContent$/);
    assert.ok(!open.path.includes('?'), 'the path has no query');
    const setup = c1![1]!;
    assert.equal(setup.frame, 'text');
    assert.match(setup.json.setup.model, /gemini-live-2.5-flash-preview/);
    const session1 = c1!.find((l) => l.event === 'session')!;
    assert.deepEqual([session1.id, session1.resumed], [recorded.sessionId, false]);
    const session2 = c2!.find((l) => l.event === 'session')!;
    assert.deepEqual([session2.id, session2.resumed], [recorded.sessionId, true]);
    assert.equal(c2![1]!.json.setup.sessionResumption.handle, recorded.handle, 'the resume setup as sent');

    // Both directions of the function call, with the id the server issued and the client answered.
    const toolCall = c1!.find((l) => l.dir === 'server' && l.json.toolCall)!;
    assert.equal(toolCall.json.toolCall.functionCalls[0].id, recorded.callId);
    const toolResponse = c1!.find((l) => l.dir === 'client' && l.json.toolResponse)!;
    assert.equal(toolResponse.json.toolResponse.functionResponses[0].id, recorded.callId);
    const text = c1!
      .filter((l) => l.dir === 'server')
      .flatMap((l) => l.json.serverContent?.modelTurn?.parts ?? [])
      .map((p: { text?: string }) => p.text ?? '')
      .join('');
    assert.match(text, /sunny, 21 C/);

    // The SDK closes without a status; the server saw 1005 and answered 1000.
    assert.deepEqual(
      [c1!.at(-1)!.code, c1!.at(-1)!.initiatedBy, c2!.at(-1)!.code, c2!.at(-1)!.initiatedBy],
      [1005, 'client', 1005, 'client'],
    );
  });

  test('a connection refused at its first message is recorded in a connection file with its close', async () => {
    const dir = tempDir();
    const server = await startServer({ keepaliveIntervalMs: 0, recordDir: dir });
    try {
      const c = await RawClient.open(server.url, { query: `key=${RECORDED_KEY}` });
      c.sendRaw(Buffer.from([0xff, 0x00, 0x01]), true);
      assert.equal((await c.waitClose()).code, 1007);
      const d = await RawClient.open(server.url, { path: livePath('v1alpha') });
      d.send({ clientContent: { turns: [], turnComplete: true } });
      assert.equal((await d.waitClose()).code, 1007);
    } finally {
      await server.close();
    }
    const files = filesIn(dir);
    assert.equal(files.length, 2);
    for (const f of files) assert.match(f, /^connection-\d{8}T\d{6}\.\d{3}Z-c\d+\.ndjson$/);
    const all = files.map((f) => readLines(join(dir, f)));
    const binary = all.find((ls) => ls[1]?.frame === 'binary')!;
    assert.deepEqual(
      binary.map((l) => l.dir === 'event' ? l.event : l.dir),
      ['open', 'client', 'close'],
    );
    assert.deepEqual([binary[1]!.encoding, binary[1]!.data], ['base64', Buffer.from([0xff, 0x00, 0x01]).toString('base64')]);
    assert.deepEqual([binary[2]!.code, binary[2]!.reason, binary[2]!.initiatedBy], [1007, 'Request contains an invalid argument.', 'server']);
    const notSetup = all.find((ls) => ls[1]?.frame === 'text')!;
    assert.equal(notSetup[0]!.apiVersion, 'v1alpha');
    assert.deepEqual(notSetup[1]!.json, { clientContent: { turns: [], turnComplete: true } });
    assert.equal(notSetup[2]!.code, 1007);
    for (const f of files) assert.ok(!readFileSync(join(dir, f), 'utf8').includes(RECORDED_KEY));
  });

  test('at is read from the server clock: a manual clock shows in the recording', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const server = await startServer({ keepaliveIntervalMs: 0, recordDir: dir, clock });
    try {
      const c = await RawClient.connect(server.url, TEXT_SETUP);
      await clock.advance(90_000);
      await c.turn('later');
      await c.dispose();
    } finally {
      await server.close();
    }
    const [file] = filesIn(dir);
    const lines = readLines(join(dir, file!));
    assert.equal(lines[0]!.at, '2030-01-01T00:00:00.000Z');
    assert.equal(lines.at(-1)!.at, '2030-01-01T00:01:30.000Z');
  });

  test('a recording directory that cannot be written is logged, and sessions go on undisturbed', async () => {
    const base = tempDir();
    const notADir = join(base, 'file');
    writeFileSync(notADir, 'in the way');
    const errors: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'error' }, { write: (s: string) => void errors.push(s) });
    const server = await startServer({ keepaliveIntervalMs: 0, recordDir: join(notADir, 'records'), logger });
    try {
      const c = await RawClient.connect(server.url, TEXT_SETUP);
      assert.match(await c.turn('still here?'), /You said: still here\?/);
      assert.match(await c.turn('and again'), /You said: and again/);
      await c.dispose();
      const bad = await RawClient.open(server.url);
      bad.sendRaw('not json');
      assert.equal((await bad.waitClose()).code, 1007);
    } finally {
      await server.close();
    }
    assert.ok(errors.some((e) => e.includes('recording directory cannot be created')), errors.join(''));
    assert.ok(errors.some((e) => e.includes('recording failed')), errors.join(''));
  });
});

describe('the recorder on its own', () => {
  test('a disk that does not keep up: lines past the queue limit are dropped, and the gap is written down', async () => {
    const dir = tempDir();
    const { pino } = await import('pino');
    const recorder = new NdjsonRecorder({ dir, clock: systemClock, log: pino({ enabled: false }), maxQueuedBytes: 400 });
    const tap = recorder.open({ conn: 'c9', path: '/p', apiVersion: 'v1beta' });
    // Written in one go when the session is known, before the file is even open: most of it is dropped.
    for (let i = 0; i < 10; i++) tap.clientFrame(Buffer.from(JSON.stringify({ realtimeInput: { text: `frame ${i} ${'x'.repeat(100)}` } })), false);
    tap.session('s-1', false);
    await new Promise((r) => setTimeout(r, 50));
    tap.serverMessage({ setupComplete: {} });
    tap.closed(1000, '', 'client');
    await recorder.flush();
    const lines = readLines(join(dir, 's-1.ndjson'));
    const dropped = lines.find((l) => l.event === 'dropped');
    assert.ok(dropped, JSON.stringify(lines));
    assert.ok(dropped.lines > 0);
    assert.equal(lines.at(-1)!.event, 'close', 'what came after the gap is there');
    assert.equal(lines.filter((l) => l.dir === 'client').length + dropped.lines, 10 + 1, 'every frame and the session line: written or counted');
  });

  test('a tap never throws, even after the recorder was flushed', async () => {
    const dir = tempDir();
    const { pino } = await import('pino');
    const recorder = new NdjsonRecorder({ dir, clock: systemClock, log: pino({ enabled: false }) });
    const tap = recorder.open({ conn: 'c1', path: '/p', apiVersion: 'v1' });
    await recorder.flush();
    tap.clientFrame(Buffer.from('x'), false);
    tap.session('s', false);
    tap.closed(1000, '', 'client');
    const late = recorder.open({ conn: 'c2', path: '/p', apiVersion: 'v1' });
    late.closed(1000, '', 'client');
    await recorder.flush();
    // The connection open at the flush was written out as a connection file, with what it had.
    assert.deepEqual(filesIn(dir).map((f) => f.replace(/\d{8}T\d{6}\.\d{3}Z/, 'T')), ['connection-T-c1.ndjson']);
  });
});
