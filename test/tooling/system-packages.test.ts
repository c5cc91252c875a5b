/**
 * Tests that need a system package skip, one line each, when it is missing, and the run ends with a
 * summary of the skips; under RELIVE_TEST_REQUIRE_ALL (CI) a missing package fails the run. A real
 * node --test child runs a fixture file with the reporters of the `test` script and a PATH holding
 * only node (a directory with a link to it: node's own directory may be /usr/bin, where apt puts
 * redis-server too), so both packages are missing whatever this machine has installed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProcess, type Finished } from '../helpers/run-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const fixture = path.join(root, 'dist/test/fixtures/system-packages/needs-packages.js');
const reporter = './dist/test/helpers/skip-summary-reporter.js';

const REDIS_SKIP = 'needs redis-server, which is not installed (redis-server not found on PATH): apt-get install redis-server';
const SPHINX_SKIP = 'needs pocketsphinx, which is not installed (pocketsphinx_continuous not found on PATH): apt-get install pocketsphinx pocketsphinx-en-us';

const onlyNode = mkdtempSync(path.join(tmpdir(), 'relive-only-node-'));
symlinkSync(process.execPath, path.join(onlyNode, 'node'));
after(() => rmSync(onlyNode, { recursive: true, force: true }));

function runFixture(extraEnv: Record<string, string>): Promise<Finished> {
  const env: Record<string, string> = { PATH: onlyNode, HOME: process.env.HOME ?? '/tmp', ...extraEnv };
  const args = ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', `--test-reporter=${reporter}`, '--test-reporter-destination=stdout', fixture];
  return runProcess(process.execPath, args, { cwd: root, env });
}

const linesWith = (text: string, needle: string) => text.split('\n').filter((line) => line.includes(needle));

describe('tests that need a system package', () => {
  test('the test script runs the spec reporter and the skip summary, both to stdout', () => {
    const script = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts.test as string;
    assert.match(script, /--test-reporter=spec --test-reporter-destination=stdout/);
    assert.ok(script.includes(`--test-reporter=${reporter} --test-reporter-destination=stdout`), script);
  });

  test('missing, they are skipped with one line naming the package and its install command, and the run ends with a summary', async () => {
    const { code, stdout, stderr } = await runFixture({});
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    // One line per skipped unit: the Redis describe once (its two tests never run), the pocketsphinx test once.
    assert.equal(linesWith(stdout, `# ${REDIS_SKIP}`).length, 1, stdout);
    assert.equal(linesWith(stdout, `# ${SPHINX_SKIP}`).length, 1, stdout);
    assert.doesNotMatch(stdout, /ran without/);
    // The spec reporter's totals stay for CI to read.
    assert.match(stdout, /^ℹ pass 1$/m);
    assert.match(stdout, /^ℹ fail 0$/m);
    const summary = stdout.slice(stdout.indexOf('skipped 1 suite and 1 test, by reason:'));
    assert.ok(summary.startsWith('skipped 1 suite and 1 test, by reason:'), stdout);
    assert.match(summary, new RegExp(`^  1 suite: ${escape(REDIS_SKIP)}$`, 'm'));
    assert.match(summary, new RegExp(`^  1 test: ${escape(SPHINX_SKIP)}$`, 'm'));
  });

  test('with RELIVE_TEST_REQUIRE_ALL=1 a missing package fails the run, naming it', async () => {
    const { code, stdout, stderr } = await runFixture({ RELIVE_TEST_REQUIRE_ALL: '1' });
    assert.equal(code, 1, `${stdout}\n${stderr}`);
    assert.match(stdout, /^ℹ fail 2$/m);
    assert.match(stdout, /system package redis-server is installed \(RELIVE_TEST_REQUIRE_ALL is set\)/);
    assert.match(stdout, /system package pocketsphinx is installed \(RELIVE_TEST_REQUIRE_ALL is set\)/);
    assert.ok(stdout.includes('apt-get install redis-server'), stdout);
    assert.doesNotMatch(stdout, /ran without/);
  });

  test('RELIVE_TEST_REQUIRE_ALL=0 still skips', async () => {
    const { code, stdout, stderr } = await runFixture({ RELIVE_TEST_REQUIRE_ALL: '0' });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^skipped 1 suite and 1 test, by reason:$/m);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
