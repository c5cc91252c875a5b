/**
 * Durable sessions on the SQLite store: what resuming costs, and what one checkpoint commit costs.
 *
 *   resume latency   new connection → setupComplete for a RESUMED session (its handle in `setup`),
 *                    against a NEW session (setup with `sessionResumption: {}`) on the same
 *                    server, and against a bare `ws` server's connect → ack. Server: relive on a
 *                    SQLite file in its own process (`relive-sqlite`). Sessions are resumed one at
 *                    a time, in interleaved blocks (resume, new, bare, rotating); the sockets of a
 *                    block stay open until the block ends and the next block starts once relive has
 *                    let go of them all, so the server's close work (a checkpoint commit and a
 *                    detach per session) never runs inside a measured open. The first open of each
 *                    block is not counted (after a pause it is slow on every server alike).
 *   resumes/second   whole cycles — connect, setup with handle, setupComplete, the handle update,
 *                    close — one at a time and with 16 in flight, against the same cycles that
 *                    open a new session each time.
 *   commit cost      one `Checkpointer.commit` (the two turns of a text exchange, one checkpoint
 *                    row, in one IMMEDIATE transaction, synchronous=FULL) on a `SqliteStore` in
 *                    this process, against a plain better-sqlite3 single-row INSERT on a second
 *                    file in the same directory, WAL + synchronous=FULL (one fsync'd transaction
 *                    each), in interleaved blocks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { Checkpointer } from '../src/session/checkpointer.js';
import type { ContextTurn } from '../src/session/context.js';
import type { SessionSnapshot } from '../src/session/live-session.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { startChild, type ServerChild } from './child.js';
import { median } from './stats.js';
import { PING, openSession, waitClosed } from './ws-client.js';

export interface ResumeOptions {
  /** Sessions prepared for resuming (each resumed again and again, round robin). */
  readonly pool: number;
  /** Turns of history each pooled session has before it is resumed. */
  readonly historyTurns: number;
  readonly warmup: number;
  readonly blocks: number;
  readonly perBlock: number;
  /** Cycles for the resumes-per-second rows, one at a time and with `inFlight` at once. */
  readonly sequentialCycles: number;
  readonly concurrentCycles: number;
  readonly inFlight: number;
  readonly commits: { readonly warmup: number; readonly blocks: number; readonly perBlock: number };
}

export interface ResumeResults {
  readonly resume: number[];
  readonly fresh: number[];
  readonly bare: number[];
  /** Cycles per second. */
  readonly rate: { readonly sequential: { resume: number; fresh: number }; readonly concurrent: { resume: number; fresh: number } };
  readonly commit: number[];
  readonly insert: number[];
  /** Commit p50 per block, first → last, while the history grows. */
  readonly commitBlockP50: number[];
  readonly commitHistoryTurns: number;
  readonly options: ResumeOptions;
}

const MODEL = 'models/gemini-live-2.5-flash-preview';
export const setupWith = (resumption: object): string =>
  JSON.stringify({ setup: { model: MODEL, generationConfig: { responseModalities: ['TEXT'] }, sessionResumption: resumption } });
/** A new session that asks for handles: the server creates it in the store before setupComplete. */
const NEW_SESSION = setupWith({});

export interface Opened {
  readonly ws: WebSocket;
  /** Connect → setupComplete. */
  readonly ms: number;
  /** Setup sent → setupComplete: the same without the WebSocket handshake. */
  readonly setupMs: number;
  /** From setupComplete ('' when the server sends none). */
  readonly sessionId: string;
  /** The handle of the first resumption update (the checkpoint the connection starts from). */
  readonly handle: string;
}

/**
 * Opens a socket, sends `setup`, times connect → setupComplete and setup sent → setupComplete,
 * then waits (untimed) for the resumption update behind it and resolves with its handle.
 */
export function openResumable(url: string, setup: string, timeoutMs = 15_000): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let s0 = 0;
    let ms = -1;
    let setupMs = -1;
    let sessionId = '';
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.terminate();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no setupComplete and handle within ${timeoutMs} ms`)), timeoutMs);
    ws.on('error', (err) => fail(err));
    ws.once('close', (code, reason) => fail(new Error(`closed ${code} ${reason.toString()} during setup`)));
    ws.once('open', () => {
      s0 = performance.now();
      ws.send(setup);
    });
    ws.on('message', (data) => {
      const t = performance.now();
      const m = JSON.parse((data as Buffer).toString('utf8')) as { setupComplete?: { sessionId?: string }; sessionResumptionUpdate?: { newHandle?: string } };
      if (ms < 0) {
        if (!m.setupComplete) return fail(new Error(`expected setupComplete, got ${(data as Buffer).toString().slice(0, 80)}`));
        ms = t - t0;
        setupMs = t - s0;
        sessionId = m.setupComplete.sessionId ?? '';
        return;
      }
      const handle = m.sessionResumptionUpdate?.newHandle;
      if (!handle) return fail(new Error(`expected a resumption update, got ${(data as Buffer).toString().slice(0, 80)}`));
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.removeAllListeners('close');
      ws.removeAllListeners('error');
      ws.on('error', () => undefined);
      resolve({ ws, ms, setupMs, sessionId, handle });
    });
  });
}

/** One text turn; resolves with the handle of the checkpoint committed after it. */
export function turn(ws: WebSocket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let completed = false;
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error(`turn: no turnComplete and handle within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (data: Buffer): void => {
      const m = JSON.parse(data.toString('utf8')) as { serverContent?: { turnComplete?: boolean }; sessionResumptionUpdate?: { newHandle?: string } };
      if (m.serverContent?.turnComplete) completed = true;
      const handle = m.sessionResumptionUpdate?.newHandle;
      if (completed && handle) {
        clearTimeout(timer);
        ws.off('message', onMessage);
        resolve(handle);
      }
    };
    ws.on('message', onMessage);
    ws.send(PING);
  });
}

