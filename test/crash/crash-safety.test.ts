/**
 * Crash safety (DESIGN.md invariants 2 and 3): the `relive` command runs as a child process on a
 * SQLite store; many sessions are driven through it with the official SDK (and a few transparent
 * raw clients); the child is killed with SIGKILL at random points — mid-turn (replies stream
 * slowly), mid-commit (the test holds SQLite's write lock so a checkpoint commit stalls), with
 * its last frames still in flight (a relay holds them back: committed checkpoints whose handles
 * never arrive), and in the middle of the resume storm after a restart — and restarted each time
 * on the same port and store. Every client resumes with the latest handle it received and sends
 * again what that handle does not cover. At the end the control API — on the live server, then on
 * one killed and restarted once more — must show every session's context exactly as an
 * uninterrupted run would have left it: no lost and no duplicated turns.
 *
 * The kills are drawn from a seeded PRNG; the seed is printed, and RELIVE_CRASH_SEED=<seed>
 * replays the same schedule (the timing of the machine still varies, the schedule does not).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, connect as tcpConnect, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Modality, type LiveServerMessage, type Session } from '@google/genai';
import { startBin } from '../helpers/bin.js';
import { RawClient, TEXT_SETUP } from '../helpers/raw-client.js';
import { Inbox, sdk } from '../helpers/server.js';
import { prng } from '../helpers/prng.js';
import { waitFor } from '../helpers/wait.js';

const MODEL = 'gemini-live-2.5-flash-preview';
/** Sessions driven with the official SDK, and with raw transparent-mode clients. */
const SDK_SESSIONS = 12;
const TRANSPARENT_SESSIONS = 3;
/** Numbered turns every session must complete. */
const TURNS = 15;
/** Time between streamed reply chunks: a reply takes ~4 chunks, so most kills land inside a turn. */
const CHUNK_DELAY_MS = 12;
/** No client may need longer than this in all; the whole test is bounded well under a minute. */
const DRIVER_BUDGET_MS = 40_000;
/** How long a client keeps retrying one reconnect while the server is down. */
const RECONNECT_BUDGET_MS = 15_000;

const REPLY_TAIL = 'one two three four five six seven eight';
const userText = (session: string, k: number): string => `turn ${k} of session ${session}`;
const replyText = (session: string, k: number): string => `Reply to ${userText(session, k)}: ${REPLY_TAIL}`;

