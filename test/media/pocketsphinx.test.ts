/**
 * The pocketsphinx recognizer against the real Debian binary (skipped without it; CI installs it in .ci/run): real flite
 * speech streamed in 20 ms chunks, as a microphone would, and the processes it leaves behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPocketsphinxRecognizer, utteranceText } from '../../src/media/stt/pocketsphinx.js';
import type { RecognitionStream } from '../../src/session/voice.js';
import { chunks, closeSpeech, concat, RATE, silence, speech16k } from '../helpers/speech-audio.js';
import { needs } from '../helpers/system-packages.js';

const SENTENCES = ['the weather in paris is sunny today', 'what time does the next train leave for london'];
const CHUNK_MS = 20;
const CHUNK_SAMPLES = (CHUNK_MS * RATE) / 1000;
const UNAVAILABLE = "input transcription unavailable: install Debian's pocketsphinx and pocketsphinx-en-us";

function words(text: string): string[] {
  return text.toLowerCase().split(/[^a-z']+/).filter(Boolean);
}

/** Fraction of the expected words found in the recognized text (each recognized word used once). */
function overlap(expected: string, recognized: string): number {
  const pool = words(recognized);
  const want = words(expected);
  let hits = 0;
  for (const w of want) {
    const i = pool.indexOf(w);
    if (i >= 0) {
      hits++;
      pool.splice(i, 1);
    }
  }
  return hits / want.length;
}

interface Heard {
  text: string;
  at: number;
}

function listen(stream: RecognitionStream): Heard[] {
  const heard: Heard[] = [];
  stream.onText((text) => heard.push({ text, at: performance.now() }));
  return heard;
}

/**
 * Writes `pcm` in 20 ms chunks, each at its real-time slot divided by `speed` (the schedule is
 * absolute, so timer drift does not accumulate). Returns when each chunk was written.
 */
