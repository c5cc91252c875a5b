/**
 * Issue #14 item 6a: a new user's app installed relive-gemini, npm silently dropped the optional
 * voice activity detector (onnxruntime-node's install script failed offline), and pocketsphinx
 * was not installed; nothing said so until audio turns never ended. Now one start-up line says
 * which voice features are on and, for each one that is off, why and the fix. Each part is made
 * missing for real: a PATH without pocketsphinx, and relive run from an install whose
 * node_modules lacks onnxruntime-node (the real loader fails to resolve it, as after npm's drop).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BIN, startBin } from '../helpers/bin.js';
import { waitFor } from '../helpers/wait.js';

type LogLine = { level: number; msg: string; voice?: Record<string, 'on' | 'off'> };

/** Starts relive, waits until it listens, and gives back its voice line. */
async function voiceLineOf(bin: ReturnType<typeof startBin>): Promise<LogLine> {
  await bin.listening;
  // Logged right after the listening line, which may have come in a chunk of its own.
  await waitFor(() => bin.lines.some((l) => l.includes('"voice"')), 'the voice log line');
  const lines = bin.lines.map((l) => JSON.parse(l) as LogLine).filter((l) => l.voice !== undefined);
  bin.child.kill('SIGTERM');
  assert.equal(await bin.exited, 0);
  assert.equal(lines.length, 1, 'exactly one voice line');
  return lines[0]!;
}

/** Whether this machine has pocketsphinx, asked of the shell rather than of relive's own check. */
const hasPocketsphinx = spawnSync('sh', ['-c', 'command -v pocketsphinx_continuous && test -d /usr/share/pocketsphinx/model/en-us/en-us']).status === 0;

/** The repository root of the compiled tests (dist/test/server/ → ../../..). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * A copy of relive's compiled code with a node_modules of links to every installed package but
 * the ones left out: what an install looks like after npm dropped an optional dependency.
 */
function installWithout(left: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'relive-install-'));
  cpSync(join(ROOT, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  const from = realpathSync(join(ROOT, 'node_modules'));
  const to = join(dir, 'node_modules');
  mkdirSync(to);
  for (const name of readdirSync(from)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      mkdirSync(join(to, name));
      for (const sub of readdirSync(join(from, name))) if (!left.includes(`${name}/${sub}`)) symlinkSync(join(from, name, sub), join(to, name, sub));
    } else if (!left.includes(name)) symlinkSync(join(from, name), join(to, name));
  }
  return join(dir, 'dist', 'src', 'cli', 'main.js');
}

describe('the start-up voice line', () => {
  test('with the npm parts present: detection and synthesis on; transcription as this machine has it', async () => {
    const line = await voiceLineOf(startBin(['--port', '0', '--store', 'memory']));
    assert.match(line.msg, /^voice activity detection on \(Silero v5 on onnxruntime-node\); transcription .*; speech synthesis on \(flite\)$/);
    assert.equal(line.voice!.activityDetection, 'on');
    assert.equal(line.voice!.speechSynthesis, 'on');
    if (hasPocketsphinx) {
      assert.match(line.msg, /; transcription on \(pocketsphinx\);/);
      assert.equal(line.level, 30, 'info when everything is there');
    } else {
      assert.match(line.msg, /; transcription off: pocketsphinx_continuous not found on PATH: apt-get install pocketsphinx pocketsphinx-en-us;/);
      assert.equal(line.level, 40, 'a warning when something is missing');
    }
  });

  test('a PATH without pocketsphinx: transcription off, with the apt-get line', async () => {
    const emptyPath = mkdtempSync(join(tmpdir(), 'relive-path-'));
    const line = await voiceLineOf(startBin(['--port', '0', '--store', 'memory'], { PATH: emptyPath }));
    assert.equal(line.level, 40);
    assert.equal(line.voice!.transcription, 'off');
    assert.match(line.msg, /transcription off: pocketsphinx_continuous not found on PATH: apt-get install pocketsphinx pocketsphinx-en-us/);
  });

  test('an install without onnxruntime-node: detection off, why and the fix; the server still serves', async () => {
    const main = installWithout(['onnxruntime-node']);
    assert.notEqual(main, BIN);
    const line = await voiceLineOf(startBin(['--port', '0', '--store', 'memory'], {}, main));
    assert.equal(line.level, 40);
    assert.equal(line.voice!.activityDetection, 'off');
    assert.match(
      line.msg,
      /^voice activity detection off: onnxruntime-node is not installed \(its install was dropped: set ONNXRUNTIME_NODE_INSTALL=skip or allowScripts \{"onnxruntime-node": false\} and reinstall\); /,
    );
    assert.match(line.msg, /speech synthesis on \(flite\)$/);
  });

  test('options that turn a part off say so without a warning for it', async () => {
    const { createServer } = await import('../../src/modes/emulate.js');
    const { pino } = await import('pino');
    const lines: LogLine[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
    const { logVoiceReport } = await import('../../src/server/voice-report.js');
    const server = createServer({ logger: false, vad: false, speechRecognizer: false, port: 0 });
    const { voice } = await server.listen();
    await server.close();
    logVoiceReport(logger, voice);
    const line = lines.find((l) => l.voice !== undefined)!;
    assert.equal(line.msg, 'voice activity detection off (vad: false); transcription off (speechRecognizer: false); speech synthesis on (flite)');
    assert.equal(line.level, 30);
  });
});