/** The context an uninterrupted run of `TURNS` turns leaves, as the control API lists it. */
function expectedContext(session: string): string[] {
  return Array.from({ length: TURNS }, (_, i) => [`user: ${userText(session, i + 1)}`, `model: ${replyText(session, i + 1)}`]).flat();
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds; false if `timeoutMs` passed first (the caller decides what a miss means). */
function until(check: () => boolean, timeoutMs: number, stepMs = 2): Promise<boolean> {
  return waitFor(check, { what: 'a crash point', timeoutMs, stepMs }).then(
    () => true,
    () => false,
  );
}

/**
 * A connect that failed because the server is down or was killed during the handshake (retry),
 * as opposed to a refusal (1007/1008/1011: the server answered and said no — a test failure).
 */
function isTransient(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  const code = /\(code (\d+)\)|socket closed \((\d+)/.exec(text);
  if (code) return Number(code[1] ?? code[2]) === 1006;
  return /ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|failed before setup|timed out waiting for the upgrade|Unexpected server response: 503/.test(text);
}

interface Hooks {
  /** A client finished setting up (new or resumed session). */
  onSetup(): void;
  readonly rand: () => number;
  readonly url: string;
  /** Set when the test ends (or fails): drivers stop retrying. */
  stopped: boolean;
}

interface DriverStats {
  connects: number;
  failedConnects: number;
  /** Connections lost while a turn was being streamed to the client. */
  lostMidStream: number;
  /** Turns sent again after a resume (their first sending was not covered by a handle). */
  resent: number;
  /** Of those, turns whose turnComplete the client had seen before the crash, but not the handle after it. */
  resentAfterTurnComplete: number;
}

const newStats = (): DriverStats => ({ connects: 0, failedConnects: 0, lostMidStream: 0, resent: 0, resentAfterTurnComplete: 0 });

/**
 * One session driven with @google/genai, as an application would: send turn k, wait for its
 * turnComplete and the resumption update after it, remember (handle, turns the handle covers).
 * When the socket dies it reconnects with that handle and sends again every turn after it.
 */
class SdkDriver {
  id: string | undefined;
  private handle: string | undefined;
  /** Turns the latest handle covers. */
  covered = 0;
  /** Highest turn whose turnComplete was seen (progress, for the kill schedule). */
  done = 0;
  /** Set while a turnComplete was seen and the handle after it was not yet: the commit window. */
  awaitingHandleSince: number | undefined;
  readonly stats = newStats();
  private live: { session: Session; inbox: Inbox } | undefined;
  private readonly sentCount = new Map<number, number>();

  constructor(
    readonly name: string,
    private readonly hooks: Hooks,
  ) {}

  async run(): Promise<void> {
    const started = Date.now();
    while (this.covered < TURNS) {
      if (this.hooks.stopped) throw new Error(`session ${this.name}: stopped`);
      if (Date.now() - started > DRIVER_BUDGET_MS) throw new Error(`session ${this.name}: not done within ${DRIVER_BUDGET_MS} ms (covered ${this.covered})`);
      const c = await this.connect();
      try {
        await this.drive(c.session, c.inbox);
      } catch (err) {
        // A lost connection is what this test is about; anything else is a failure.
        if (!c.inbox.closed) throw err;
        if (c.inbox.closed.code !== 1006) throw new Error(`session ${this.name}: closed ${c.inbox.closed.code} ${c.inbox.closed.reason}`);
      } finally {
        this.awaitingHandleSince = undefined;
      }
    }
  }

  close(): Promise<unknown> {
    const live = this.live;
    if (!live || live.inbox.closed) return Promise.resolve();
    live.session.close();
    return live.inbox.waitClose(3000).catch(() => undefined);
  }

  private async connect(): Promise<{ session: Session; inbox: Inbox }> {
    const deadline = Date.now() + RECONNECT_BUDGET_MS;
    for (;;) {
      const inbox = new Inbox();
      this.stats.connects++;
      try {
        const session = await sdk(this.hooks.url).live.connect({
          model: MODEL,
          config: { responseModalities: [Modality.TEXT], sessionResumption: this.handle ? { handle: this.handle } : {} },
          callbacks: inbox.callbacks,
        });
        this.live = { session, inbox };
        return { session, inbox };
      } catch (err) {
        this.stats.failedConnects++;
        if (!isTransient(err)) throw new Error(`session ${this.name}: ${this.handle ? 'resume' : 'connect'} refused: ${(err as Error).message}`);
        if (Date.now() > deadline || this.hooks.stopped) throw new Error(`session ${this.name}: no connection within ${RECONNECT_BUDGET_MS} ms: ${(err as Error).message}`);
        await sleep(50 + Math.floor(this.hooks.rand() * 50));
      }
    }
  }

  private async drive(session: Session, inbox: Inbox): Promise<void> {
    const id = (await waitIn(inbox, (m) => m.setupComplete !== undefined)).setupComplete!.sessionId;
    if (this.handle) assert.equal(id, this.id, `session ${this.name}: a resume must continue the same session`);
    else this.id = id;
    // The handle of the checkpoint this connection starts from: the same state as the one used.
    this.handle = (await waitIn(inbox, (m) => m.sessionResumptionUpdate?.newHandle !== undefined)).sessionResumptionUpdate!.newHandle;
    this.hooks.onSetup();
    for (let k = this.covered + 1; k <= TURNS; k++) {
      const mark = inbox.messages.length;
      const times = (this.sentCount.get(k) ?? 0) + 1;
      this.sentCount.set(k, times);
      if (times > 1) {
        this.stats.resent++;
        if (k <= this.done) this.stats.resentAfterTurnComplete++;
      }
      session.sendClientContent({ turns: userText(this.name, k) });
      let complete: LiveServerMessage;
      try {
        complete = await waitIn(inbox, (m) => m.serverContent?.turnComplete === true, mark);
      } catch (err) {
        if (inbox.messages.slice(mark).some((m) => m.serverContent?.modelTurn)) this.stats.lostMidStream++;
        throw err;
      }
      this.done = Math.max(this.done, k);
      this.awaitingHandleSince = Date.now();
      const after = inbox.messages.indexOf(complete) + 1;
      const update = await waitIn(inbox, (m) => m.sessionResumptionUpdate?.newHandle !== undefined, after);
      this.awaitingHandleSince = undefined;
      this.handle = update.sessionResumptionUpdate!.newHandle;
      this.covered = k;
    }
  }
}

/** Inbox.waitFor, but failing at once on a connection that is already closed. */
function waitIn(inbox: Inbox, pred: (m: LiveServerMessage) => boolean, from = 0): Promise<LiveServerMessage> {
  const found = inbox.messages.slice(from).find(pred);
  if (found) return Promise.resolve(found);
  if (inbox.closed) return Promise.reject(new Error(`closed ${inbox.closed.code} while waiting`));
  return inbox.waitFor(pred, from);
}

/** A client message sent but not yet covered by a handle, with where it was last sent. */
interface Sent {
  readonly msg: object;
  readonly turn: number;
  /** Carries turnComplete: true, so a turn runs after it. */
  readonly completes: boolean;
  conn?: RawClient;
  index?: number;
}

/**
 * One session in transparent mode over raw `ws` (the SDK throws on `transparent` outside Vertex,
 * PROTOCOL.md §5.4, so no SDK client can do this against the Gemini API path). It does not track
 * turns at all: it keeps every message it sent that no handle covers yet, and on resume replays
 * those after the handle's `lastConsumedClientMessageIndex`. Each turn is two messages — the user
 * text with turnComplete: false, then a bare turnComplete: true, a few ms apart — and the next
 * turn is sent as soon as turnComplete arrives, before the handle (pipelined), so a crash can
 * leave a whole turn, or half of one, to replay. The replay is paced like the original sending:
 * a message that completes a turn is followed by a wait for its turnComplete, because sending the
 * next turn while the model is still answering would be a barge-in.
 */
class TransparentDriver {
  id: string | undefined;
  private handle: string | undefined;
  private unacked: Sent[] = [];
  /** Next step of the program: step 2(k−1) is turn k's text, 2(k−1)+1 its turnComplete. */
  private pc = 0;
  done = 0;
  /** Set while a turnComplete was seen and no handle after it yet: the commit window. */
  awaitingHandleSince: number | undefined;
  readonly stats = { ...newStats(), replayed: 0 };
  private conn: RawClient | undefined;
  private sentOnConn = 0;

  constructor(
    readonly name: string,
    private readonly hooks: Hooks,
  ) {}

  async run(): Promise<void> {
    const started = Date.now();
    while (this.pc < 2 * TURNS || this.unacked.length > 0) {
      if (this.hooks.stopped) throw new Error(`session ${this.name}: stopped`);
      if (Date.now() - started > DRIVER_BUDGET_MS) throw new Error(`session ${this.name}: not done within ${DRIVER_BUDGET_MS} ms`);
      const c = await this.connect();
      try {
        await this.drive(c);
      } catch (err) {
        if (!c.closed) throw err;
        if (c.closed.code !== 1006) throw new Error(`session ${this.name}: closed ${c.closed.code} ${c.closed.reason}`);
      } finally {
        this.absorbHandles(c);
      }
    }
  }

  close(): Promise<void> {
    return this.conn?.dispose() ?? Promise.resolve();
  }

  private setup(): object {
    return { setup: { ...TEXT_SETUP.setup, sessionResumption: this.handle ? { handle: this.handle, transparent: true } : { transparent: true } } };
  }

  private async connect(): Promise<RawClient> {
    const deadline = Date.now() + RECONNECT_BUDGET_MS;
    for (;;) {
      this.stats.connects++;
      let client: RawClient | undefined;
      try {
        client = await RawClient.open(this.hooks.url, { query: 'key=test-key', timeoutMs: 2000 });
        const own = client;
        own.ws.on('message', () => {
          const m = own.messages[own.messages.length - 1];
          if (m?.serverContent?.turnComplete) this.awaitingHandleSince = Date.now();
          if (m?.sessionResumptionUpdate?.newHandle) this.awaitingHandleSince = undefined;
        });
        own.ws.on('close', () => (this.awaitingHandleSince = undefined));
        client.send(this.setup());
        await client.waitFor((m) => m.setupComplete !== undefined, 5000);
        this.conn = client;
        this.sentOnConn = 0;
        return client;
      } catch (err) {
        client?.ws.terminate();
        this.stats.failedConnects++;
        if (!isTransient(err)) throw new Error(`session ${this.name}: ${this.handle ? 'resume' : 'connect'} refused: ${(err as Error).message}`);
        if (Date.now() > deadline || this.hooks.stopped) throw new Error(`session ${this.name}: no connection within ${RECONNECT_BUDGET_MS} ms: ${(err as Error).message}`);
        await sleep(50 + Math.floor(this.hooks.rand() * 50));
      }
    }
  }

  private async drive(c: RawClient): Promise<void> {
    const id = c.messages[0]!.setupComplete.sessionId as string;
    if (this.handle) assert.equal(id, this.id, `session ${this.name}: a resume must continue the same session`);
    else this.id = id;
    await c.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined, 5000);
    this.absorbHandles(c);
    this.hooks.onSetup();
    // Replay: everything sent that no handle covers, in order, on this connection's new indices.
    for (const sent of [...this.unacked]) {
      this.stats.replayed++;
      if (sent.completes) this.stats.resent++;
      if (sent.completes && sent.turn <= this.done) this.stats.resentAfterTurnComplete++;
      await this.send(c, sent);
    }
    while (this.pc < 2 * TURNS) {
      const turn = Math.floor(this.pc / 2) + 1;
      const completes = this.pc % 2 === 1;
      const sent: Sent = completes
        ? { msg: { clientContent: { turnComplete: true } }, turn, completes }
        : { msg: { clientContent: { turns: [{ role: 'user', parts: [{ text: userText(this.name, turn) }] }], turnComplete: false } }, turn, completes };
      this.unacked.push(sent);
      this.pc++;
      await this.send(c, sent);
      if (!completes) await sleep(Math.floor(this.hooks.rand() * 8));
    }
    // Done sending: wait for the handle that covers the last message.
    const last = this.sentOnConn;
    await c.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined && Number(m.sessionResumptionUpdate.lastConsumedClientMessageIndex ?? 0) >= last, 5000);
    this.absorbHandles(c);
  }

  /** Sends one message; after one that completes a turn, waits for that turn's turnComplete. */
  private async send(c: RawClient, sent: Sent): Promise<void> {
    const mark = c.messages.length;
    sent.conn = c;
    sent.index = ++this.sentOnConn;
    c.send(sent.msg);
    if (!sent.completes) return;
    try {
      await c.waitFor((m) => m.serverContent?.turnComplete === true, 10_000, mark);
    } catch (err) {
      if (c.messages.slice(mark).some((m) => m.serverContent?.modelTurn)) this.stats.lostMidStream++;
      throw err;
    }
    this.done = Math.max(this.done, sent.turn);
  }

  /** Takes the newest handle `c` delivered and drops the messages its index covers. */
  private absorbHandles(c: RawClient): void {
    for (const m of c.messages) {
      const u = m.sessionResumptionUpdate as { newHandle?: string; lastConsumedClientMessageIndex?: string } | undefined;
      if (!u?.newHandle) continue;
      this.handle = u.newHandle;
      const index = Number(u.lastConsumedClientMessageIndex ?? 0);
      this.unacked = this.unacked.filter((s) => !(s.conn === c && s.index! <= index));
    }
  }
}