async function feed(stream: RecognitionStream, pcm: Int16Array, speed = 1): Promise<number[]> {
  const start = performance.now();
  const times: number[] = [];
  for (const [i, chunk] of chunks(pcm, CHUNK_MS).entries()) {
    const due = start + (i * CHUNK_MS) / speed;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    stream.write(chunk);
    times.push(performance.now());
  }
  return times;
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  comm: string;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const [state, ppid, pgid] = stat.slice(close + 2).split(' ');
    out.push({ pid: Number(name), ppid: Number(ppid), pgid: Number(pgid), state, comm: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return out;
}

/** Process groups of the recognizer's shells started by this process (each stream's shell leads one). */
function ourGroups(): number[] {
  return processes()
    .filter((p) => p.ppid === process.pid && p.pid === p.pgid && p.comm === 'sh')
    .map((p) => p.pid);
}

function membersOf(pgid: number): Proc[] {
  return processes().filter((p) => p.pgid === pgid);
}

function logCollector(): { warn(obj: object, msg: string): void; calls: { obj: object; msg: string }[] } {
  const calls: { obj: object; msg: string }[] = [];
  return { calls, warn: (obj, msg) => calls.push({ obj, msg }) };
}

describe('pocketsphinx recognizer', () => {
  const tempDirs: string[] = [];
  after(async () => {
    await closeSpeech();
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });

  test('transcribes streamed flite speech, one line per utterance, soon after each ends', needs('pocketsphinx'), async () => {
    const speech = await Promise.all(SENTENCES.map((s) => speech16k(s)));
    // Lead-in, sentence, 1.2 s pause, sentence, then silence so pocketsphinx closes the last utterance.
    const lead = silence(400);
    const gap = silence(1200);
    const pcm = concat(lead, speech[0], gap, speech[1], silence(1200));
    const starts = [lead.length, lead.length + speech[0].length + gap.length];
    const speechStartChunk = starts.map((s) => Math.floor(s / CHUNK_SAMPLES));
    const speechEndChunk = starts.map((s, i) => Math.ceil((s + speech[i].length) / CHUNK_SAMPLES) - 1);

    const log = logCollector();
    const recognizer = createPocketsphinxRecognizer({ log });
    try {
      const stream = recognizer.open();
      assert.ok(stream, 'open() returned no stream');
      const heard = listen(stream);
      const times = await feed(stream, pcm);
      await waitFor('the second sentence', () => heard.some((h) => h.at > times[speechEndChunk[1]]));
      // A little longer, in case an utterance came in two pieces.
      await sleep(300);

      const all = heard.map((h) => h.text).join(' ');
      for (const [i, sentence] of SENTENCES.entries()) {
        // Text for sentence i arrives after it starts and before the next one starts.
        const from = times[speechStartChunk[i]];
        const to = i + 1 < SENTENCES.length ? times[speechStartChunk[i + 1]] : Infinity;
        const mine = heard.filter((h) => h.at > from && h.at <= to);
        const text = mine.map((h) => h.text).join(' ');
        const latency = mine.length ? mine[mine.length - 1].at - times[speechEndChunk[i]] : NaN;
        const ratio = overlap(sentence, text);
        console.log(`said:  "${sentence}"\nheard: "${text}" (overlap ${ratio.toFixed(2)}, ${latency.toFixed(0)} ms after speech ended)`);
        assert.ok(ratio >= 0.6, `sentence ${i + 1}: overlap ${ratio.toFixed(2)} < 0.6 for "${text}"`);
        assert.ok(latency < 2500, `sentence ${i + 1}: text came ${latency.toFixed(0)} ms after the speech ended`);
      }
      assert.ok(overlap(SENTENCES.join(' '), all) >= 0.6, `overall: "${all}"`);
      assert.ok(heard.every((h) => h.text === h.text.trim() && h.text.length > 0 && !h.text.includes('\n')), 'texts are trimmed lines');
      assert.ok(heard.length >= 2, `one text per utterance, got ${JSON.stringify(heard.map((h) => h.text))}`);
      stream.close();
      assert.deepEqual(log.calls, []);
    } finally {
      await recognizer.close();
    }
  });

  test('two streams at once stay separate', needs('pocketsphinx'), async () => {
    const log = logCollector();
    const recognizer = createPocketsphinxRecognizer({ log });
    try {
      const streams = [recognizer.open(), recognizer.open()];
      const heard = streams.map((s) => {
        assert.ok(s);
        return listen(s);
      });
      const pcms = await Promise.all(SENTENCES.map(async (s) => concat(silence(300), await speech16k(s), silence(1000))));
      // Twice real time, both at once.
      await Promise.all(streams.map((s, i) => feed(s!, pcms[i], 2)));
      // The trailing silence ends each utterance; the streams stay open meanwhile.
      await waitFor('both transcripts', () => heard.every((h) => h.length > 0), 15_000);
      await sleep(300);
      const texts = heard.map((h) => h.map((x) => x.text).join(' '));
      console.log(`stream 1 heard "${texts[0]}"\nstream 2 heard "${texts[1]}"`);
      for (const i of [0, 1]) {
        const own = overlap(SENTENCES[i], texts[i]);
        const other = overlap(SENTENCES[1 - i], texts[i]);
        assert.ok(own >= 0.6, `stream ${i + 1}: overlap ${own.toFixed(2)} with its own sentence`);
        assert.ok(other < own && other < 0.5, `stream ${i + 1} heard the other stream: "${texts[i]}"`);
      }
      assert.deepEqual(log.calls, []);
    } finally {
      await recognizer.close();
    }
  });

  test('a missing binary or model: open() returns undefined and logs once', () => {
    for (const options of [{ command: 'relive-no-such-pocketsphinx' }, { modelDir: '/nonexistent/pocketsphinx-model' }]) {
      const log = logCollector();
      const recognizer = createPocketsphinxRecognizer({ ...options, log });
      for (let i = 0; i < 4; i++) assert.equal(recognizer.open(), undefined);
      assert.equal(log.calls.length, 1, JSON.stringify(log.calls));
      assert.equal(log.calls[0].msg, UNAVAILABLE);
    }
  });

  test('close() lets pocketsphinx finish the last utterance, then leaves no process behind', needs('pocketsphinx'), async () => {
    const before = new Set(ourGroups());
    const log = logCollector();
    const recognizer = createPocketsphinxRecognizer({ log });
    const stream = recognizer.open();
    assert.ok(stream);
    const heard = listen(stream);
    const [pgid] = ourGroups().filter((g) => !before.has(g));
    assert.ok(pgid, 'a shell leading its own process group');
    const members = (): string[] => membersOf(pgid).map((p) => p.comm).sort();
    // The two subshells exist before they exec cat and pocketsphinx: wait for the names, not the count.
    await waitFor('the shell to start cat and pocketsphinx', () => members().join(',') === 'cat,pocketsphinx_co,sh', 3000);
    // No trailing silence: only the end of the input closes this utterance.
    await feed(stream, concat(silence(200), await speech16k(SENTENCES[0])), 4);
    stream.close();
    stream.write(silence(100)); // ignored after close
    await waitFor('the process group to go', () => membersOf(pgid).length === 0);
    assert.ok(overlap(SENTENCES[0], heard.map((h) => h.text).join(' ')) >= 0.6, JSON.stringify(heard));
    assert.deepEqual(log.calls, []);
    await recognizer.close();
  });

  test('recognizer.close() stops every live stream at once', needs('pocketsphinx'), async () => {
    const before = new Set(ourGroups());
    const recognizer = createPocketsphinxRecognizer();
    const streams = [recognizer.open(), recognizer.open(), recognizer.open()];
    for (const s of streams) s!.write(silence(500));
    const groups = ourGroups().filter((g) => !before.has(g));
    assert.equal(groups.length, 3);
    const t0 = performance.now();
    await recognizer.close();
    console.log(`recognizer.close() took ${(performance.now() - t0).toFixed(0)} ms`);
    // The shell reaps its children before it exits, and close() waits for the shell: nothing, not even a zombie, is left.
    for (const g of groups) assert.deepEqual(membersOf(g), []);
    assert.equal(recognizer.open(), undefined, 'no streams after close()');
    for (const s of streams) s!.write(silence(20)); // harmless
  });

  // The default model directory must exist for the recognizer to count as available.
  test('a recognizer that ignores end of input is stopped after the grace period', needs('pocketsphinx'), async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'relive-stt-'));
    tempDirs.push(dir);
    const fake = path.join(dir, 'fake-recognizer');
    writeFileSync(fake, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(fake, 0o755);
    const before = new Set(ourGroups());
    const log = logCollector();
    const recognizer = createPocketsphinxRecognizer({ command: fake, log, closeGraceMs: 200 });
    const stream = recognizer.open();
    assert.ok(stream);
    const [pgid] = ourGroups().filter((g) => !before.has(g));
    stream.write(silence(100));
    const t0 = performance.now();
    stream.close();
    await waitFor('the process group to go', () => membersOf(pgid).length === 0, 3000);
    const took = performance.now() - t0;
    assert.ok(took >= 150 && took < 2000, `stopped after ${took.toFixed(0)} ms`);
    assert.deepEqual(log.calls, []);
    await recognizer.close();
  });

  test('a recognizer that dies: logged once, writes are dropped quietly, no EPIPE crash', needs('pocketsphinx'), async () => {
    const log = logCollector();
    const recognizer = createPocketsphinxRecognizer({ command: '/bin/false', log });
    const stream = recognizer.open();
    assert.ok(stream);
    stream.onText(() => assert.fail('no text from a dead recognizer'));
    // Far more than a pipe buffer, across the moment it dies.
    for (let i = 0; i < 50; i++) {
      for (let j = 0; j < 20; j++) stream.write(silence(CHUNK_MS));
      await sleep(10);
    }
    await waitFor('the failure to be logged', () => log.calls.length > 0);
    await sleep(100);
    stream.write(silence(CHUNK_MS));
    stream.close();
    assert.equal(log.calls.length, 1, JSON.stringify(log.calls));
    assert.match(log.calls[0].msg, /exited unexpectedly/);
    await recognizer.close();
  });

  test('the children are stopped when the parent process exits', needs('pocketsphinx'), async () => {
    const moduleUrl = new URL('../../src/media/stt/pocketsphinx.js', import.meta.url).href;
    const script = `
      import { readdirSync, readFileSync } from 'node:fs';
      const { createPocketsphinxRecognizer } = await import(${JSON.stringify(moduleUrl)});
      const stream = createPocketsphinxRecognizer().open();
      stream.write(new Int16Array(16000));
      await new Promise((r) => setTimeout(r, 300));
      const shells = readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).filter((n) => {
        try { return readFileSync('/proc/' + n + '/stat', 'utf8').split(') ')[1].split(' ')[1] === String(process.pid); } catch { return false; }
      });
      console.log(shells.join(' '));
      process.exit(0); // no close(): the exit hook must stop them
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    const [pgid] = out.trim().split(' ').map(Number);
    assert.ok(pgid > 0, `child printed ${JSON.stringify(out)}`);
    // Once the parent is gone the shell belongs to PID 1, which reaps it in its own time; what matters
    // is that nothing keeps running (and cat and pocketsphinx are reaped by the shell, not orphaned).
    await waitFor('the orphaned group to stop', () => membersOf(pgid).every((p) => p.state === 'Z' && p.comm === 'sh'), 5000);
  });

  test('utterance lines are reduced to their words', () => {
    assert.equal(utteranceText('the weather in paris is sunny today'), 'the weather in paris is sunny today');
    assert.equal(utteranceText('000000003: hello world  '), 'hello world');
    assert.equal(utteranceText('<s> hello <sil> world(2) </s>'), 'hello world');
    assert.equal(utteranceText('   '), '');
  });
});
