import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { parseServeArgs } from '../../src/cli/serve-options.js';
import { BIN, startBin } from '../helpers/bin.js';
import { waitFor } from '../helpers/wait.js';
import { Inbox, sdk } from '../helpers/server.js';

describe('relive serve', () => {
  test('starts on the embedded defaults, logs its URL and how to point clients at it, serves, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relive-cli-'));
    // The embedded defaults, but for the store's place: tests must not share ./.relive/.
    const bin = startBin(['--port', '0', '--store', `sqlite:${join(dir, 'relive.db')}`]);
    const url = await bin.listening;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(bin.lines.some((l) => l.includes('GOOGLE_GEMINI_BASE_URL=') && l.includes('httpOptions')));
    const inbox = new Inbox();
    const session = await sdk(url).live.connect({ model: 'gemini-live-2.5-flash-preview', config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
    session.sendClientContent({ turns: 'Hello world!' });
    await inbox.turnComplete();
    session.close();
    await inbox.waitClose();
    // One structured line per connection event; the server logs the close once its side is done.
    const events = () => bin.lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    await waitFor(() => events().includes('connection closed'), 'the connection closed log line');
    for (const e of ['connection opened', 'session started']) assert.ok(events().includes(e), e);
    bin.child.kill('SIGTERM');
    assert.equal(await bin.exited, 0);
  });

  test('runs a scenario file given with --script and honours RELIVE_PORT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relive-cli-'));
    const script = join(dir, 'scenario.yaml');
    writeFileSync(script, 'rules:\n  - match: { text: ping }\n    reply: [{ text: pong }]\n');
    const bin = startBin(['--script', script], { RELIVE_PORT: '0', RELIVE_STORE: 'memory' });
    const url = await bin.listening;
    const inbox = new Inbox();
    const session = await sdk(url).live.connect({ model: 'gemini-live-2.5-flash-preview', config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
    session.sendClientContent({ turns: 'ping' });
    await inbox.turnComplete();
    assert.equal(inbox.text(), 'pong');
    session.close();
    await inbox.waitClose();
    bin.child.kill('SIGINT');
    assert.equal(await bin.exited, 0);
  });

  test('--help prints usage and exits 0; a bad flag exits 2 with a message', async () => {
    const help = spawn(process.execPath, [BIN, 'serve', '--help']);
    let out = '';
    help.stdout.on('data', (d: Buffer) => (out += d.toString()));
    assert.equal(await new Promise((r) => help.once('exit', r)), 0);
    assert.match(out, /--api-keys/);
    const bad = spawn(process.execPath, [BIN, '--port', 'eighty']);
    let err = '';
    bad.stderr.on('data', (d: Buffer) => (err += d.toString()));
    assert.equal(await new Promise((r) => bad.once('exit', r)), 2);
    assert.match(err, /--port must be a whole number/);
  });
});

describe('serve options', () => {
  test('read API keys from a list or a file, and the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relive-keys-'));
    const file = join(dir, 'keys.txt');
    writeFileSync(file, '# team keys\nalpha\nbeta # ci\n');
    const fromFile = parseServeArgs(['--api-keys', file], {});
    assert.ok(!('help' in fromFile));
    assert.deepEqual(fromFile.options.apiKeys, ['alpha', 'beta']);
    const fromEnv = parseServeArgs([], { RELIVE_API_KEYS: 'k1,k2', RELIVE_PORT: '9000' });
    assert.ok(!('help' in fromEnv));
    assert.deepEqual(fromEnv.options.apiKeys, ['k1', 'k2']);
    assert.equal(fromEnv.options.port, 9000);
  });

  test('read the context-window flags, and refuse an unknown tokenizer', () => {
    const parsed = parseServeArgs(['--tokenizer', 'chars4', '--audio-tokens-per-second', '32', '--context-window', '64000'], {});
    assert.ok(!('help' in parsed));
    assert.equal(parsed.tokenizer, 'chars4');
    assert.equal(parsed.options.audioTokensPerSecond, 32);
    assert.equal(parsed.options.contextWindowTokens, 64000);
    assert.throws(() => parseServeArgs(['--tokenizer', 'bpe9000'], {}), /--tokenizer must be one of o200k, gemma3, chars4/);
  });

  test('--clock manual, and not together with --time-scale', () => {
    const parsed = parseServeArgs(['--clock', 'manual'], {});
    assert.ok(!('help' in parsed));
    assert.equal(parsed.clock, 'manual');
    assert.throws(() => parseServeArgs(['--clock', 'manual', '--time-scale', '10'], {}), /do not go together/);
    assert.throws(() => parseServeArgs(['--clock', 'sundial'], {}), /--clock must be real or manual/);
  });

  test('--node-id (or RELIVE_NODE_ID) names the node; an id that would break a key is refused', () => {
    const parsed = parseServeArgs(['--node-id', 'eu-1'], {});
    assert.ok(!('help' in parsed));
    assert.equal(parsed.options.nodeId, 'eu-1');
    const fromEnv = parseServeArgs([], { RELIVE_NODE_ID: 'n2' });
    assert.ok(!('help' in fromEnv));
    assert.equal(fromEnv.options.nodeId, 'n2');
    assert.throws(() => parseServeArgs(['--node-id', 'a:b'], {}), /--node-id: node id must be/);
  });

  test('refuse unknown flags', () => {
    assert.throws(() => parseServeArgs(['--nope'], {}));
  });
});
