import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import {
  type LiveSendClientContentParameters,
  type LiveSendRealtimeInputParameters,
  type LiveSendToolResponseParameters,
  type Session,
} from '@google/genai';
import {
  audioSeconds,
  base64ByteLength,
  clientContentMessage,
  messageKind,
  realtimeInputMessage,
  toolResponseMessage,
} from '../../src/client/client-messages.js';
import { SdkRecorder } from '../helpers/sdk-recorder.js';

/** The frames `act` made the SDK send after setup, on a TEXT session. */
class SessionFrames {
  private readonly recorder = new SdkRecorder();

  start(): Promise<void> {
    return this.recorder.start();
  }

  stop(): Promise<void> {
    return this.recorder.stop();
  }

  async capture(act: (s: Session) => void): Promise<string[]> {
    const { frames, error } = await this.recorder.capture('gemini-live-2.5-flash-preview', { responseModalities: ['TEXT' as never] }, act);
    if (error) throw error;
    return frames.slice(1);
  }

  /** Opens a session for checks that need one but send nothing that is compared. */
  async withSession(act: (s: Session) => void): Promise<void> {
    await this.capture(act);
  }
}

const rec = new SessionFrames();
before(() => rec.start());
after(() => rec.stop());

const b64 = (bytes: number): string => Buffer.alloc(bytes, 7).toString('base64');

describe('clientContentMessage matches the SDK', () => {
  const cases: [string, LiveSendClientContentParameters][] = [
    ['a string', { turns: 'Hello' }],
    ['a string, turn open', { turns: 'part A', turnComplete: false }],
    ['turnComplete alone', { turnComplete: true }],
    ['nothing (turnComplete defaults to true)', {}],
    ['turnComplete explicitly undefined (overrides the default)', { turns: 'x', turnComplete: undefined }],
    ['an empty string', { turns: '' }],
    ['a Part', { turns: { text: 'a part' } }],
    ['parts and strings (one user turn)', { turns: ['a', { text: 'b' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] }],
    ['a Content', { turns: { role: 'user', parts: [{ text: 'c' }] } }],
    ['a Content without role (sent without one)', { turns: { parts: [{ text: 'd' }] } }],
    [
      'a history of Contents with a function call and response',
      {
        turns: [
          { role: 'user', parts: [{ text: 'weather?' }] },
          { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: 'c1' } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'get_weather', id: 'c1', response: { tempC: 21 } } }] },
        ],
        turnComplete: false,
      },
    ],
    ['unknown Part fields are dropped, and a string inside Content.parts becomes {}', { turns: { role: 'user', parts: [{ text: 'e', bogus: 1 } as never, 'raw' as never] } }],
  ];

  test('every case is byte-identical', async () => {
    const frames = await rec.capture((s) => {
      for (const [, p] of cases) s.sendClientContent(p);
    });
    assert.equal(frames.length, cases.length);
    cases.forEach(([name, p], i) => assert.equal(JSON.stringify(clientContentMessage(p)), frames[i], name));
  });

  test('the documented examples', () => {
    assert.deepEqual(clientContentMessage({ turns: 'Hello' }), { clientContent: { turns: [{ parts: [{ text: 'Hello' }], role: 'user' }], turnComplete: true } });
    assert.deepEqual(clientContentMessage({ turnComplete: true }), { clientContent: { turnComplete: true } });
    assert.deepEqual(clientContentMessage(), { clientContent: { turnComplete: true } });
  });

  test('inputs the SDK refuses are refused', async () => {
    const bad: unknown[] = [
      [],
      [{ role: 'user', parts: [{ text: 'a' }] }, 'mixed'],
      { functionCall: { name: 'f', args: {} } },
      ['a', { functionResponse: { name: 'f', response: {} } }],
      { role: 'model', parts: [{ functionCall: { name: 'f', willContinue: true } }] },
      [null],
      42,
    ];
    await rec.withSession((s) => {
      for (const turns of bad) {
        assert.throws(() => s.sendClientContent({ turns: turns as never }), /Failed to parse client content/, `SDK: ${JSON.stringify(turns)}`);
        assert.throws(() => clientContentMessage({ turns: turns as never }), /Failed to parse client content/, `ours: ${JSON.stringify(turns)}`);
      }
    });
  });
});

