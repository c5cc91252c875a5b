/**
 * Several relive nodes on one Redis (issue #9): what resuming on another node costs, and how many
 * checkpoint commits a second each store takes.
 *
 *   cross-node resume   a real redis-server (no persistence) and two relive nodes on it, A and B,
 *                       each its own process (`relive-redis` children, cluster layer on with its
 *                       defaults). A session is opened on A, gets one text turn, and its connection
 *                       is closed; once the store has the session detached it is resumed on B with
 *                       the newest handle: setup sent → setupComplete (the WebSocket handshake is
 *                       not counted). Baselines in the same run, in interleaved blocks (rotating
 *                       order): the same resume on A (same node, same Redis) and on a relive with
 *                       the SQLite store (`relive-sqlite`). A takeover variant resumes on B while A
 *                       still holds the session's connection: B asks A over pub/sub, A closes it
 *                       1008 and finishes its last write, then B answers.
 *                       Each block prepares its sessions first (untimed), closes them and waits for
 *                       every detach; the resumed sockets stay open until the block ends and the
 *                       next block starts once they are all detached again, so no close work runs
 *                       inside a measured resume except the takeover's own. The first resume of
 *                       each block is not counted (after a pause it is slow on every server alike).
 *   commits per second  `SessionStore.commit` (two new turns of ~200 bytes, one checkpoint) in a
 *                       tight loop per session, with 1 and with 32 sessions committing at once, on a
 *                       RedisStore (no persistence, and appendfsync always) and on a SqliteStore
 *                       (WAL, synchronous=FULL, a file in the OS temp directory) as the baseline,
 *                       in this process; commits completed per second over 1 s windows, the
 *                       configurations interleaved window by window.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { ContextTurn } from '../src/session/context.js';
import type { Checkpoint, SessionStore } from '../src/session/store.js';
import { RedisStore } from '../src/store/redis-store.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { startChild, type ServerChild } from './child.js';
import { startRedis, type BenchRedis } from './redis.js';
import { openResumable, setupWith, turn } from './resume.js';
import { median, summarize } from './stats.js';
import { ratio, us, type Row } from './table.js';
import { waitClosed } from './ws-client.js';

export interface ClusterResumeOptions {
  /** Resumes of each kind run (in one block each, not counted) before the measured blocks. */
  readonly warmup: number;
  readonly blocks: number;
  /** Resumes per block (one more is run and not counted). */
  readonly perBlock: number;
}

export type ResumeKind = 'cross' | 'same' | 'takeover' | 'sqlite';

export interface ClusterResumeResults {
  /** Setup sent → setupComplete, ms, per kind. */
  readonly setup: Record<ResumeKind, number[]>;
  /** Connect → setupComplete, ms, per kind (the handshake included). */
  readonly connect: Record<ResumeKind, number[]>;
  /** Close codes A's connections got in the takeover blocks (all 1008 when it works). */
  readonly takeoverCloses: Record<string, number>;
  readonly redisVersion: string;
  readonly options: ClusterResumeOptions;
}

const NEW_SESSION = setupWith({});
const KINDS: readonly ResumeKind[] = ['cross', 'same', 'takeover', 'sqlite'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  for (const s of sockets) s.close(1000);
  const forced = await waitClosed(sockets);
  if (forced > 0) throw new Error(`${forced} sockets needed terminate()`);
}

/**
 * Waits until the store has each session detached (its detail on `node`'s control API has a
 * detachedAt: the connection's last commit and its detach are written), so that none of that close
 * work, nor a takeover of a session still marked held, lands in a measured resume.
 */
