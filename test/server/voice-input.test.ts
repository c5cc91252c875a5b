/** VoiceInput alone: it reads the realtimeInput itself by the session's blob rule and talks through the one speech port. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RealtimeInput } from '../../src/protocol/client-schema.js';
import { VoiceInput } from '../../src/server/voice-input.js';
import { resolveConfig, type SessionConfig } from '../../src/session/config.js';
import type { SpeechSession, SpeechSink, VoiceCapabilities } from '../../src/session/speech-port.js';
import type { VadEvent, VadStream, VoiceActivityDetector } from '../../src/session/voice.js';

function configOf(): SessionConfig {
  const resolved = resolveConfig({ model: 'models/gemini-live-2.5-flash-preview', generationConfig: { responseModalities: ['TEXT'] } }, { unknownModels: 'accept', apiVersion: 'v1beta' });
  if (!resolved.ok) throw new Error(resolved.detail);
  return resolved.config;
}

/** A detector that hears speech in the first push and its end in the second; it records how many samples each push had. */
class TwoPushVad implements VoiceActivityDetector {
  readonly name = 'two-push';
  readonly pushes: number[] = [];
  open(): VadStream {
    const pushes = this.pushes;
    let positionMs = 0;
    return {
      get positionMs() {
        return positionMs;
      },
      push: (pcm): Promise<VadEvent[]> => {
        pushes.push(pcm.length);
        const at = positionMs;
        positionMs += (pcm.length / 16_000) * 1000;
        return Promise.resolve(pushes.length === 1 ? [{ type: 'speechStart', atMs: at }] : pushes.length === 2 ? [{ type: 'speechEnd', atMs: positionMs }] : []);
      },
      close: () => undefined,
    };
  }
}

/** The session's side of the port, recording what arrives through it. */
class PortRecorder implements SpeechSession {
  readonly id = 'session-1';
  readonly config = configOf();
  readonly opened: VoiceCapabilities[] = [];
  readonly events: string[] = [];
  private ended: () => void = () => undefined;
  readonly speechDone = new Promise<void>((resolve) => (this.ended = resolve));
  openSpeech(provides: VoiceCapabilities): SpeechSink {
    this.opened.push(provides);
    return {
      speechStarted: () => this.events.push('started'),
      speechEnded: (seconds, transcript) => {
        this.events.push(`ended ${seconds} ${transcript ?? '-'}`);
        this.ended();
      },
      heard: (text) => this.events.push(`heard ${text}`),
    };
  }
}

const pcm = (samples: number): string => Buffer.alloc(samples * 2).toString('base64');

function voiceFor(session: PortRecorder, vad: TwoPushVad): VoiceInput {
  return new VoiceInput(session, { vad, recognizer: undefined, transcribeForEngine: false, log: { info: () => undefined, warn: () => undefined }, transcriptWaitMs: 1000 });
}

test('the port opens at the first audio, once, saying what the voice input provides', () => {
  const session = new PortRecorder();
  const voice = voiceFor(session, new TwoPushVad());
  voice.hear({ text: 'typed' }, 0);
  voice.hear({ video: { mimeType: 'image/jpeg', data: 'AAAA' } }, 0);
  assert.deepEqual(session.opened, [], 'no audio yet: nothing is opened');
  voice.hear({ audio: { mimeType: 'audio/pcm;rate=16000', data: pcm(160) } }, 0);
  voice.hear({ audio: { data: pcm(160) } }, 0);
  assert.deepEqual(session.opened, [{ detectsSpeech: true, transcribes: false }]);
  voice.close();
});

test('audio is found by the blob rule: the first of mediaChunks, then audio, no image; speech goes through the sink', async () => {
  const session = new PortRecorder();
  const vad = new TwoPushVad();
  const voice = voiceFor(session, vad);
  const ri: RealtimeInput = {
    mediaChunks: [
      { mimeType: 'audio/pcm', data: pcm(1600) },
      { mimeType: 'audio/pcm', data: pcm(999) },
    ],
    audio: { data: pcm(3200) },
    video: { mimeType: 'image/png', data: pcm(50) },
  };
  voice.hear(ri, 0);
  await session.speechDone;
  assert.deepEqual(vad.pushes, [1600, 3200]);
  // Speech from 0 ms to the end of the second push: 100 + 200 ms.
  assert.deepEqual(session.events, ['started', 'ended 0.3 -']);
  voice.close();
});