describe('realtimeInputMessage matches the SDK', () => {
  const audio = { data: b64(3200), mimeType: 'audio/pcm;rate=16000' };
  const cases: [string, LiveSendRealtimeInputParameters][] = [
    ['audio', { audio }],
    ['video', { video: { data: 'AAAA', mimeType: 'image/jpeg' } }],
    ['text', { text: 'typed realtime text' }],
    ['activityStart', { activityStart: {} }],
    ['activityEnd', { activityEnd: {} }],
    ['audioStreamEnd', { audioStreamEnd: true }],
    ['audioStreamEnd false is still sent', { audioStreamEnd: false }],
    ['deprecated media', { media: audio }],
    ['deprecated media as an array', { media: [audio, { data: 'AAAA', mimeType: 'image/png' }] as never }],
    ['several fields in one call', { audio, text: 'both', activityEnd: {} }],
    ['nothing', {}],
  ];

  test('every case is byte-identical', async () => {
    const frames = await rec.capture((s) => {
      for (const [, p] of cases) s.sendRealtimeInput(p);
    });
    assert.equal(frames.length, cases.length);
    cases.forEach(([name, p], i) => assert.equal(JSON.stringify(realtimeInputMessage(p)), frames[i], name));
  });

  test('the documented shapes', () => {
    assert.deepEqual(realtimeInputMessage({ media: audio }), { realtimeInput: { mediaChunks: [audio] } });
    assert.deepEqual(realtimeInputMessage({ activityStart: {} }), { realtimeInput: { activityStart: {} } });
  });

  test('wrong MIME types and non-blobs are refused, as by the SDK', async () => {
    const bad: LiveSendRealtimeInputParameters[] = [
      { audio: { data: 'AAAA', mimeType: 'image/png' } },
      { audio: { data: 'AAAA' } },
      { video: { data: 'AAAA', mimeType: 'audio/pcm' } },
      { media: 'not a blob' as never },
    ];
    await rec.withSession((s) => {
      for (const p of bad) {
        assert.throws(() => s.sendRealtimeInput(p), Error, `SDK: ${JSON.stringify(p)}`);
        assert.throws(() => realtimeInputMessage(p), /Unsupported mime type|Could not parse input as Blob/, `ours: ${JSON.stringify(p)}`);
      }
    });
  });
});

describe('toolResponseMessage matches the SDK', () => {
  const cases: [string, LiveSendToolResponseParameters][] = [
    ['one response (wrapped in an array)', { functionResponses: { id: 'call-1', name: 'get_weather', response: { output: { tempC: 21 } } } }],
    [
      'several, with extra fields passed through',
      {
        functionResponses: [
          { id: 'a', name: 'f', response: { result: 1 } },
          { id: 'b', name: 'g', response: { error: 'x' }, willContinue: true, scheduling: 'SILENT' } as never,
        ],
      },
    ],
  ];

  test('every case is byte-identical', async () => {
    const frames = await rec.capture((s) => {
      for (const [, p] of cases) s.sendToolResponse(p);
    });
    assert.equal(frames.length, cases.length);
    cases.forEach(([name, p], i) => assert.equal(JSON.stringify(toolResponseMessage(p)), frames[i], name));
  });

  test('responses without id, name or response, and empty lists, are refused, as by the SDK', async () => {
    const bad = [
      { functionResponses: { name: 'f', response: {} } },
      { functionResponses: { id: 'x', response: {} } },
      { functionResponses: { id: 'x', name: 'f' } },
      { functionResponses: [] },
      { functionResponses: null },
      { functionResponses: ['nope'] },
    ] as unknown as LiveSendToolResponseParameters[];
    await rec.withSession((s) => {
      for (const p of bad) {
        assert.throws(() => s.sendToolResponse(p), Error, `SDK: ${JSON.stringify(p)}`);
        assert.throws(() => toolResponseMessage(p), Error, `ours: ${JSON.stringify(p)}`);
      }
    });
  });
});

