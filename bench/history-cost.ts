/**
 * Per-turn cost against the length of the conversation: does a turn in a session with a
 * 1,000,000-token history cost more than one in a session with a 1,000-token history?
 *
 *   long   a session prefilled with ~1,000,000 tokens of history (thousands of turns)
 *   short  a session prefilled with ~1,000 tokens of history (the same kind of turns, a few of them)
 *
 * Both run on the same relive server (bench/server-child.ts `relive-history`: a 2,000,000-token
 * window, so no compression applies, keepalive off, no logger), each on its own raw ws client. The
 * history is sent as `clientContent` frames with `turnComplete: false`: user and model turns of
 * ~250 tokens of English-like text each, up to 1,000 turns (~1 MB) a frame. The server counts with
 * o200k, so the prefill is steered by its own count: after every frame one ping turn makes sure the
 * frame was applied, and GET /relive/v1/sessions/{id} reads `tokens.context`.
 *
 * Then the same "ping" turn as bench/turn-overhead.ts runs in blocks that alternate between the two
 * sessions (which goes first rotates), and the medians and p99s are taken over all blocks. Short
 * blocks (run.ts: 100 × 40 turns) keep both sessions under the same machine conditions: with 20 × 200
 * the p50 ratio of two identical 1k sessions still wandered by ±6 %. Each measured turn adds two
 * entries (the ping and its answer) to the session's history.
 */
import { startChild, type ServerChild } from './child.js';
import { median } from './stats.js';
import { TurnClient } from './turn-overhead.js';
import { openSession } from './ws-client.js';
import { prng } from '../test/helpers/prng.js';

export interface HistoryOptions {
  /** Tokens of history the two sessions start with (as the server counts them). */
  readonly shortTokens: number;
  readonly longTokens: number;
  /** Tokens per prefilled turn, and turns per prefill frame. */
  readonly turnTokens: number;
  readonly turnsPerFrame: number;
  /** Ping turns per session before measuring, then blocks × perBlock measured per session. */
  readonly warmup: number;
  readonly blocks: number;
  readonly perBlock: number;
}

export interface SessionSamples {
  readonly first: number[];
  readonly full: number[];
  readonly blockP50: number[];
}

export interface PrefillFacts {
  /** tokens.context from the control API once the prefill is done. */
  readonly tokensBefore: number;
  /** History entries then (the syncing ping turns and their answers included). */
  readonly turnsBefore: number;
  readonly frames: number;
  readonly largestFrameBytes: number;
  /** Characters sent per token the server counted. */
  readonly charsPerToken: number;
  readonly prefillMs: number;
}

export interface HistoryFacts extends PrefillFacts {
  /** tokens.context and history entries after the last measured turn. */
  readonly tokensAfter: number;
  readonly turnsAfter: number;
}

export interface HistoryResults {
  readonly long: SessionSamples & HistoryFacts;
  readonly short: SessionSamples & HistoryFacts;
  readonly options: HistoryOptions;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();


const WORDS = (
  'the of and to in a is that for it as was with be by on not he I this are or his from at which but have an they you were her ' +
  'she there been one all we their has would when if so no will more can out up about who them some could what into than its ' +
  'time only new other then two may first any like now my over such our man me even most made after also did many before must ' +
  'through back years where much your way well down should because each just those people how too little state good very make ' +
  'world still own see men work long get here between both life being under never day same another know while last might us great ' +
  'old year off come since against go came right used take three states himself few house use during without again place around ' +
  'however home small found thought went say part once general high upon school every does got united left number course war until ' +
  'always away something fact though water less public put think almost hand enough far took head yet government system better set ' +
  'told nothing night end why called didn’t eyes find going look asked later knew point next program city business give group ' +
  'toward young days let room president side social given present several order national possible rather second face per among ' +
  'form important often things looked early white case john become large big need four within felt along children saw best church ' +
  'ever least power development light thing seemed family interest want members mind country area others although turned done open ' +
  'service certain kind problem began different door thus help means sense whole matter perhaps itself york times law human line ' +
  'above name example action company hands local show whether five history gave today either act feet across taken past quite ' +
  'anything seen having death experience body word half really week field car words already themselves information tell college ' +
  'shall money period held keep sure probably free seems political real behind cannot miss question air office making brought whose ' +
  'special heard major problems ago became federal moment study available known result street economic boy position reason change ' +
  'south board individual job society areas west close turn love community true court force full seem am front wife military ' +
  'building market spring figure river weather garden letter machine village morning picture summer window winter kitchen station'
).split(' ');
const NAMES = ['Alice', 'Berlin', 'Chen', 'Dublin', 'Elena', 'Friday', 'Gemini', 'Harper', 'Ibrahim', 'July', 'Kyoto', 'Lagos', 'Monday', 'Nairobi', 'Oslo', 'Priya'];

/** English-like text: sentences of 4–22 words with capitals, commas, names, numbers and mixed punctuation. */
function sentence(rnd: () => number): string {
  const n = 4 + Math.floor(rnd() * 19);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    let w =
      r < 0.04
        ? NAMES[Math.floor(rnd() * NAMES.length)]!
        : r < 0.07
          ? String(Math.floor(rnd() * (rnd() < 0.5 ? 100 : 100_000))).replace(/\B(?=(\d{3})+$)/g, ',')
          : WORDS[Math.floor(rnd() * WORDS.length)]!;
    if (i === 0) w = w[0]!.toUpperCase() + w.slice(1);
    if (i < n - 1 && rnd() < 0.08) w += ',';
    out.push(w);
  }
  const p = rnd();
  return out.join(' ') + (p < 0.8 ? '.' : p < 0.93 ? '?' : '!');
}