/**
 * A TCP relay between the clients and the server. It passes bytes through untouched, except when
 * frozen: then what the server sends is held back, and `dropAll` discards it with every
 * connection. That is a crash in which the server's last frames never reached the client — the
 * one crash a kill on loopback does not produce by itself: a checkpoint committed, its handle
 * sent, and the client never told. The client must then resume from an older handle, and the
 * server must rewind to it (else the turn the client sends again would be in the context twice).
 */
class Relay {
  private frozen = false;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; held: Buffer[] }>();

  private constructor(
    private readonly tcp: TcpServer,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<Relay> {
    const tcp = createTcpServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const relay = new Relay(tcp, (tcp.address() as AddressInfo).port);
    tcp.on('connection', (client) => relay.pipe(client, targetPort));
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  freeze(): void {
    this.frozen = true;
  }

  /** Ends every connection, discarding what the server sent while frozen; returns those bytes. */
  dropAll(): Buffer {
    const held = Buffer.concat([...this.pairs].flatMap((p) => p.held));
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
    this.frozen = false;
    return held;
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.tcp.close(() => resolve()));
  }

  private pipe(client: Socket, targetPort: number): void {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    const pair = { client, upstream, held: [] as Buffer[] };
    this.pairs.add(pair);
    const end = (): void => {
      // While frozen the client must not learn that the server went away: dropAll() tells it.
      if (this.frozen) return;
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => (this.frozen ? pair.held.push(d) : client.write(d)));
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', end);
    }
  }
}