async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  for (const s of sockets) s.close(1000);
  const forced = await waitClosed(sockets);
  if (forced > 0) throw new Error(`${forced} sockets needed terminate()`);
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the server holds no connection — relive has then run the close work of the block
 * (a checkpoint commit and a detach per session, synchronous SQLite) — so none of it lands in the
 * next block. relive is asked over /healthz; the bare server has no close work worth waiting for.
 * (No forced GC here: repeated full collections age out bytecode and slow the next block down.)
 */
async function settled(child: ServerChild): Promise<void> {
  if (child.mode !== 'relive-sqlite') return sleep(20);
  for (let i = 0; i < 200; i++) {
    const health = (await (await fetch(`http://127.0.0.1:${child.port}/healthz`)).json()) as { sessions: number };
    if (health.sessions === 0) return sleep(20);
    await sleep(5);
  }
  throw new Error(`${child.mode}: sessions still attached 1 s after the block was closed`);
}

/** The pooled sessions: each with `historyTurns` turns, closed, with the handle of its last checkpoint. */
async function preparePool(url: string, options: ResumeOptions): Promise<string[]> {
  const handles: string[] = [];
  const sockets: WebSocket[] = [];
  for (let i = 0; i < options.pool; i++) {
    const s = await openResumable(url, NEW_SESSION);
    let handle = s.handle;
    for (let k = 0; k < options.historyTurns; k++) handle = await turn(s.ws);
    handles.push(handle);
    sockets.push(s.ws);
  }
  await closeAll(sockets);
  return handles;
}

