/**
 * relive installed without the official SDK (an optional peer): `relive serve` and the
 * relive-gemini entry load, and the two commands that need the SDK (`relive chat`, the gateway)
 * say how to install it instead of crashing on the import.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { SDK_RANGE, sdkMissingMessage } from '../../src/cli/official-sdk.js';
import { installRelive, ROOT, runNode } from '../helpers/installed-relive.js';

describe('relive without the official SDK', () => {
  test('chat exits 1 with the command that installs the SDK; --help still works', async () => {
    const { app, bin } = await installRelive();
    const chat = await runNode([bin, 'chat', '--url', 'http://127.0.0.1:9'], app);
    assert.equal(chat.code, 1, chat.stderr);
    assert.equal(chat.stderr, `${sdkMissingMessage('relive chat')}\n`);
    assert.match(chat.stderr, /npm install @google\/genai/);
    const help = await runNode([bin, 'chat', '--help'], app);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^relive chat/);
  });

  test('the range the message names is the peer range in package.json', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
    assert.equal(SDK_RANGE, pkg.peerDependencies['@google/genai']);
  });

  test('the gateway (--engine gemini) exits 1 with the command that installs the SDK', async () => {
    const { app, bin } = await installRelive();
    const gateway = await runNode([bin, 'serve', '--engine', 'gemini', '--port', '0', '--store', 'memory'], app);
    assert.equal(gateway.code, 1, gateway.stderr);
    assert.equal(gateway.stderr, `${sdkMissingMessage('relive --engine gemini')}\n`);
  });

  test('the relive-gemini and relive-gemini/protocol entries load', async () => {
    const { app } = await installRelive();
    writeFileSync(path.join(app, 'entries.mjs'), "const m = await import('relive-gemini'); await import('relive-gemini/protocol'); console.log(typeof m.createServer, typeof m.GeminiEngine);");
    const run = await runNode(['entries.mjs'], app);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'function function');
  });

  test('serve runs and answers', async () => {
    const { app, bin } = await installRelive();
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--store', 'memory'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const match = /"url":"(http:\/\/[^"]+)"[^\n]*relive listening|relive listening[^\n]*"url":"(http:\/\/[^"]+)"/.exec(out);
          if (match) resolve((match[1] ?? match[2])!);
        });
        void exited.then((code) => reject(new Error(`relive serve exited ${code}: ${stderr}`)));
      });
      const sessions = await fetch(`${url}/relive/v1/sessions`);
      assert.equal(sessions.status, 200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
