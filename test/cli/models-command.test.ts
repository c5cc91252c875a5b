/**
 * `relive models` and `--model-profile FILE`, through the real bin: the table lists every built-in
 * profile, `--json` is the resolved catalogue, a file's profiles show up resolved, and a bad file
 * stops models, serve and exec alike with exit 2, naming the file and the field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ModelProfile } from '../../src/session/models.js';
import { BUILTIN_PROFILES, DEFAULT_PROFILE } from '../../src/session/model-table.js';
import { BIN } from '../helpers/bin.js';
import { runProcess, type Finished } from '../helpers/run-process.js';

const relive = (args: string[], cwd?: string): Promise<Finished> => runProcess(process.execPath, [BIN, ...args], { cwd });

const scratch = (): string => mkdtempSync(join(tmpdir(), 'relive-models-'));

function write(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The block `relive models` prints for one profile, from its name line to the blank line. */
function block(stdout: string, name: string): string {
  const found = stdout.split('\n\n').find((b) => b.split('\n')[0]!.split('  ')[0] === name);
  assert.ok(found, `no block for ${name} in:\n${stdout}`);
  return found;
}

/** Refused before doing anything: exit 2, one clear message, no stack trace. */
function assertRefused(run: Finished, message: RegExp): void {
  assert.equal(run.code, 2, run.stdout + run.stderr);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'a stack trace');
  assert.doesNotMatch(run.stdout, /relive listening/);
}

