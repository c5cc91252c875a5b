/**
 * `relive serve --model-profile FILE` as a user runs it: the real bin, a profile file on disk, and
 * the official SDK connecting. The file's profile is what the server runs: here the half-cascade
 * model made AUDIO-only, so a TEXT setup that the built-in profile takes is refused as the service
 * refuses a modality. `relive exec` takes the same flag.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Modality } from '@google/genai';
import type { ModelProfile } from '../../src/session/models.js';
import { BIN, startBin } from '../helpers/bin.js';
import { runProcess } from '../helpers/run-process.js';
import { Inbox, sdk } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';
const INVALID = { code: 1007, reason: 'Request contains an invalid argument.' };

/** 'open' when the setup was taken (one turn answered), else the close the SDK's connect rejected with. */
async function connectText(url: string, model = MODEL): Promise<'open' | { code: number; reason: string }> {
  const inbox = new Inbox();
  let session;
  try {
    session = await sdk(url).live.connect({ model, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
  } catch (err) {
    const m = /closed before setup completed \(code (\d+)\): (.*)$/s.exec(String((err as Error).message));
    if (!m) throw err;
    return { code: Number(m[1]), reason: m[2]! };
  }
  session.sendClientContent({ turns: 'hello there' });
  await inbox.turnComplete();
  session.close();
  await inbox.waitClose();
  return 'open';
}

const dir = mkdtempSync(join(tmpdir(), 'relive-profile-serve-'));
const profileFile = join(dir, 'audio-only.json');
writeFileSync(
  profileFile,
  JSON.stringify([
    { name: MODEL, responseModalities: ['AUDIO'] },
    { name: 'acme-live-1', extends: 'gemini-live-2.5-flash-preview', models: ['acme-live-1*'], responseModalities: ['TEXT'] },
  ]),
);

describe('relive serve --model-profile', () => {
  let withFile: ReturnType<typeof startBin>;
  let plain: ReturnType<typeof startBin>;
  let withUrl: string;
  let plainUrl: string;
  before(async () => {
    withFile = startBin(['--port', '0', '--store', 'memory', '--log-format', 'json', '--model-profile', profileFile]);
    plain = startBin(['--port', '0', '--store', 'memory', '--log-format', 'json']);
    [withUrl, plainUrl] = await Promise.all([withFile.listening, plain.listening]);
  });
  after(async () => {
    for (const bin of [withFile, plain]) bin.child.kill('SIGTERM');
    await Promise.all([withFile.exited, plain.exited]);
  });

  test('the file\'s profile is what the server runs: TEXT on the AUDIO-only override closes 1007, as it does not without the file', async () => {
    assert.equal(await connectText(plainUrl), 'open');
    assert.deepEqual(await connectText(withUrl), INVALID);
    // A model of the file's own, answering for its pattern.
    assert.equal(await connectText(withUrl, 'acme-live-1-preview'), 'open');
  });

  test('the start-up line names the profiles loaded', () => {
    const line = withFile.lines.map((l) => JSON.parse(l) as { msg: string; modelProfiles?: string[] }).find((e) => e.msg.startsWith('relive listening'));
    assert.deepEqual(line?.modelProfiles, [MODEL, 'acme-live-1']);
  });

  test('GET /relive/v1/models answers the running server\'s catalogue, its file\'s profiles included', async () => {
    const { profiles } = (await (await fetch(`${withUrl}/relive/v1/models`)).json()) as { profiles: ModelProfile[] };
    assert.deepEqual(profiles.find((p) => p.name === MODEL)?.responseModalities, ['AUDIO']);
    assert.deepEqual(profiles.find((p) => p.name === 'acme-live-1')?.models, ['acme-live-1*']);
    const builtin = (await (await fetch(`${plainUrl}/relive/v1/models`)).json()) as { profiles: ModelProfile[] };
    assert.deepEqual(builtin.profiles.find((p) => p.name === MODEL)?.responseModalities, ['AUDIO', 'TEXT']);
    assert.equal(builtin.profiles.some((p) => p.name === 'acme-live-1'), false);
  });
});

test('relive exec --model-profile: the server it starts for CMD runs the file\'s profiles', async () => {
  const script = `fetch(process.env.RELIVE_URL + '/relive/v1/models').then((r) => r.json()).then((b) => console.log(JSON.stringify(b.profiles.map((p) => p.name))))`;
  const run = await runProcess(process.execPath, [BIN, 'exec', '--port', '0', '--model-profile', profileFile, '--', process.execPath, '-e', script]);
  assert.equal(run.code, 0, run.stderr);
  const names = JSON.parse(run.stdout.trim()) as string[];
  assert.deepEqual(names.slice(0, 2), [MODEL, 'acme-live-1']);
});
