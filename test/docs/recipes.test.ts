/**
 * docs/testing.md's recipes run as written: every `js` block, in order, becomes one test file that
 * imports `relive` by its package name (the package resolves itself through its exports).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function jsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Without the runner's marker, or the child would report to this runner instead of printing TAP. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

test('every recipe of docs/testing.md passes', async () => {
  const blocks = jsBlocks(readFileSync(join(root, 'docs', 'testing.md'), 'utf8'));
  assert.ok(blocks.length >= 6, `found ${blocks.length} js blocks`);
  const dir = join(root, 'dist', 'recipes');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'testing-md.test.mjs');
  writeFileSync(file, blocks.join('\n'));
  const run = await promisify(execFile)(process.execPath, ['--test', '--test-reporter=tap', file], { cwd: root, timeout: 60_000, env: childEnv() }).catch(
    (err: { stdout?: string; stderr?: string; message: string }) => assert.fail(`recipes failed:\n${err.stdout ?? ''}\n${err.stderr ?? err.message}`),
  );
  const passed = /^# pass (\d+)$/m.exec(run.stdout)?.[1];
  assert.equal(Number(passed), blocks.length - 1, 'one test per recipe block after the set-up');
});