function textOf(rnd: () => number, chars: number): string {
  let s = sentence(rnd);
  while (s.length < chars) s += ' ' + sentence(rnd);
  return s;
}

/** `tokens.context` and the history length of a live session, from the control API. */
async function inspect(port: number, sessionId: string): Promise<{ tokens: number; turns: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/relive/v1/sessions/${encodeURIComponent(sessionId)}`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET session ${sessionId}: HTTP ${res.status}`);
  const body = (await res.json()) as { tokens?: { context?: number }; context?: unknown[] };
  const tokens = body.tokens?.context;
  if (typeof tokens !== 'number') throw new Error(`GET session ${sessionId}: no tokens.context`);
  return { tokens, turns: body.context?.length ?? Number.NaN };
}

interface Session {
  readonly client: TurnClient;
  readonly id: string;
  readonly label: string;
  send(frame: string): void;
}

async function open(server: ServerChild, label: string): Promise<Session> {
  const r = await openSession(server.url);
  const setup = JSON.parse(r.first.toString('utf8')) as { setupComplete?: { sessionId?: string } };
  const id = setup.setupComplete?.sessionId;
  if (!id) throw new Error(`${label}: expected setupComplete with a sessionId, got ${r.first.toString().slice(0, 80)}`);
  return { client: new TurnClient(r.ws, true, label), id, label, send: (frame) => r.ws.send(frame) };
}

/**
 * Sends history until the server counts `target` tokens (within 1 %): frames of whole user/model
 * turn pairs, each frame sized from the characters-per-token the previous ones showed.
 */
async function prefill(port: number, s: Session, target: number, o: HistoryOptions, rnd: () => number): Promise<PrefillFacts> {
  const t0 = performance.now();
  let { tokens } = await inspect(port, s.id);
  const start = tokens;
  let chars = 0;
  let charsPerToken = 4.5;
  let frames = 0;
  let largest = 0;
  while (tokens < target * 0.99) {
    if (frames >= 50) throw new Error(`${s.label}: prefill stuck at ${tokens} tokens after ${frames} frames`);
    const remaining = target - tokens;
    const pairs = Math.min(o.turnsPerFrame / 2, Math.max(1, Math.ceil(remaining / o.turnTokens / 2)));
    const perTurn = Math.max(1, Math.round(Math.min(o.turnTokens, remaining / (pairs * 2)) * charsPerToken));
    const turns = [];
    for (let i = 0; i < pairs * 2; i++) {
      const text = textOf(rnd, perTurn);
      chars += text.length;
      turns.push({ role: i % 2 === 0 ? 'user' : 'model', parts: [{ text }] });
    }
    const frame = JSON.stringify({ clientContent: { turns, turnComplete: false } });
    largest = Math.max(largest, Buffer.byteLength(frame));
    s.send(frame);
    frames++;
    // A turn answered means every frame before it was applied (the session handles them in order).
    await s.client.turn(false, 60_000);
    tokens = (await inspect(port, s.id)).tokens;
    charsPerToken = chars / Math.max(1, tokens - start);
  }
  const after = await inspect(port, s.id);
  return {
    tokensBefore: after.tokens,
    turnsBefore: after.turns,
    frames,
    largestFrameBytes: largest,
    charsPerToken,
    prefillMs: performance.now() - t0,
  };
}

export async function measureHistoryCost(options: HistoryOptions): Promise<HistoryResults> {
  let server: ServerChild | undefined;
  const sessions: Session[] = [];
  try {
    server = await startChild('relive-history');
    const rnd = prng(0x5eed);
    const long = await open(server, 'long history');
    sessions.push(long);
    const short = await open(server, 'short history');
    sessions.push(short);
    const longFacts = await prefill(server.port, long, options.longTokens, options, rnd);
    const shortFacts = await prefill(server.port, short, options.shortTokens, options, rnd);

    await long.client.run(options.warmup);
    await short.client.run(options.warmup);
    const samples = {
      long: { first: [] as number[], full: [] as number[], blockP50: [] as number[] },
      short: { first: [] as number[], full: [] as number[], blockP50: [] as number[] },
    };
    const order: [Session, SessionSamples][] = [
      [long, samples.long],
      [short, samples.short],
    ];
    for (let b = 0; b < options.blocks; b++) {
      for (let k = 0; k < order.length; k++) {
        const [s, into] = order[(b + k) % order.length]!;
        gc();
        const before = into.first.length;
        await s.client.run(options.perBlock, into);
        into.blockP50.push(median(into.first.slice(before)));
      }
    }
    for (const s of sessions) if (s.client.stray > 0) throw new Error(`${s.label}: ${s.client.stray} frames arrived outside a turn`);
    const [longEnd, shortEnd] = await Promise.all([inspect(server.port, long.id), inspect(server.port, short.id)]);
    return {
      long: { ...samples.long, ...longFacts, tokensAfter: longEnd.tokens, turnsAfter: longEnd.turns },
      short: { ...samples.short, ...shortFacts, tokensAfter: shortEnd.tokens, turnsAfter: shortEnd.turns },
      options,
    };
  } finally {
    for (const s of sessions) s.client.close();
    await server?.stop();
  }
}
