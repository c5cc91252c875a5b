/**
 * Issue #14 item 6 (no silent failures), as a new user met them: typos that were accepted
 * (`--store memroy` made a SQLite file named memroy; a mistyped `--api-keys` path became the one
 * key accepted) and files whose mistakes came back as "Invalid input", a zod dump or EISDIR. Each
 * runs the real bin on a real file: exit 2, a message naming the file, the field and what is
 * allowed, and no stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseServeArgs } from '../../src/cli/serve-options.js';
import { BIN } from '../helpers/bin.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function relive(args: string[], cwd: string): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    // Input that should have been refused was served: stop it, so the test fails instead of hanging.
    if (stdout.includes('relive listening')) child.kill('SIGKILL');
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Refused before listening: exit 2, the message on stderr, no stack frame, nothing served. */
function assertRefused(run: Run, message: RegExp): void {
  assert.equal(run.code, 2, run.stdout + run.stderr);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'a stack trace');
  assert.doesNotMatch(run.stdout, /relive listening/);
}

const scratch = () => mkdtempSync(join(tmpdir(), 'relive-bad-input-'));

describe('typos are refused, not taken literally', () => {
  test('--store memroy: no file named memroy, and the allowed forms with a suggestion', async () => {
    const dir = scratch();
    const run = await relive(['--port', '0', '--store', 'memroy'], dir);
    assertRefused(run, /store: "memroy" is not a store spec; use memory, sqlite:PATH or redis:\/\/HOST:PORT\[\/DB\] \(did you mean memory\?\)/);
    assert.equal(existsSync(join(dir, 'memroy')), false);
  });

  test('--store with a bare file name suggests sqlite:NAME', async () => {
    const dir = scratch();
    const run = await relive(['--port', '0', '--store', 'sessions.db'], dir);
    assertRefused(run, /did you mean sqlite:sessions\.db\?/);
    assert.equal(existsSync(join(dir, 'sessions.db')), false);
  });

  test('--api-keys with a mistyped file path is refused; a comma list and an existing file still work', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'keys.txt'), 'alpha\n');
    for (const spec of ['./kyes.txt', 'kyes.txt', 'conf/keys']) {
      const run = await relive(['--port', '0', '--store', 'memory', '--api-keys', spec], dir);
      assertRefused(run, new RegExp(`--api-keys: no file ${spec.replace('.', '\\.')}; give a comma-separated list of keys or the path of an existing file`));
    }
    const list = parseServeArgs(['--api-keys', 'k1,k2'], {});
    const file = parseServeArgs(['--api-keys', join(dir, 'keys.txt')], {});
    assert.deepEqual(['help' in list ? [] : list.options.apiKeys, 'help' in file ? [] : file.options.apiKeys], [['k1', 'k2'], ['alpha']]);
    const comments = join(dir, 'empty.txt');
    writeFileSync(comments, '# nobody yet\n');
    assertRefused(await relive(['--port', '0', '--store', 'memory', '--api-keys', comments], dir), /--api-keys .*empty\.txt: no key in it/);
  });
});

describe('bad files say which field is wrong and what is allowed', () => {
  test('--script with an unknown step names the file, the step and the step kinds', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'scenario.yaml'), 'rules:\n  - match: { text: hi }\n    reply:\n      - text: hello\n      - foo: bar\n');
    const run = await relive(['--port', '0', '--store', 'memory', '--script', 'scenario.yaml'], dir);
    assertRefused(run, /^relive: scenario\.yaml: rules\[0\]\.reply\[1\]: unknown step \{"foo":"bar"\}; a step is one of text, filler, thought, call, close, delayMs/);
    assert.ok(run.stderr.trim().split('\n').length <= 3, run.stderr);
  });

  test('--script with a wrongly typed or unknown field names it', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 's.yaml'), 'rules:\n  - match: { txt: hi }\n    reply: [{ text: 5 }]\n');
    const run = await relive(['--port', '0', '--store', 'memory', '--script', 's.yaml'], dir);
    assertRefused(run, /s\.yaml: rules\[0\]\.match: unknown field txt; allowed: text, regex, audio, turn/);
    assert.match(run.stderr, /s\.yaml: rules\[0\]\.reply\[0\]\.text: expected string, got 5/);
  });

  test('--faults with a bad action and a bad match: one line each, no zod dump', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'faults.yaml'), '- action: { type: clos }\n  match: { turn: 0 }\n');
    const run = await relive(['--port', '0', '--store', 'memory', '--faults', 'faults.yaml'], dir);
    assertRefused(run, /faults\.yaml: \[0\]\.match\.turn: Too small: expected number to be >=1 \(got 0\)/);
    assert.match(run.stderr, /faults\.yaml: \[0\]\.action\.type: "clos" is not allowed; expected one of goAway, close, drop, delay/);
    assert.doesNotMatch(run.stderr, /"code":|invalid_union/);
    assert.ok(run.stderr.trim().split('\n').length <= 3, run.stderr);
  });

  test('--faults with a single rule (not a list) names its fields without an index; a missing file says so', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'one.json'), JSON.stringify({ action: { type: 'delay', ms: 'slow' } }));
    assertRefused(await relive(['--port', '0', '--store', 'memory', '--faults', 'one.json'], dir), /one\.json: action\.ms: expected number, got "slow"/);
    assertRefused(await relive(['--port', '0', '--store', 'memory', '--faults', 'nope.yaml'], dir), /--faults nope\.yaml: no such file/);
  });

  test('relive replay DIR (the --record directory) names the recordings in it instead of EISDIR', async () => {
    const dir = scratch();
    const rec = join(dir, 'recordings');
    mkdirSync(rec);
    writeFileSync(join(rec, 'abc.ndjson'), '');
    const run = await relive(['replay', 'recordings'], dir);
    assertRefused(run, /relive replay: recordings is a directory; replay one recording file in it, e.g. recordings\/abc\.ndjson/);
    assert.doesNotMatch(run.stderr, /EISDIR/);
    assertRefused(await relive(['replay', 'missing.ndjson'], dir), /relive replay: missing\.ndjson: no such file/);
  });
});