/** Runs `cycles` open → setupComplete → handle → close cycles with `inFlight` at once; cycles per second. */
async function cyclesPerSecond(url: string, cycles: number, inFlight: number, next: () => { setup: string; done(handle: string): void }): Promise<number> {
  let started = 0;
  let failure: Error | undefined;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (started < cycles && !failure) {
      started++;
      const job = next();
      try {
        const s = await openResumable(url, job.setup);
        await closeAll([s.ws]);
        job.done(s.handle);
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  if (failure) throw failure;
  return cycles / ((performance.now() - t0) / 1000);
}

/** Resume jobs that never hand out a session another worker still holds. */
function resumeJobs(handles: string[]): () => { setup: string; done(handle: string): void } {
  const idle = handles.map((handle, i) => ({ i, handle }));
  return () => {
    const s = idle.shift();
    if (!s) throw new Error('resume pool exhausted: more cycles in flight than pooled sessions');
    return {
      setup: setupWith({ handle: s.handle }),
      done: (handle) => {
        handles[s.i] = handle;
        idle.push({ i: s.i, handle });
      },
    };
  };
}

const freshJobs = () => () => ({ setup: NEW_SESSION, done: () => undefined });

async function measureResumeLatency(options: ResumeOptions): Promise<Pick<ResumeResults, 'resume' | 'fresh' | 'bare' | 'rate'>> {
  const children: ServerChild[] = [];
  try {
    const relive = await startChild('relive-sqlite');
    children.push(relive);
    const bare = await startChild('bare');
    children.push(bare);
    if (options.pool <= options.perBlock || options.pool < 2 * options.inFlight) throw new Error('pool too small for the block size or the cycles in flight');
    const handles = await preparePool(relive.url, options);

    // Warm-up: every path once through the JIT and SQLite's page cache.
    await cyclesPerSecond(relive.url, options.warmup, 1, resumeJobs(handles));
    await cyclesPerSecond(relive.url, options.warmup, 1, freshJobs());
    const warm = await Promise.all(Array.from({ length: 20 }, () => openSession(bare.url)));
    await closeAll(warm.map((w) => w.ws));

    const samples = { resume: [] as number[], fresh: [] as number[], bare: [] as number[] };
    let cursor = 0;
    const kinds = ['resume', 'fresh', 'bare'] as const;
    for (let b = 0; b < options.blocks; b++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(b + k) % kinds.length]!;
        gc();
        const sockets: WebSocket[] = [];
        // One open of the block's kind is not counted: the first after a pause (and the forced
        // GCs) takes several ms on every server alike, the bare one included.
        for (let i = 0; i <= options.perBlock; i++) {
          const into = i === 0 ? [] : samples[kind];
          if (kind === 'bare') {
            const s = await openSession(bare.url);
            into.push(s.ms);
            sockets.push(s.ws);
          } else if (kind === 'fresh') {
            const s = await openResumable(relive.url, NEW_SESSION);
            into.push(s.ms);
            sockets.push(s.ws);
          } else {
            const at = cursor++ % handles.length;
            const s = await openResumable(relive.url, setupWith({ handle: handles[at] }));
            into.push(s.ms);
            handles[at] = s.handle;
            sockets.push(s.ws);
          }
        }
        await closeAll(sockets);
        await settled(kind === 'bare' ? bare : relive);
      }
    }

    gc();
    const sequential = {
      resume: await cyclesPerSecond(relive.url, options.sequentialCycles, 1, resumeJobs(handles)),
      fresh: await cyclesPerSecond(relive.url, options.sequentialCycles, 1, freshJobs()),
    };
    gc();
    const concurrent = {
      resume: await cyclesPerSecond(relive.url, options.concurrentCycles, options.inFlight, resumeJobs(handles)),
      fresh: await cyclesPerSecond(relive.url, options.concurrentCycles, options.inFlight, freshJobs()),
    };
    return { ...samples, rate: { sequential, concurrent } };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

const SETUP = { model: MODEL, generationConfig: { responseModalities: ['TEXT' as const] } };

/** A text exchange as the context keeps it: about the size of a short spoken-length reply. */
function exchange(i: number): ContextTurn[] {
  return [
    { role: 'user', parts: [{ kind: 'text', text: `Question number ${i}: what is the weather like in Paris today?` }] },
    { role: 'model', parts: [{ kind: 'text', text: `Answer number ${i}: it is sunny in Paris, 21 degrees, with a light breeze from the west.` }] },
  ];
}

async function measureCommitCost(options: ResumeOptions['commits']): Promise<Pick<ResumeResults, 'commit' | 'insert' | 'commitBlockP50' | 'commitHistoryTurns'>> {
  const dir = mkdtempSync(join(tmpdir(), 'relive-bench-commit-'));
  const store = SqliteStore.open(join(dir, 'store.db'));
  const plain = new Database(join(dir, 'plain.db'));
  try {
    plain.pragma('journal_mode = WAL');
    plain.pragma('synchronous = FULL');
    plain.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, json TEXT NOT NULL)');
    const insert = plain.prepare<[string]>('INSERT INTO rows (json) VALUES (?)');
    const row = JSON.stringify(exchange(0)[1]);

    const id = 'bench-session';
    const now = Date.now();
    await store.create(
      { id, principal: 'bench', model: MODEL, createdAt: now, connectedMs: 0, videoSeen: false },
      { seq: 1, setup: SETUP, turnCount: 0, userTurns: 0, turnsCompleted: 0, pendingInput: [], lastConsumedClientMessageIndex: 0, createdAt: now },
    );
    const checkpointer = new Checkpointer(store, id, await store.acquireLease(id), 0, 1);
    const history: ContextTurn[] = [];
    let exchanges = 0;
    const commitOnce = async (): Promise<number> => {
      history.push(...exchange(++exchanges));
      const snapshot: SessionSnapshot = { setup: SETUP, history, firstTurn: 0, userTurns: exchanges, turnsCompleted: exchanges, pendingInput: [], pendingCalls: [] };
      const t0 = performance.now();
      await checkpointer.commit(snapshot, exchanges, Date.now());
      return performance.now() - t0;
    };
    const insertOnce = (): number => {
      const t0 = performance.now();
      insert.run(row);
      return performance.now() - t0;
    };

    for (let i = 0; i < options.warmup; i++) {
      await commitOnce();
      insertOnce();
    }
    const commit: number[] = [];
    const inserts: number[] = [];
    const commitBlockP50: number[] = [];
    for (let b = 0; b < options.blocks; b++) {
      gc();
      const order = b % 2 === 0 ? (['commit', 'insert'] as const) : (['insert', 'commit'] as const);
      for (const kind of order) {
        if (kind === 'commit') {
          const block: number[] = [];
          for (let i = 0; i < options.perBlock; i++) block.push(await commitOnce());
          commit.push(...block);
          commitBlockP50.push(median(block));
        } else {
          for (let i = 0; i < options.perBlock; i++) inserts.push(insertOnce());
        }
      }
    }
    return { commit, insert: inserts, commitBlockP50, commitHistoryTurns: history.length };
  } finally {
    plain.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureResume(options: ResumeOptions): Promise<ResumeResults> {
  const latency = await measureResumeLatency(options);
  const commits = await measureCommitCost(options.commits);
  return { ...latency, ...commits, options };
}
