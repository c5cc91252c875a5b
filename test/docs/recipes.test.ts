/**
 * docs/testing.md's recipes run as written: every `js` block, in order, becomes one test file that
 * imports `relive` by its package name (the package resolves itself through its exports); the CI
 * step (the `sh` block with `relive exec`) runs with sh and the real npx in a project that has
 * relive installed.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { childEnv } from '../helpers/run-process.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function jsBlocks(markdown: string): string[] {
  return blocks(markdown, 'js');
}

function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp(`^\`\`\`${lang}\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);
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

/** What a project's `npm test` is in the CI recipe: the app's tests, on the SDK, reading the URLs from the environment. */
const APP_TEST = `
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { GoogleGenAI, Modality } from '@google/genai';

test('the app against relive, through the environment only', async () => {
  writeFileSync('seen-url', process.env.RELIVE_URL);
  const ai = new GoogleGenAI({ apiKey: 'ci-key' }); // base URL: GOOGLE_GEMINI_BASE_URL
  const messages = [];
  let closed;
  let wake = () => {};
  const until = async (done) => { while (!done()) await new Promise((resolve) => (wake = resolve)); };
  const session = await ai.live.connect({
    model: 'gemini-live-2.5-flash-preview',
    config: { responseModalities: [Modality.TEXT] },
    callbacks: { onmessage: (m) => { messages.push(m); wake(); }, onclose: (e) => { closed = e; wake(); } },
  });
  session.sendClientContent({ turns: 'first' });
  await until(() => messages.some((m) => m.serverContent?.turnComplete));
  session.sendClientContent({ turns: 'second' });
  await until(() => closed);
  assert.deepEqual([closed.code, closed.reason], [1011, 'Internal error occurred.'], 'the fault rule the recipe set');
  const before = await (await fetch(process.env.RELIVE_URL + '/relive/v1/clock')).json();
  const after = await (await fetch(process.env.RELIVE_URL + '/relive/v1/clock:advance', { method: 'POST', body: '{"seconds": 540}' })).json();
  assert.equal(Date.parse(after.now) - Date.parse(before.now), 540_000, 'a manual clock');
});
`;

/** A project with relive-gemini and @google/genai installed as npm lays them out, relive on its .bin. */
function appProject(testScript: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'relive-ci-recipe-'));
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', '@google'));
  symlinkSync(root, join(dir, 'node_modules', 'relive-gemini'));
  symlinkSync(join(root, 'node_modules', '@google', 'genai'), join(dir, 'node_modules', '@google', 'genai'));
  // The package's bin, run by node as npm's own shim would (the built file is not executable).
  const bin = join(dir, 'node_modules', '.bin', 'relive');
  writeFileSync(bin, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(root, 'dist', 'src', 'cli', 'main.js'))} "$@"\n`);
  chmodSync(bin, 0o755);
  writeFileSync(join(dir, 'app.test.mjs'), APP_TEST);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module', scripts: { test: testScript }, devDependencies: { 'relive-gemini': '*', '@google/genai': '*' } }),
  );
  return dir;
}

function runSh(script: string, cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', script], { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // 'exit', not 'close': a server the step leaked would hold the pipes open.
    child.once('exit', (code) => resolve({ code, output }));
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

test('the CI step of docs/testing.md runs as written: the tests pass against the server it starts, a failing test fails the step, and no server is left', async (t) => {
  const steps = blocks(readFileSync(join(root, 'docs', 'testing.md'), 'utf8'), 'sh').filter((b) => b.includes('relive exec'));
  assert.equal(steps.length, 1, 'one CI step with relive exec');
  const step = steps[0]!;

  const passing = appProject('node --test app.test.mjs');
  t.after(() => rmSync(passing, { recursive: true, force: true }));
  const ok = await runSh(step, passing);
  assert.equal(ok.code, 0, `the step failed:\n${ok.output}`);
  const url = readFileSync(join(passing, 'seen-url'), 'utf8');
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(await portFree(Number(new URL(url).port)), true, 'the server stopped with the step');

  const failing = appProject(`node -e "require('fs').writeFileSync('seen-url', process.env.RELIVE_URL); process.exit(3)"`);
  t.after(() => rmSync(failing, { recursive: true, force: true }));
  const bad = await runSh(step, failing);
  assert.notEqual(bad.code, 0, `a failing npm test must fail the step:\n${bad.output}`);
  assert.equal(await portFree(Number(new URL(readFileSync(join(failing, 'seen-url'), 'utf8')).port)), true);
});
