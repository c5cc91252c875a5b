/**
 * Issue #6's acceptance run: one session with continuous audio and text turns through 1,000
 * forced rotations and 100 TCP drops loses and duplicates no client message, checked against the
 * session record the server keeps.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Modality, TurnCoverage, type LiveServerMessage } from '@google/genai';
import { connectResilient, type LifecycleEvent } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';
import { Changes, waitFor } from '../helpers/wait.js';

const ROTATIONS = 1000;
const DROPS = 100;
/** 20 ms of 16 kHz PCM16 silence. */
const CHUNK = Buffer.alloc(640).toString('base64');
const CHUNK_SECONDS = 0.02;

test(`${ROTATIONS} goAway rotations and ${DROPS} drops under continuous audio: nothing lost, nothing duplicated`, { timeout: 240_000 }, async () => {
  const server = await startServer({ keepaliveIntervalMs: 0 });
  try {
    let turnCompletes = 0;
    let sessionId = '';
    const gaps: number[] = [];
    const events: LifecycleEvent[] = [];
    const changes = new Changes();
    const session = await connectResilient({
      model: 'gemini-live-2.5-flash-preview',
      // The audio is silence: with turnCoverage ALL_INPUT every second of it belongs in the record.
      config: { responseModalities: [Modality.TEXT], realtimeInputConfig: { turnCoverage: TurnCoverage.TURN_INCLUDES_ALL_INPUT } },
      apiKey: 'soak',
      baseUrl: server.url,
      reconnect: { initialDelayMs: 2, maxDelayMs: 20, maxAttempts: 20 },
      callbacks: {
        onmessage: (m: LiveServerMessage) => {
          if (m.setupComplete) sessionId = m.setupComplete.sessionId!;
          if (m.serverContent?.turnComplete) turnCompletes++;
          changes.notify();
        },
        onevent: (e) => {
          events.push(e);
          if (e.type === 'connected' && e.gapMs !== undefined) gaps.push(e.gapMs);
          changes.notify();
        },
      },
    });
    const until = (cond: () => boolean, what: string): Promise<boolean> =>
      waitFor(cond, { what, timeoutMs: 10_000, on: changes, stepMs: 50, detail: () => `last events ${JSON.stringify(events.slice(-4))}` });

    let chunks = 0;
    const pump = setInterval(() => {
      session.sendRealtimeInput({ audio: { data: CHUNK, mimeType: 'audio/pcm;rate=16000' } });
      chunks++;
    }, 2);

    const texts: string[] = [];
    for (let i = 1; i <= ROTATIONS + DROPS; i++) {
      const text = `t${i}`;
      texts.push(text);
      const before = turnCompletes;
      session.sendRealtimeInput({ text });
      await until(() => turnCompletes > before, `the reply to ${text}`);
      if (i % 11 === 0) {
        const reconnects = session.stats.reconnects;
        const rule = await fetch(`${server.url}/relive/v1/faults`, { method: 'POST', body: JSON.stringify({ match: { session: sessionId }, count: 1, action: { type: 'drop' } }) });
        assert.equal(rule.status, 200);
        await until(() => session.stats.reconnects > reconnects && session.stats.connections === events.filter((e) => e.type === 'connected').length, `the reconnect after drop ${i / 11}`);
      } else {
        const rotations = session.stats.rotations;
        for (;;) {
          const res = await fetch(`${server.url}/relive/v1/sessions/${sessionId}:goAway`, { method: 'POST', body: JSON.stringify({ timeLeft: '5s' }) });
          if (res.status === 200) break;
          assert.equal(res.status, 409, 'only "no live connection" while a reconnect runs');
          await new Promise((r) => setTimeout(r, 2));
        }
        await until(() => session.stats.rotations > rotations && session.stats.connections === events.filter((e) => e.type === 'connected').length, `rotation after ${text}`);
      }
    }
    clearInterval(pump);
    const before = turnCompletes;
    session.sendRealtimeInput({ text: 'end' });
    texts.push('end');
    await until(() => turnCompletes > before, 'the last reply');

    assert.equal(session.stats.rotations, ROTATIONS);
    assert.ok(session.stats.reconnects >= DROPS, `${session.stats.reconnects} reconnects`);
    assert.equal(events.filter((e) => e.type === 'stateLost').length, 0);
    assert.deepEqual(session.pending.dropped, { messages: 0, audioSeconds: 0 }, 'the replay buffer never had to drop audio');

    const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${sessionId}`)).json()) as { context: { role: string; parts: { text?: string; seconds?: number }[] }[] };
    const userParts = detail.context.filter((t) => t.role === 'user').flatMap((t) => t.parts);
    assert.deepEqual(userParts.filter((p) => p.text !== undefined).map((p) => p.text), texts, 'every text once, in order');
    const audio = userParts.reduce((sum, p) => sum + (p.seconds ?? 0), 0);
    assert.ok(Math.abs(audio - chunks * CHUNK_SECONDS) < 1e-6, `audio in the record ${audio.toFixed(3)} s, sent ${(chunks * CHUNK_SECONDS).toFixed(3)} s`);

    gaps.sort((a, b) => a - b);
    const pct = (q: number) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))]!.toFixed(2);
    console.log(`# handover gap over ${gaps.length} switches: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms; ${chunks} audio chunks, ${session.stats.replayed} messages replayed`);
    session.close();
  } finally {
    await server.close();
  }
});