describe('relive models', () => {
  test('lists every built-in profile and the default one, each with its models, summary, window, modalities, functions, interactionStatus and usageMetadata', async () => {
    const run = await relive(['models']);
    assert.equal(run.code, 0, run.stderr);
    for (const p of [...BUILTIN_PROFILES, DEFAULT_PROFILE]) block(run.stdout, p.name);
    const live38 = block(run.stdout, 'gemini-3.8-live');
    assert.match(live38, /models +gemini-3\.8-live, gemini-3\.8-live-latest, gemini-3\.8-live-preview\*, gemini-3\.8-flash-live\*/);
    assert.match(live38, /summary +the default Live model/);
    assert.match(live38, /context window +131,072 tokens/);
    assert.match(live38, /modalities +AUDIO\n/);
    assert.match(live38, /functions +NON_BLOCKING by default \(also BLOCKING\)/);
    assert.match(live38, /interactionStatus +yes/);
    const live31 = block(run.stdout, 'gemini-3.1-flash-live-preview');
    assert.match(live31, /functions +BLOCKING by default \(only\)/);
    assert.match(live31, /interactionStatus +no/);
    assert.match(live31, /usageMetadata +no/);
    assert.match(block(run.stdout, 'gemini-live-2.5-flash-preview'), /modalities +AUDIO, TEXT/);
    assert.match(block(run.stdout, 'default'), /models +any model no profile names/);
  });

  test('--json prints the resolved catalogue: the built-in profiles, then the default one', async () => {
    const run = await relive(['models', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const { profiles } = JSON.parse(run.stdout) as { profiles: ModelProfile[] };
    assert.deepEqual(profiles, JSON.parse(JSON.stringify([...BUILTIN_PROFILES, DEFAULT_PROFILE])));
  });

  test('--model-profile: a YAML list and a JSON object, resolved (extends, a built-in changed) and marked with their file', async () => {
    const dir = scratch();
    const yaml = write(dir, 'acme.yaml', '- name: acme-live-1\n  extends: gemini-3.8-live\n  models: [acme-live-1*]\n  usageMetadata: false\n');
    const json = write(dir, 'half.json', JSON.stringify({ name: 'gemini-live-2.5-flash-preview', responseModalities: ['AUDIO'], contextWindowTokens: 64000 }));
    const text = await relive(['models', '--model-profile', yaml, '--model-profile', json]);
    assert.equal(text.code, 0, text.stderr);
    const acme = block(text.stdout, 'acme-live-1');
    assert.match(acme.split('\n')[0]!, new RegExp(`\\(from ${yaml.replace(/[.]/g, '\\.')}, extends gemini-3\\.8-live\\)`));
    assert.match(acme, /models +acme-live-1\*\n/);
    assert.match(acme, /interactionStatus +yes/);
    assert.match(acme, /usageMetadata +no/);
    const half = block(text.stdout, 'gemini-live-2.5-flash-preview');
    assert.match(half, /modalities +AUDIO\n/);
    assert.match(half, /context window +64,000 tokens/);
    // Replaced, not listed twice.
    assert.equal(text.stdout.split('\n').filter((l) => l.startsWith('gemini-live-2.5-flash-preview')).length, 1);

    const asJson = await relive(['models', '--json', '--model-profile', yaml, '--model-profile', json]);
    const { profiles } = JSON.parse(asJson.stdout) as { profiles: ModelProfile[] };
    const acmeJson = profiles.find((p) => p.name === 'acme-live-1');
    assert.deepEqual([acmeJson?.usageMetadata, acmeJson?.interactionStatus, acmeJson?.contextWindowTokens], [false, true, 131_072]);
    assert.deepEqual(profiles.find((p) => p.name === 'gemini-live-2.5-flash-preview')?.responseModalities, ['AUDIO']);
  });

  test('a profile printed by --json is a valid profile file: every field of a profile is one a file may give', async () => {
    const dir = scratch();
    const { profiles } = JSON.parse((await relive(['models', '--json'])).stdout) as { profiles: ModelProfile[] };
    const copy = write(dir, 'copy.json', JSON.stringify(profiles.map((p) => ({ ...p, name: `my-${p.name}`, models: [`my-${p.name}`] }))));
    const run = await relive(['models', '--json', '--model-profile', copy]);
    assert.equal(run.code, 0, run.stderr);
    const mine = (JSON.parse(run.stdout) as { profiles: ModelProfile[] }).profiles.find((p) => p.name === 'my-gemini-3.8-live');
    assert.deepEqual(mine, { ...profiles.find((p) => p.name === 'gemini-3.8-live'), name: 'my-gemini-3.8-live', models: ['my-gemini-3.8-live'] });
  });

  test('--help lists the options; an unknown flag is a usage error', async () => {
    const help = await relive(['models', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--model-profile FILE/);
    assert.match(help.stdout, /--json/);
    assertRefused(await relive(['models', '--jsn']), /relive models: Unknown option '--jsn'/);
  });
});

describe('a bad --model-profile file: exit 2 naming the file and the field', () => {
  test('a misspelled field is named, with the fields allowed there', async () => {
    const dir = scratch();
    write(dir, 'typo.json', JSON.stringify({ name: 'acme', contextWindow: 1000 }));
    assertRefused(await relive(['models', '--model-profile', 'typo.json'], dir), /^relive models: typo\.json: \(top level\): unknown field contextWindow; allowed: name, extends, models, summary, contextWindowTokens/);
    write(dir, 'nested.yaml', '- name: a\n- name: b\n  thinking: { levels: [] }\n');
    assertRefused(await relive(['models', '--model-profile', 'nested.yaml'], dir), /nested\.yaml: \[1\]\.thinking: unknown field levels; allowed: config, refusedLevels/);
  });

  test('a wrong type or value is named with what it may be', async () => {
    const dir = scratch();
    write(dir, 'type.yaml', 'name: acme\ncontextWindowTokens: big\n');
    assertRefused(await relive(['models', '--model-profile', 'type.yaml'], dir), /type\.yaml: contextWindowTokens: expected number, got "big"/);
    write(dir, 'enum.json', JSON.stringify([{ name: 'acme', responseModalities: ['VIDEO'] }]));
    assertRefused(await relive(['models', '--model-profile', 'enum.json'], dir), /enum\.json: \[0\]\.responseModalities\[0\]: "VIDEO" is not allowed; expected one of TEXT, AUDIO/);
    write(dir, 'noname.json', JSON.stringify({ extends: 'gemini-3.8-live' }));
    assertRefused(await relive(['models', '--model-profile', 'noname.json'], dir), /noname\.json: name: missing \(expected string\)/);
  });

  test('extends naming no profile lists the ones there are; a later file may extend an earlier one', async () => {
    const dir = scratch();
    write(dir, 'ext.json', JSON.stringify({ name: 'acme', extends: 'gemini-9-live' }));
    assertRefused(await relive(['models', '--model-profile', 'ext.json'], dir), /ext\.json: extends: "gemini-9-live" names no profile; it may be one of gemini-3\.8-live, .*default/);
    write(dir, 'base.yaml', 'name: acme\nextends: gemini-3.8-live\n');
    write(dir, 'child.yaml', 'name: acme-2\nextends: acme\nusageMetadata: false\n');
    const run = await relive(['models', '--model-profile', 'base.yaml', '--model-profile', 'child.yaml'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(block(run.stdout, 'acme-2'), /interactionStatus +yes\n +usageMetadata +no/);
    // In the other order acme does not exist yet when acme-2 is read.
    assertRefused(await relive(['models', '--model-profile', 'child.yaml', '--model-profile', 'base.yaml'], dir), /child\.yaml: extends: "acme" names no profile/);
  });

  test('a file that is missing, empty or not JSON/YAML says so', async () => {
    const dir = scratch();
    assertRefused(await relive(['models', '--model-profile', 'nope.yaml'], dir), /--model-profile nope\.yaml: no such file/);
    write(dir, 'empty.yaml', '');
    assertRefused(await relive(['models', '--model-profile', 'empty.yaml'], dir), /empty\.yaml: the file is empty/);
    write(dir, 'broken.json', '{"name": ');
    assertRefused(await relive(['models', '--model-profile', 'broken.json'], dir), /broken\.json: not valid JSON/);
    write(dir, 'broken.yaml', 'name: [unclosed\n');
    assertRefused(await relive(['models', '--model-profile', 'broken.yaml'], dir), /broken\.yaml: not valid YAML/);
  });

  test('relive serve and relive exec refuse the same file the same way, before listening', async () => {
    const dir = scratch();
    write(dir, 'typo.json', JSON.stringify({ name: 'acme', usagemetadata: false }));
    const serve = await relive(['serve', '--port', '0', '--store', 'memory', '--model-profile', 'typo.json'], dir);
    assertRefused(serve, /^relive: typo\.json: \(top level\): unknown field usagemetadata; allowed: /);
    const exec = await relive(['exec', '--port', '0', '--model-profile', 'typo.json', '--', process.execPath, '-e', 'console.log("ran")'], dir);
    assertRefused(exec, /^relive exec: typo\.json: \(top level\): unknown field usagemetadata/);
    assert.doesNotMatch(exec.stdout, /ran/);
  });
});