describe('messageKind', () => {
  test('names each kind and refuses anything else', () => {
    assert.equal(messageKind(clientContentMessage({ turns: 'x' })), 'clientContent');
    assert.equal(messageKind(realtimeInputMessage({ text: 'x' })), 'realtimeInput');
    assert.equal(messageKind(toolResponseMessage({ functionResponses: { id: 'i', name: 'n', response: {} } })), 'toolResponse');
    assert.throws(() => messageKind({ setup: {} }), /Not a clientContent/);
  });
});

describe('audioSeconds', () => {
  test('base64 length to bytes, with and without padding', () => {
    for (let n = 0; n <= 9; n++) {
      const padded = b64(n);
      assert.equal(base64ByteLength(padded), n, `padded ${n}`);
      assert.equal(base64ByteLength(padded.replace(/=+$/, '')), n, `unpadded ${n}`);
    }
    assert.equal(base64ByteLength('AAAA\nAAAA\r\n'), 6);
  });

  test('PCM16 at the rate the MIME type names, 16 kHz when it names none', () => {
    const at = (mimeType: string, bytes: number) => audioSeconds(realtimeInputMessage({ audio: { data: b64(bytes), mimeType } }));
    assert.equal(at('audio/pcm;rate=16000', 32000), 1);
    assert.equal(at('audio/pcm', 16000), 0.5);
    assert.equal(at('audio/pcm;rate=24000', 48000), 1);
    assert.equal(at('audio/pcm; rate=8000', 1600), 0.1);
    // realtimeInputMessage refuses an upper-case MIME type (as the SDK does), but a wire message may carry one.
    assert.equal(audioSeconds({ realtimeInput: { audio: { data: b64(3200), mimeType: 'AUDIO/PCM;RATE=16000' } } }), 0.1);
    assert.equal(at('audio/pcm;rate=16000', 3201), 3201 / 32000);
  });

  test('mediaChunks count too; non-PCM audio, video and other messages count zero', () => {
    const chunk = { data: b64(3200), mimeType: 'audio/pcm;rate=16000' };
    assert.equal(audioSeconds(realtimeInputMessage({ media: [chunk, chunk, { data: 'AAAA', mimeType: 'image/png' }] as never })), 0.2);
    assert.equal(audioSeconds(realtimeInputMessage({ audio: chunk, media: chunk })), 0.2);
    assert.equal(audioSeconds(realtimeInputMessage({ audio: { data: b64(3200), mimeType: 'audio/opus' } })), 0);
    assert.equal(audioSeconds(realtimeInputMessage({ video: { data: b64(3200), mimeType: 'image/jpeg' } })), 0);
    assert.equal(audioSeconds(realtimeInputMessage({ activityStart: {} })), 0);
    assert.equal(audioSeconds(clientContentMessage({ turns: 'x' })), 0);
    assert.equal(audioSeconds(toolResponseMessage({ functionResponses: { id: 'i', name: 'n', response: {} } })), 0);
  });
});

describe('browser safety', () => {
  test('the pure client modules import nothing from Node, and only types from the SDK', async () => {
    for (const name of ['client-messages', 'setup-from-config', 'close-classes', 'backoff', 'handle-store']) {
      const js = await readFile(new URL(`../../src/client/${name}.js`, import.meta.url), 'utf8');
      const imports = [...js.matchAll(/^\s*import\b[^;]*?from\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
      for (const spec of imports) assert.ok(spec.startsWith('./'), `${name}.js imports ${spec} at run time`);
    }
  });
});