type KillKind = 'stream' | 'commit' | 'inflight' | 'resume';

interface KillRecord {
  kind: KillKind;
  atProgress: number;
  note: string;
}

async function contextOf(url: string, id: string): Promise<{ connected: boolean; context: string[] }> {
  const res = await fetch(`${url}/relive/v1/sessions/${id}`);
  assert.equal(res.status, 200, `GET /relive/v1/sessions/${id}`);
  const detail = (await res.json()) as { connected: boolean; context: { role: string; parts: { text?: string }[] }[] };
  return { connected: detail.connected, context: detail.context.map((t) => `${t.role}: ${t.parts.map((p) => p.text ?? '').join('')}`) };
}

test('SIGKILL at random points, restart on the same store, resume + replay: every context equals the uninterrupted one', { timeout: 58_000 }, async (t) => {
  const seed = process.env.RELIVE_CRASH_SEED ? Number(process.env.RELIVE_CRASH_SEED) : Math.floor(Math.random() * 2 ** 32);
  const rand = prng(seed);
  t.diagnostic(`seed ${seed} (RELIVE_CRASH_SEED=${seed} to replay this schedule)`);
  const failWith = (what: string): string => `${what} (seed ${seed})`;

  const dir = mkdtempSync(join(tmpdir(), 'relive-crash-'));
  const storeFile = join(dir, 'relive.db');
  const script = join(dir, 'scenario.json');
  writeFileSync(
    script,
    JSON.stringify({
      rules: [{ match: { regex: '^turn \\d+ of session \\S+$' }, reply: [{ text: `Reply to {{input}}: ${REPLY_TAIL}`, chunkDelayMs: CHUNK_DELAY_MS }] }],
    }),
  );
  // The start-up line ("relive listening", with the URL) is logged at info.
  const args = (port: number) => ['--port', String(port), '--store', `sqlite:${storeFile}`, '--script', script, '--log-level', 'info'];

  let bin = startBin(args(0));
  let lockDb: Database.Database | undefined;
  let hooks: Hooks | undefined;
  let relay: Relay | undefined;
  try {
    const url = await bin.listening;
    const port = Number(new URL(url).port);
    relay = await Relay.start(port);
    const via = relay;

    let setupsSinceStart = 0;
    // Clients go through the relay; the control API is asked directly.
    const h: Hooks = { url: via.url, rand, stopped: false, onSetup: () => void setupsSinceStart++ };
    hooks = h;
    const sdkDrivers = Array.from({ length: SDK_SESSIONS }, (_, i) => new SdkDriver(String(i + 1), h));
    const rawDrivers = Array.from({ length: TRANSPARENT_SESSIONS }, (_, i) => new TransparentDriver(`t${i + 1}`, h));
    const drivers = [...sdkDrivers, ...rawDrivers];
    const totalTurns = drivers.length * TURNS;
    const progress = (): number => drivers.reduce((n, d) => n + d.done, 0) / totalTurns;

    // The schedule: a kill at a random moment (most sessions are mid-stream), a kill while a
    // checkpoint commit is in progress, a kill while the server's last frames (handles among
    // them) are still in flight, in an order drawn from the seed; and a kill in the middle of the
    // resume storm right after the second restart.
    const kinds: KillKind[] = ['stream', 'commit', 'inflight'];
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
    }
    const band = (lo: number, hi: number): number => lo + rand() * (hi - lo);
    const schedule: { kind: KillKind; at: number }[] = [
      { kind: kinds[0]!, at: band(0.08, 0.22) },
      { kind: kinds[1]!, at: band(0.28, 0.42) },
      { kind: 'resume', at: 0 },
      { kind: kinds[2]!, at: band(0.55, 0.75) },
    ];
    t.diagnostic(`schedule: ${schedule.map((k) => (k.kind === 'resume' ? 'resume(after restart)' : `${k.kind}@${(k.at * 100).toFixed(0)}%`)).join(', ')}`);

    const kills: KillRecord[] = [];
    /** Per commit kill: sessions that had their turnComplete but not the handle (their commit stalled). */
    const commitStalls: number[] = [];
    /** Per inflight kill: handles the server sent (so committed) that no client received. */
    const handlesLost: number[] = [];
    let finished = false;
    const run = Promise.all(drivers.map((d) => d.run())).finally(() => (finished = true));
    // Keep the rejection observable without an unhandled-rejection warning while the kills run.
    run.catch(() => undefined);

    const killAndRestart = async (kind: KillKind, note: string): Promise<void> => {
      const at = progress();
      bin.child.kill('SIGKILL');
      await bin.exited;
      const held = via.dropAll();
      if (kind === 'inflight') {
        const lost = held.toString('latin1').split('"newHandle"').length - 1;
        handlesLost.push(lost);
        note += `; ${held.length} bytes held back, ${lost} handles among them`;
      }
      if (lockDb) {
        lockDb.exec('ROLLBACK');
        lockDb.close();
        lockDb = undefined;
      }
      kills.push({ kind, atProgress: at, note });
      setupsSinceStart = 0;
      // Same port and store: clients reconnect to the URL they know.
      bin = startBin(args(port));
      assert.equal(await bin.listening, url);
    };

    for (const kill of schedule) {
      if (finished) break;
      if (kill.kind === 'resume') {
        // Sessions are reconnecting to the server just restarted: kill it once r of them are in.
        const r = 1 + Math.floor(rand() * 6);
        const hit = await until(() => finished || setupsSinceStart >= r, 5000);
        if (finished) break;
        await killAndRestart('resume', hit ? `after ${setupsSinceStart} of ${drivers.length} sessions had set up again` : 'timed out waiting for setups');
        continue;
      }
      await until(() => finished || progress() >= kill.at, 30_000);
      if (finished) break;
      if (kill.kind === 'stream') {
        await sleep(Math.floor(rand() * 3 * CHUNK_DELAY_MS));
        if (finished) break;
        await killAndRestart('stream', `${drivers.filter((d) => d.done < TURNS).length} sessions unfinished`);
      } else if (kill.kind === 'inflight') {
        // The server keeps answering and committing; none of it reaches the clients.
        via.freeze();
        await sleep(25 + Math.floor(rand() * 40));
        await killAndRestart('inflight', 'frames held back for the last moments');
      } else {
        // Hold SQLite's write lock from this process: the server's next checkpoint commit stalls
        // in its busy wait for the lock (as it would behind a slow fsync), after turnComplete went
        // out and before the handle. Kill it there. If the server happened to stall on another write first (a
        // resume's lease), no session waits for a handle: let go and try again.
        const stalledNow = (): number => drivers.filter((d) => d.awaitingHandleSince !== undefined && Date.now() - d.awaitingHandleSince >= 40).length;
        let stalled = 0;
        for (let attempt = 0; attempt < 5 && !finished && stalled === 0; attempt++) {
          lockDb = new Database(storeFile);
          lockDb.exec('BEGIN IMMEDIATE');
          await until(() => finished || stalledNow() > 0, 1000);
          stalled = stalledNow();
          if (stalled === 0 && attempt < 4) {
            lockDb.exec('ROLLBACK');
            lockDb.close();
            lockDb = undefined;
            await sleep(50);
          }
        }
        if (finished) break;
        commitStalls.push(stalled);
        await killAndRestart('commit', `${stalled} sessions had turnComplete but no handle (commit in progress)`);
      }
    }
    if (lockDb) {
      lockDb.exec('ROLLBACK');
      lockDb.close();
      lockDb = undefined;
    }
    await run.catch((err: unknown) => {
      throw new Error(failWith(err instanceof Error ? err.message : String(err)));
    });

    for (const k of kills) t.diagnostic(`kill ${k.kind} at ${(k.atProgress * 100).toFixed(0)}% of turns: ${k.note}`);
    const sum = (key: keyof DriverStats): number => drivers.reduce((n, d) => n + d.stats[key], 0);
    t.diagnostic(
      `connects ${sum('connects')} (${sum('failedConnects')} failed while the server was down), ` +
        `connections lost mid-stream ${sum('lostMidStream')}, turns re-sent ${sum('resent')} ` +
        `(${sum('resentAfterTurnComplete')} after their turnComplete, before their handle), ` +
        `transparent messages replayed ${rawDrivers.reduce((n, d) => n + d.stats.replayed, 0)}`,
    );
    assert.ok(kills.length >= 3, failWith(`at least 3 kills happened during the run (got ${kills.length})`));
    assert.ok(sum('lostMidStream') > 0, failWith('some kill landed inside a turn'));
    assert.ok(commitStalls.every((n) => n > 0), failWith(`every commit kill hit a stalled commit (${commitStalls.join(', ')})`));
    assert.ok(handlesLost.every((n) => n > 0), failWith(`every inflight kill lost committed handles (${handlesLost.join(', ')})`));

    // The live server (restarted after the last kill) holds every session.
    for (const d of drivers) {
      const { context } = await contextOf(url, d.id!);
      assert.deepEqual(context, expectedContext(d.name), failWith(`session ${d.name} (${d.id}), live`));
    }
    // Once more from the store alone: leave, kill, restart, read through the control API.
    await Promise.all(drivers.map((d) => d.close()));
    await killAndRestart('stream', 'final: after every client left');
    for (const d of drivers) {
      const { connected, context } = await contextOf(url, d.id!);
      assert.equal(connected, false);
      assert.deepEqual(context, expectedContext(d.name), failWith(`session ${d.name} (${d.id}), from the store after a restart`));
    }
    bin.child.kill('SIGTERM');
    assert.equal(await bin.exited, 0, 'a drain with no connections exits 0');
  } finally {
    if (hooks) hooks.stopped = true;
    if (lockDb?.open) lockDb.close();
    await relay?.close();
    if (bin.child.exitCode === null && bin.child.signalCode === null) bin.child.kill('SIGKILL');
    await bin.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
