/**
 * The replay in process: causal waits counted in runs (a reply in more chunks than recorded does
 * not stall it), and a takeover, where the second connection opens while the first is still open.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseScenario } from '../../src/engine/scripted/scenario.js';
import { readRecording } from '../../src/replay/recording.js';
import { replayRecording } from '../../src/replay/replayer.js';
import { compareReplay, formatReport } from '../../src/replay/report.js';
import { MODEL, RawClient } from '../helpers/raw-client.js';
import { filesIn } from '../helpers/recording.js';
import { startServer, type TestServer } from '../helpers/server.js';

const SETUP = { setup: { model: MODEL, generationConfig: { responseModalities: ['TEXT'] }, sessionResumption: {} } };
const story = (words: number) =>
  parseScenario(`rules:\n  - match: { text: story }\n    reply: [{ text: "${Array.from({ length: words }, (_, i) => `w${i}`).join(' ')}" }]\n`, 'yaml');

async function record(options: Parameters<typeof startServer>[0], drive: (server: TestServer) => Promise<void>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'relive-replay-'));
  const server = await startServer({ keepaliveIntervalMs: 0, recordDir: dir, ...options });
  try {
    await drive(server);
  } finally {
    await server.close();
  }
  const files = filesIn(dir);
  assert.equal(files.length, 1, files.join());
  return join(dir, files[0]!);
}

async function replayAgainst(file: string, options: Parameters<typeof startServer>[0], timeoutMs = 2000) {
  const server = await startServer({ keepaliveIntervalMs: 0, ...options });
  try {
    const recording = await readRecording(file);
    const started = Date.now();
    const replayed = await replayRecording(recording, { url: server.url, timeoutMs });
    return { report: compareReplay(file, server.url, recording, replayed), ms: Date.now() - started };
  } finally {
    await server.close();
  }
}

describe('replay', () => {
  test('a reply in more chunks than recorded: same runs, no wait given up, no difference', async () => {
    const file = await record({ scenario: story(8) }, async (server) => {
      const c = await RawClient.connect(server.url, SETUP);
      await c.turn('tell me a story');
      await c.turn('another story');
      await c.dispose();
    });
    const { report, ms } = await replayAgainst(file, { scenario: story(40) });
    assert.equal(report.differences, 0, formatReport(report));
    const c = report.connections[0]!;
    assert.ok(c.replayed.messages > c.recorded.messages, 'more chunks');
    assert.equal(c.replayed.runs, c.recorded.runs);
    assert.ok(ms < 1500, `no wait ran into its timeout (${ms} ms)`);
  });

  test('a takeover: the second connection resumes while the first is open, and the first gets 1008', async () => {
    const file = await record({}, async (server) => {
      const first = await RawClient.connect(server.url, SETUP);
      await first.turn('hello');
      const handle = first.messages.filter((m) => m.sessionResumptionUpdate?.newHandle).at(-1)!.sessionResumptionUpdate.newHandle as string;
      const second = await RawClient.connect(server.url, { setup: { ...SETUP.setup, sessionResumption: { handle } } });
      assert.equal((await first.waitClose()).code, 1008);
      await second.turn('still there?');
      await second.dispose();
    });
    const { report } = await replayAgainst(file, {});
    assert.equal(report.differences, 0, formatReport(report));
    assert.deepEqual(report.connections[0]!.replayed.close, { code: 1008, reason: 'Session resumed on another connection.', initiatedBy: 'server' });
  });

  test('in strict mode the same replay is refused: the resume is a difference, not a hang', async () => {
    const file = await record({}, async (server) => {
      const first = await RawClient.connect(server.url, SETUP);
      await first.turn('hello');
      const handle = first.messages.filter((m) => m.sessionResumptionUpdate?.newHandle).at(-1)!.sessionResumptionUpdate.newHandle as string;
      const second = await RawClient.connect(server.url, { setup: { ...SETUP.setup, sessionResumption: { handle } } });
      await first.waitClose();
      await second.dispose();
    });
    const { report } = await replayAgainst(file, { strict: true }, 500);
    assert.ok(report.differences > 0);
    const second = report.connections[1]!;
    assert.ok(second.differences.some((d) => d.kind === 'close' && d.got?.initiatedBy === 'server'), formatReport(report));
  });
});
