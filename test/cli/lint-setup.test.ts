/**
 * `relive lint-setup FILE` through the real bin: a setup the model refuses exits 1 with the close
 * the service sends and why; one it takes exits 0; input that is not a setup exits 2. The flags
 * that change the verdict (--strict, --api-version, --model, --model-profile) each flip one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BIN } from '../helpers/bin.js';
import { runProcess, type Finished } from '../helpers/run-process.js';

const dir = mkdtempSync(join(tmpdir(), 'relive-lint-'));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const lint = (...args: string[]): Promise<Finished> => runProcess(process.execPath, [BIN, 'lint-setup', ...args]);

describe('relive lint-setup', () => {
  test('TEXT for gemini-3.8-live: exit 1, the 1007 close and reason, and why the model refuses it', async () => {
    const setup = file('text.json', { setup: { model: 'gemini-3.8-live', generationConfig: { responseModalities: ['TEXT'] } } });
    const run = await lint(setup);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.equal(
      run.stdout,
      'refused: gemini-3.8-live (gemini-3.8-live) closes the connection before setupComplete\n' +
        '  close: 1007 Request contains an invalid argument.\n' +
        '  why:   gemini-3.8-live: responseModalities TEXT: the model answers only AUDIO\n',
    );
  });

  test('a setup the model takes: exit 0 naming the model and its profile; the bare setup object in YAML, snake_case, works too', async () => {
    const run = await lint(file('audio.json', { setup: { model: 'models/gemini-3.8-live', generationConfig: { responseModalities: ['AUDIO'] } } }));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stdout, 'ok: models/gemini-3.8-live (gemini-3.8-live) accepts this setup\n');
    const bare = await lint(file('bare.yaml', 'model: gemini-3.8-live-extended-thinking-latest\ngeneration_config:\n  response_modalities: [AUDIO]\n  thinking_config: { thinking_level: HIGH }\n'));
    assert.equal(bare.code, 0, bare.stdout + bare.stderr);
    assert.match(bare.stdout, /^ok: gemini-3\.8-live-extended-thinking-latest \(gemini-3\.8-live-extended-thinking\) accepts this setup\n$/);
  });

  test('each rule of a profile is found: thinkingConfig on 3.8, a MINIMAL level on extended thinking, tools on the transcriber', async () => {
    const thinking = await lint(file('thinking.json', { model: 'gemini-3.8-live', generationConfig: { thinkingConfig: { thinkingBudget: 512 } } }));
    assert.equal(thinking.code, 1);
    assert.match(thinking.stdout, /why: +gemini-3\.8-live: generationConfig\.thinkingConfig: gemini-3\.8-live does not support thinkingConfig/);
    const minimal = await lint(file('minimal.json', { model: 'gemini-3.8-live-extended-thinking', generationConfig: { thinkingConfig: { thinkingLevel: 'MINIMAL' } } }));
    assert.equal(minimal.code, 1);
    assert.match(minimal.stdout, /thinkingLevel MINIMAL is not supported/);
    const tools = await lint(file('tools.json', { model: 'gemini-3.5-transcribe-live', generationConfig: { responseModalities: ['TEXT'] }, tools: [{ googleSearch: {} }] }));
    assert.equal(tools.code, 1);
    assert.match(tools.stdout, /close: 1007 Request contains an invalid argument\.\n +why: +gemini-3\.5-transcribe-live: tools: a transcription model calls no functions/);
  });

  test('--strict refuses what only strict mode refuses: an unknown field, a model no profile names', async () => {
    const extra = file('extra.json', { model: 'gemini-3.8-live', generationConfig: { responseModalities: ['AUDIO'], newFeature: true } });
    const loose = await lint(extra);
    assert.equal(loose.code, 0);
    assert.match(loose.stdout, /note: unknown field newFeature at setup\.generation_config: relive ignores it/);
    const strict = await lint(extra, '--strict');
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /close: 1007 Invalid JSON payload received\. Unknown name "newFeature" at 'setup\.generation_config': Cannot find field\./);
    const unknown = file('unknown.json', { model: 'gemini-9-live' });
    const unknownLoose = await lint(unknown);
    assert.equal(unknownLoose.code, 0);
    assert.match(unknownLoose.stdout, /^ok: gemini-9-live \(default\) accepts this setup\n +note: no profile names gemini-9-live/);
    const unknownStrict = await lint(unknown, '--strict');
    assert.equal(unknownStrict.code, 1);
    assert.match(unknownStrict.stdout, /close: 1008 models\/gemini-9-live is not found for API version v1beta/);
  });

  test('--api-version: proactivity on a 2.5 native-audio model is unknown outside v1alpha (strict)', async () => {
    const setup = file('proactive.json', { model: 'gemini-2.5-flash-native-audio-preview-12-2025', proactivity: { proactiveAudio: true } });
    const beta = await lint(setup, '--strict');
    assert.equal(beta.code, 1);
    assert.match(beta.stdout, /Unknown name "proactivity" at 'setup': Cannot find field\./);
    assert.equal((await lint(setup, '--strict', '--api-version', 'v1alpha')).code, 0);
  });

  test('--model checks the setup against another model; --model-profile with the profiles of a file', async () => {
    const text = file('text-only.json', { generationConfig: { responseModalities: ['TEXT'] } });
    assert.equal((await lint(text, '--model', 'gemini-live-2.5-flash-preview')).code, 0);
    const refused = await lint(text, '--model', 'gemini-3.1-flash-live-preview');
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /^refused: gemini-3\.1-flash-live-preview \(gemini-3\.1-flash-live-preview\)/);
    const profile = file('audio-only.yaml', 'name: gemini-live-2.5-flash-preview\nresponseModalities: [AUDIO]\n');
    const overridden = await lint(text, '--model', 'gemini-live-2.5-flash-preview', '--model-profile', profile);
    assert.equal(overridden.code, 1);
    assert.match(overridden.stdout, /why: +gemini-live-2\.5-flash-preview: responseModalities TEXT: the model answers only AUDIO/);
  });

  test('input that is not a setup exits 2 and says why: not JSON, not an object, another message, no model, a wrong type', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['broken.json', '{"setup": ', /broken\.json: not valid JSON/],
      ['list.json', [{ model: 'gemini-3.8-live' }], /list\.json: not a setup: not a JSON object/],
      ['content.json', { clientContent: { turns: [] } }, /content\.json: not a setup: a clientContent message, not a setup/],
      ['nomodel.json', { setup: { generationConfig: {} } }, /nomodel\.json: not a setup: the setup names no model/],
      ['wrongtype.json', { model: 'gemini-3.8-live', generationConfig: { responseModalities: 'AUDIO', temperature: 'hot' } }, /wrongtype\.json: not a setup: setup: generationConfig\.temperature/],
    ];
    for (const [name, content, message] of cases) {
      const run = await lint(file(name, content));
      assert.equal(run.code, 2, `${name}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, message, name);
      assert.equal(run.stdout, '', name);
    }
    const missing = await lint(join(dir, 'missing.json'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing\.json: no such file/);
  });

  test('usage errors exit 2: no FILE, an unknown --api-version; --help exits 0', async () => {
    const none = await lint();
    assert.equal(none.code, 2);
    assert.match(none.stderr, /a setup FILE is needed/);
    const version = await lint(file('v.json', { model: 'gemini-3.8-live' }), '--api-version', 'v2');
    assert.equal(version.code, 2);
    assert.match(version.stderr, /--api-version must be one of v1, v1beta, v1alpha; got "v2"/);
    const help = await lint('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit status: 0 the setup is accepted, 1 it is refused, 2/);
  });
});