async function waitDetached(node: ServerChild, ids: readonly string[], timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const left = [...ids];
  await inParallel(ids.length, PREPARE_IN_FLIGHT, async () => {
    const id = left.shift()!;
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${node.port}/relive/v1/sessions/${id}`);
      const detail = (await res.json()) as { detachedAt?: string };
      if (res.status === 200 && detail.detachedAt !== undefined) return;
      if (performance.now() > deadline) throw new Error(`${node.mode}: session ${id} not detached ${timeoutMs} ms after its close`);
      await sleep(2);
    }
  });
}

/** Untimed work (preparing sessions, polling for detaches) runs this many at once. */
const PREPARE_IN_FLIGHT = 8;

/** Runs `job` `count` times with at most `inFlight` at once; the first failure rejects. */
async function inParallel(count: number, inFlight: number, job: () => Promise<void>): Promise<void> {
  let started = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (started < count && failure === undefined) {
      started++;
      try {
        await job();
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, inFlight) }, worker));
  if (failure !== undefined) throw failure;
}

interface Nodes {
  readonly a: ServerChild;
  readonly b: ServerChild;
  readonly sqlite: ServerChild;
}

/** One block of `n + 1` resumes of `kind`; the samples of all but the first go into `into`. */
async function resumeBlock(nodes: Nodes, kind: ResumeKind, n: number, into: { setup: number[]; connect: number[] } | undefined, closes: Record<string, number>): Promise<void> {
  const home = kind === 'sqlite' ? nodes.sqlite : nodes.a;
  const target = kind === 'cross' || kind === 'takeover' ? nodes.b : home;
  // Untimed: sessions with one turn each, closed (or, for a takeover, left open) on their home node.
  const prepared: { ws: WebSocket; id: string; handle: string; closed: Promise<number> }[] = [];
  await inParallel(n + 1, PREPARE_IN_FLIGHT, async () => {
    const s = await openResumable(home.url, NEW_SESSION);
    const handle = await turn(s.ws);
    const closed = new Promise<number>((resolve) => s.ws.once('close', (code) => resolve(code)));
    prepared.push({ ws: s.ws, id: s.sessionId, handle, closed });
  });
  const ids = prepared.map((p) => p.id);
  if (kind !== 'takeover') {
    await closeAll(prepared.map((p) => p.ws));
    await waitDetached(home, ids);
  }
  gc();
  await sleep(20);

  const resumed: WebSocket[] = [];
  try {
    for (let i = 0; i <= n; i++) {
      const p = prepared[i]!;
      const r = await openResumable(target.url, setupWith({ handle: p.handle }));
      resumed.push(r.ws);
      if (r.sessionId !== p.id) throw new Error(`${kind}: resumed ${r.sessionId}, expected ${p.id}`);
      if (i > 0 && into) {
        into.setup.push(r.setupMs);
        into.connect.push(r.ms);
      }
    }
    if (kind === 'takeover') {
      // A closed each of its connections before B answered: the codes are in already.
      const codes = await Promise.race([Promise.all(prepared.map((p) => p.closed)), sleep(5_000).then(() => undefined)]);
      if (!codes) throw new Error('takeover: node A did not close its connections');
      for (const c of codes) closes[String(c)] = (closes[String(c)] ?? 0) + 1;
    }
  } finally {
    if (kind === 'takeover') for (const p of prepared) if (p.ws.readyState !== WebSocket.CLOSED) p.ws.terminate();
    await closeAll(resumed);
  }
  await waitDetached(target, ids);
  await sleep(20);
}

export async function measureClusterResume(options: ClusterResumeOptions): Promise<ClusterResumeResults> {
  const children: ServerChild[] = [];
  let redis: BenchRedis | undefined;
  try {
    redis = await startRedis('none');
    const redisUrl = redis.url;
    // One after the other: the first node writes the handle secret both share (initMeta).
    const a = await startChild('relive-redis', 15_000, [redisUrl, 'bench-a']);
    children.push(a);
    const b = await startChild('relive-redis', 15_000, [redisUrl, 'bench-b']);
    children.push(b);
    const sqlite = await startChild('relive-sqlite');
    children.push(sqlite);
    const nodes: Nodes = { a, b, sqlite };

    const closes: Record<string, number> = {};
    for (const kind of KINDS) await resumeBlock(nodes, kind, options.warmup, undefined, {});
    const empty = (): Record<ResumeKind, number[]> => ({ cross: [], same: [], takeover: [], sqlite: [] });
    const setup = empty();
    const connect = empty();
    for (let blk = 0; blk < options.blocks; blk++) {
      for (let k = 0; k < KINDS.length; k++) {
        const kind = KINDS[(blk + k) % KINDS.length]!;
        await resumeBlock(nodes, kind, options.perBlock, { setup: setup[kind], connect: connect[kind] }, closes);
      }
    }
    return { setup, connect, takeoverCloses: closes, redisVersion: redis.version, options };
  } finally {
    await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
    await redis?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint commits per second.

export interface CommitRateOptions {
  /** Sessions committing at once, one configuration each. */
  readonly sessions: readonly number[];
  readonly windows: number;
  readonly windowMs: number;
  readonly warmupMs: number;
}

export type CommitStoreKind = 'sqlite' | 'redis' | 'redis-fsync';

export interface CommitRateConfig {
  readonly store: CommitStoreKind;
  readonly sessions: number;
  /** Commits per second in each window. */
  readonly windows: number[];
  /** Commits per session by the end (history length is twice that). */
  readonly commitsPerSession: number;
}

export interface CommitRateResults {
  readonly configs: CommitRateConfig[];
  /** Bytes of one commit as the store gets it: the two turns' JSON and the checkpoint's. */
  readonly turnBytes: readonly [number, number];
  readonly checkpointBytes: number;
  readonly options: CommitRateOptions;
}

const MODEL = 'models/gemini-live-2.5-flash-preview';
const SETUP = { model: MODEL, generationConfig: { responseModalities: ['TEXT' as const] } };
const FILLER = 'The quick brown fox jumps over the lazy dog near the river bank while the sun sets slowly. ';

/** A user turn and a model turn of about 200 bytes of JSON each. */
function exchange(i: number): [ContextTurn, ContextTurn] {
  return [
    { role: 'user', parts: [{ kind: 'text', text: `Question ${i}: ${FILLER}What happens next in the story, and why?` }] },
    { role: 'model', parts: [{ kind: 'text', text: `Answer ${i}: ${FILLER}Then the fox rests under a tree.` }] },
  ];
}

interface CommitSession {
  readonly id: string;
  readonly lease: number;
  /** Exchanges committed so far (the checkpoint seq is one more; the log holds twice as many turns). */
  exchanges: number;
}

function checkpointOf(exchanges: number): Checkpoint {
  return {
    seq: exchanges + 1,
    setup: SETUP,
    turnCount: 2 * exchanges,
    firstTurn: 0,
    userTurns: exchanges,
    turnsCompleted: exchanges,
    pendingInput: [],
    pendingCalls: [],
    lastConsumedClientMessageIndex: exchanges,
    createdAt: Date.now(),
  };
}

async function createSessions(store: SessionStore, n: number): Promise<CommitSession[]> {
  const out: CommitSession[] = [];
  for (let i = 0; i < n; i++) {
    const id = `bench-commit-${randomUUID()}`;
    const now = Date.now();
    await store.create({ id, principal: 'bench', model: MODEL, createdAt: now, connectedMs: 0, videoSeen: false, holder: 'bench' }, checkpointOf(0));
    out.push({ id, lease: await store.acquireLease(id, 'bench'), exchanges: 0 });
  }
  return out;
}

/** Every session commits back to back for `ms`; commits completed per second of wall time. */
async function commitWindow(store: SessionStore, sessions: readonly CommitSession[], ms: number): Promise<number> {
  let done = 0;
  const t0 = performance.now();
  const deadline = t0 + ms;
  await Promise.all(
    sessions.map(async (s) => {
      while (performance.now() < deadline) {
        const next = s.exchanges + 1;
        await store.commit({ sessionId: s.id, leaseToken: s.lease, newTurns: exchange(next), checkpoint: checkpointOf(next) });
        s.exchanges = next;
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

export async function measureCommitRate(options: CommitRateOptions): Promise<CommitRateResults> {
  const dir = mkdtempSync(join(tmpdir(), 'relive-bench-commits-'));
  // Also when the bench exits without coming back here (watchdog, signal).
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const servers: BenchRedis[] = [];
  const stores: SessionStore[] = [];
  try {
    const sqlite = SqliteStore.open(join(dir, 'store.db'));
    stores.push(sqlite);
    const none = await startRedis('none');
    servers.push(none);
    const fsync = await startRedis('fsync');
    servers.push(fsync);
    const redis = await RedisStore.open(none.url);
    stores.push(redis);
    const redisFsync = await RedisStore.open(fsync.url);
    stores.push(redisFsync);
    const byKind: Record<CommitStoreKind, SessionStore> = { sqlite, redis, 'redis-fsync': redisFsync };

    const configs: (CommitRateConfig & { sessionsOf: CommitSession[]; storeOf: SessionStore })[] = [];
    for (const n of options.sessions) {
      for (const kind of ['redis', 'redis-fsync', 'sqlite'] as const) {
        const store = byKind[kind];
        configs.push({ store: kind, sessions: n, windows: [], commitsPerSession: 0, sessionsOf: await createSessions(store, n), storeOf: store });
      }
    }
    for (const c of configs) await commitWindow(c.storeOf, c.sessionsOf, options.warmupMs);
    for (let w = 0; w < options.windows; w++) {
      for (let k = 0; k < configs.length; k++) {
        const c = configs[(w + k) % configs.length]!;
        gc();
        c.windows.push(await commitWindow(c.storeOf, c.sessionsOf, options.windowMs));
      }
    }
    const [user, model] = exchange(1);
    return {
      configs: configs.map((c) => ({ store: c.store, sessions: c.sessions, windows: c.windows, commitsPerSession: Math.round(median(c.sessionsOf.map((s) => s.exchanges))) })),
      turnBytes: [JSON.stringify(user).length, JSON.stringify(model).length],
      checkpointBytes: JSON.stringify(checkpointOf(1)).length,
      options,
    };
  } finally {
    for (const s of stores) await s.close().catch(() => undefined);
    for (const r of servers) await r.stop();
    process.off('exit', removeDir);
    removeDir();
  }
}

// ---------------------------------------------------------------------------------------------
// Rows and notes for the report (bench/run.ts).

const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');
const count = (x: number): string => x.toLocaleString('en-US');
const perSecond = (x: number): string => (Number.isFinite(x) ? `${count(Math.round(x))}/s` : 'n/a');

/** Cross-node resume p50/p99 against the same-node resume on the same Redis; Redis against SQLite. */
export function clusterResumeReport(r: ClusterResumeResults): { rows: Row[]; note: string } {
  const cross = summarize(r.setup.cross);
  const same = summarize(r.setup.same);
  const takeover = summarize(r.setup.takeover);
  const sqlite = summarize(r.setup.sqlite);
  const targetMs = 10;
  const rows: Row[] = [
    ['cross-node resume (Redis): setup → setupComplete, p50', us(cross.p50), us(same.p50), ratio(cross.p50, same.p50), '—'],
    ['cross-node resume (Redis): setup → setupComplete, p99', us(cross.p99), us(same.p99), ratio(cross.p99, same.p99), `≤ ${targetMs} ms ${met(cross.p99 <= targetMs)}`],
    ['cross-node takeover (A still holds it), p50', us(takeover.p50), us(same.p50), ratio(takeover.p50, same.p50), '—'],
    ['cross-node takeover (A still holds it), p99', us(takeover.p99), us(same.p99), ratio(takeover.p99, same.p99), '—'],
    ['same-node resume, Redis vs SQLite store, p50', us(same.p50), us(sqlite.p50), ratio(same.p50, sqlite.p50), '—'],
    ['same-node resume, Redis vs SQLite store, p99', us(same.p99), us(sqlite.p99), ratio(same.p99, sqlite.p99), '—'],
  ];
  const connectP50 = (k: ResumeKind): string => us(median(r.connect[k]));
  const closes = Object.entries(r.takeoverCloses)
    .map(([code, n]) => `${n} × ${code}`)
    .join(', ');
  const note =
    `cluster resume rows: redis-server ${r.redisVersion} with no persistence (--save '' --appendonly no) on loopback; nodes A and B are ` +
    `relive processes on it (createServer with a RedisStore and a nodeId, as \`relive serve --store redis://… --node-id\`; cluster defaults, ` +
    `voice models off). Each sample: a new session on A, one text turn, close, wait until the store has it detached, then resume it with ` +
    `the newest handle on B (cross-node), on A (same node: the baseline of the first two pairs), or, for the third pair, the same on a relive ` +
    `with the SQLite store (relive-sqlite); takeover: resumed on B while A still holds its connection (A's connections were closed ` +
    `${closes}). Timed from setup sent to setupComplete, the WebSocket handshake excluded (connect → setupComplete p50: cross ` +
    `${connectP50('cross')}, same ${connectP50('same')}, takeover ${connectP50('takeover')}, SQLite ${connectP50('sqlite')}). ` +
    `${r.setup.cross.length} samples per kind in ${r.options.blocks} interleaved blocks (rotating order) after ${r.options.warmup} ` +
    `warm-up resumes of each; the first resume of each block is not counted. Four server processes and the ` +
    `client share the machine's cores.`;
  return { rows, note };
}

/** Commits per second on Redis (both persistence settings) against SQLite, per concurrency. */
export function commitRateReport(c: CommitRateResults, tmpFs: string): { rows: Row[]; note: string } {
  const rate = (store: CommitStoreKind, sessions: number): number => median(c.configs.find((x) => x.store === store && x.sessions === sessions)?.windows ?? []);
  const rows: Row[] = [];
  for (const [store, label] of [
    ['redis', 'Redis, no persistence'],
    ['redis-fsync', 'Redis, appendfsync always'],
  ] as const) {
    for (const n of c.options.sessions) {
      const r = rate(store, n);
      const base = rate('sqlite', n);
      rows.push([`checkpoint commits/s (${label}), ${n} session${n === 1 ? '' : 's'}`, perSecond(r), perSecond(base), ratio(r, base), '—']);
    }
  }
  const windows = c.configs.map((x) => `${x.store} × ${x.sessions}: ${x.windows.map((w) => count(Math.round(w))).join(', ')}`).join('; ');
  const note =
    `commit-rate rows: SessionStore.commit back to back per session (2 new turns of ${c.turnBytes.join(' + ')} bytes of JSON and a ` +
    `${c.checkpointBytes}-byte checkpoint each), every session at once, from the bench process; Redis is its own redis-server process ` +
    `(no persistence, or appendonly + appendfsync always with its file in ${tmpdir()}), the baseline a SqliteStore (WAL, ` +
    `synchronous=FULL) in ${tmpdir()} (${tmpFs}). Median of ${c.options.windows} windows of ${c.options.windowMs / 1000} s per ` +
    `configuration, interleaved, after a ${c.options.warmupMs} ms warm-up each; per window: ${windows}.`;
  return { rows, note };
}
