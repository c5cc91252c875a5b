/**
 * The official SDK is a peer dependency: an app's own copy is the one relive's client uses, and
 * the lowest version of the declared range works. A scratch app gets relive-gemini and that
 * version from npm, and its client talks to a real relive server through relive-gemini/client.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { installRelive, ROOT, runNode } from '../helpers/installed-relive.js';
import { startServer, type TestServer } from '../helpers/server.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const RANGE = pkg.peerDependencies['@google/genai']!;
const LOWEST = /^>=(\d+\.\d+\.\d+)\b/.exec(RANGE)?.[1];

const APP = `
import { connectResilient } from 'relive-gemini/client';
import { LiveServerMessage, Modality } from '@google/genai';
import { readFileSync } from 'node:fs';

const sdkVersion = JSON.parse(readFileSync(new URL('./node_modules/@google/genai/package.json', import.meta.url), 'utf8')).version;
const messages = [];
let done;
const turnDone = new Promise((resolve) => (done = resolve));
const session = await connectResilient({
  model: 'gemini-live-2.5-flash-preview',
  config: { responseModalities: [Modality.TEXT] },
  apiKey: 'peer-range',
  baseUrl: process.argv[2],
  keepalive: { intervalMs: 0 },
  callbacks: {
    onmessage: (m) => {
      messages.push(m);
      if (m.serverContent?.turnComplete) done();
    },
  },
});
session.sendClientContent({ turns: 'hello from an old SDK', turnComplete: true });
await turnDone;
session.close();
console.log(JSON.stringify({
  sdkVersion,
  // The SDK class relive builds its messages with is the app's copy, and its getters work.
  appsClass: messages.every((m) => m instanceof LiveServerMessage),
  text: messages.map((m) => m.text ?? '').join(''),
}));
`;

describe('the SDK peer dependency', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ keepaliveIntervalMs: 0 });
  });
  after(async () => {
    await server.close();
  });

  test('package.json: the SDK is an optional peer with a lower bound, and a devDependency for the tests, never a dependency', () => {
    assert.ok(LOWEST, `the peer range "${RANGE}" starts with >=X.Y.Z`);
    assert.equal(pkg.peerDependenciesMeta['@google/genai']?.optional, true);
    assert.equal(pkg.dependencies['@google/genai'], undefined);
    assert.match(pkg.devDependencies['@google/genai'] ?? '', /^\d+\.\d+\.\d+$/);
  });

  test(`the lowest version of the range runs relive's client against a relive server, as the app's own copy`, async () => {
    const installed = await installRelive(LOWEST);
    assert.ok(!existsSync(path.join(installed.relive, 'node_modules')), 'relive has no nested copy of anything');
    writeFileSync(path.join(installed.app, 'app.mjs'), APP);
    const { code, stdout, stderr } = await runNode(['app.mjs', server.url], installed.app);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { sdkVersion: string; appsClass: boolean; text: string };
    assert.equal(result.sdkVersion, LOWEST);
    assert.equal(result.appsClass, true);
    assert.match(result.text, /You said: hello from an old SDK$/);
  });
});
