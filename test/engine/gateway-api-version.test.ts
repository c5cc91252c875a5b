/**
 * `--upstream-api-version` (issue #16 item 3): the gateway opens every upstream connection on its
 * own version's path, whatever version the client connected with. The upstream is a second relive,
 * whose control API shows the version each connection's path had.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { GeminiEngine } from '../../src/engine/gemini/gemini-engine.js';
import { Inbox, sdk, startServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';

/** The path version of the upstream connection a client on `clientVersion` gets through a gateway on `upstreamVersion`. */
async function upstreamVersionSeen(clientVersion: string, upstreamVersion: string | undefined): Promise<string> {
  const upstream = await startServer({ keepaliveIntervalMs: 0, vad: false });
  const engine = new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway', ...(upstreamVersion ? { apiVersion: upstreamVersion } : {}) });
  const gateway = await startServer({ keepaliveIntervalMs: 0, vad: false, engine });
  try {
    const inbox = new Inbox();
    const session = await sdk(gateway.url, clientVersion).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
    session.sendClientContent({ turns: 'which path?' });
    await inbox.turnComplete();
    assert.equal(inbox.text(), 'You said: which path?', 'the turn went through the upstream');
    const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
    assert.equal(sessions.length, 1);
    const seen = (await (await fetch(`${upstream.url}/relive/v1/sessions/${sessions[0]!.id}`)).json()) as { connections: { apiVersion: string }[] };
    session.close();
    await inbox.waitClose();
    return seen.connections.map((c) => c.apiVersion).join(',');
  } finally {
    await gateway.close();
    await upstream.close();
  }
}

describe('gateway upstream API version', () => {
  test('default v1beta upstream, even for a client on v1alpha', async () => {
    assert.equal(await upstreamVersionSeen('v1alpha', undefined), 'v1beta');
  });

  test('v1alpha upstream for a client on v1beta', async () => {
    assert.equal(await upstreamVersionSeen('v1beta', 'v1alpha'), 'v1alpha');
  });

  test('the CLI flag: parsed, checked, and only with --engine gemini', async () => {
    const { parseServeArgs } = await import('../../src/cli/serve-options.js');
    const parsed = parseServeArgs(['--engine', 'gemini', '--upstream-api-version', 'v1alpha'], { GEMINI_API_KEY: 'k' });
    assert.ok(!('help' in parsed));
    assert.deepEqual(parsed.engine, { kind: 'gemini', upstreamUrl: undefined, model: undefined, apiKey: 'k', apiVersion: 'v1alpha' });
    const plain = parseServeArgs(['--engine', 'gemini'], {});
    assert.ok(!('help' in plain));
    assert.equal((plain.engine as { apiVersion?: string }).apiVersion, undefined, 'absent: the engine default (v1beta)');
    assert.throws(() => parseServeArgs(['--engine', 'gemini', '--upstream-api-version', 'v2'], {}), /--upstream-api-version must be v1beta or v1alpha; got "v2"/);
    assert.throws(() => parseServeArgs(['--upstream-api-version', 'v1alpha'], {}), /only apply with --engine gemini/);
  });
});
