/**
 * Issue #14 item 6a, the install itself: onnxruntime-node's postinstall downloads CUDA providers
 * from NuGet; where only the npm registry is reachable that fails, and npm drops the optional
 * dependency without a word. Reproduced with npm itself in scratch projects (npm's cache is warm
 * after this repository's install; each install takes a few seconds). NuGet is made unreachable
 * the same way everywhere: the install script honours global-agent's proxy variables, pointed
 * here at a closed port, while npm still reaches its registry.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ORT = 'onnxruntime-node';
const ORT_VERSION = '1.30.0';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let closedPort = 0;
before(async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** npm's own variables from an outer `npm test` would leak its settings into the scratch install. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && !/^ONNXRUNTIME_NODE_INSTALL/.test(k)));
  const proxy = `http://127.0.0.1:${closedPort}`;
  return { ...env, GLOBAL_AGENT_HTTPS_PROXY: proxy, GLOBAL_AGENT_HTTP_PROXY: proxy, ...extra };
}

/** An app that depends on onnxruntime-node as relive-gemini does (optionally), installed with npm. */
function install(pkg: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'relive-ort-install-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, optionalDependencies: { [ORT]: ORT_VERSION }, ...pkg }));
  const run = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env: cleanEnv(env), encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`;
  assert.equal(run.status, 0, `npm install failed (is the npm registry or its cache reachable?):\n${output}`);
  return { dir, output, installed: existsSync(join(dir, 'node_modules', ORT, 'package.json')) };
}

const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8', env: cleanEnv({}) }).stdout.trim();
/** package.json's allowScripts is read from npm 11.16 on. */
const readsAllowScripts = (() => {
  const [major = 0, minor = 0] = npmVersion.split('.').map(Number);
  return major > 11 || (major === 11 && minor >= 16);
})();

describe('installing onnxruntime-node where only the npm registry is reachable', () => {
  // Only linux/x64 has CUDA providers to download; elsewhere the default install succeeds.
  const downloads = process.platform === 'linux' && process.arch === 'x64';
  test('by default its postinstall fails and npm drops it silently (the bug as found)', { skip: downloads ? false : 'no CUDA download on this platform' }, () => {
    const r = install({});
    assert.equal(r.installed, false, 'onnxruntime-node was installed: did its CUDA download succeed?');
  });

  test('ONNXRUNTIME_NODE_INSTALL=skip installs it, CPU binary included', () => {
    const r = install({}, { ONNXRUNTIME_NODE_INSTALL: 'skip' });
    assert.equal(r.installed, true, r.output);
    const load = spawnSync(process.execPath, ['-e', `require('${ORT}')`], { cwd: r.dir, encoding: 'utf8' });
    assert.equal(load.status, 0, load.stderr);
  });

  test('allowScripts {"onnxruntime-node": false} installs it with no warning', { skip: readsAllowScripts ? false : `npm ${npmVersion} does not read allowScripts` }, () => {
    const r = install({ allowScripts: { [ORT]: false } });
    assert.equal(r.installed, true, r.output);
    assert.doesNotMatch(r.output, /Unknown project config|install-scripts|warn/i);
  });
});

describe("this repository's own install", () => {
  test('package.json denies only onnxruntime-node and protobufjs their scripts; better-sqlite3 keeps its build; no .npmrc key', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    assert.deepEqual(pkg.allowScripts, { 'better-sqlite3': true, 'onnxruntime-node': false, protobufjs: false });
    // npm 11 prints "Unknown project config" on every run for a key it does not know.
    const npmrc = join(ROOT, '.npmrc');
    if (existsSync(npmrc)) assert.doesNotMatch(readFileSync(npmrc, 'utf8'), /onnxruntime/);
  });
});
