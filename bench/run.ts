/**
 * relive's benchmark suite: `npm run bench` (or `node --expose-gc dist/bench/run.js`).
 *
 * Every figure is printed next to a baseline measured in the same run on the same machine, and
 * compared as a ratio; latencies are medians and p99s over thousands of samples. Loopback only;
 * every loop is bounded and every wait has a timeout; a watchdog ends the run if anything hangs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureHandover, type HandoverResults } from './client-handover.js';
import { clusterResumeReport, commitRateReport, measureClusterResume, measureCommitRate } from './cluster.js';
import { measureVoiceCapacity, type VoiceStep } from './voice-capacity.js';
import { measureGatewayOverhead, type GatewayResults } from './gateway-overhead.js';
import { measureHistoryCost, type HistoryResults } from './history-cost.js';
import { measureIdleMemory, type IdleResult } from './idle-memory.js';
import { measureOpenLatency, type OpenResults } from './open-latency.js';
import { measureResume, type ResumeResults } from './resume.js';
import { median, summarize } from './stats.js';
import { kib, ratio, renderTable, us, type Row } from './table.js';
import { measureTokenCount, type TokenCountResults } from './token-count.js';
import { measureTurnOverhead, type TurnResults } from './turn-overhead.js';

/** Idle sessions held open at once; RELIVE_BENCH_SESSIONS overrides it (e.g. for a quick look). */
const SESSIONS = Math.max(100, Math.floor(Number(process.env.RELIVE_BENCH_SESSIONS ?? 5000)) || 5000);
const TURNS = { warmup: 200, turns: 2000, blocks: 10 };
const IDLE = { concurrency: 200, warmup: 500 };
const HISTORY = { shortTokens: 1000, longTokens: 1_000_000, turnTokens: 250, turnsPerFrame: 1000, warmup: 500, blocks: 100, perBlock: 40 };
const OPEN = { warmup: 200, blocks: 10, perBlock: 50 };
const RESUME = {
  pool: 64,
  historyTurns: 10,
  warmup: 100,
  blocks: 20,
  perBlock: 50,
  sequentialCycles: 1000,
  concurrentCycles: 2000,
  inFlight: 16,
  commits: { warmup: 100, blocks: 10, perBlock: 200 },
};
const CLUSTER_RESUME = { warmup: 10, blocks: 5, perBlock: 40 };
const COMMIT_RATE = { sessions: [1, 32], windows: 3, windowMs: 1000, warmupMs: 300 };
const HANDOVER = { handovers: 50, goAwayEveryMs: 250 };
const GATEWAY = { warmup: 200, blocks: 10, perBlock: 100 };
const VOICE = { seconds: 4, chunkMs: 40, limitMs: 20, vadSteps: [25, 50, 100, 150, 200, 300], plainSteps: [250, 500, 1000, 2000] };
const TOKENS = { warmup: 50, blocks: 20, perBlock: 1000 };
const WATCHDOG_MS = 9 * 60_000;
const FD_HEADROOM = 256;
const REEXEC_FLAG = 'RELIVE_BENCH_FD_RAISED';

/** The soft open-files limit this process runs under (children inherit it). */
function fdLimit(): number {
  try {
    const out = execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out);
  } catch {
    return Number.NaN;
  }
}

/**
 * 5,000 client sockets live here and 5,000 server sockets in the child, so each process needs
 * more descriptors than the common default of 1024. Raise the soft limit by running again under
 * `ulimit -n` (up to the hard limit) and exiting with its status. Runs at most once.
 */
function reexecWithMoreFds(limit: number): void {
  if (!(limit < SESSIONS + FD_HEADROOM) || process.env[REEXEC_FLAG]) return;
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(
    'bash',
    ['-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'bash', process.execPath, ...process.execArgv, script, ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, [REEXEC_FLAG]: String(limit) } },
  );
  process.exit(r.status ?? 1);
}

/** The filesystem type of `path` (from df), for the fsync-bound rows. */
function fsType(path: string): string {
  try {
    const out = execFileSync('df', ['-T', path], { encoding: 'utf8' }).trim().split('\n');
    return out[out.length - 1]?.split(/\s+/)[1] ?? 'unknown filesystem';
  } catch {
    return 'unknown filesystem';
  }
}

function machine(limit: number): string {
  const c = cpus();
  const raisedFrom = process.env[REEXEC_FLAG];
  return [
    `cpu:   ${c[0]?.model.trim() ?? 'unknown'} (${c.length} logical cores, ${availableParallelism()} available)`,
    `node:  ${process.version} (${process.platform}/${process.arch}), ws ${wsVersion()}, RAM ${(totalmem() / 2 ** 30).toFixed(1)} GiB, open-files limit ${limit}${raisedFrom && Number(raisedFrom) !== limit ? ` (raised from ${raisedFrom})` : ''}`,
  ].join('\n');
}

function wsVersion(): string {
  try {
    const main = createRequire(import.meta.url).resolve('ws');
    return (JSON.parse(readFileSync(join(dirname(main), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function count(x: number): string {
  return x.toLocaleString('en-US');
}

function met(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}

function turnRows(t: TurnResults): Row[] {
  const first = summarize(t.relive.first);
  const full = summarize(t.relive.full);
  const cannedFull = summarize(t.canned.full);
  const echo = summarize(t.echo);
  const target = 3;
  return [
    ['turn: send → first serverContent, p50', us(first.p50), us(echo.p50), ratio(first.p50, echo.p50), `≤ ${target}x ${met(first.p50 / echo.p50 <= target)}`],
    ['turn: send → first serverContent, p99', us(first.p99), us(echo.p99), ratio(first.p99, echo.p99), '—'],
    ['full turn: send → turnComplete, p50', us(full.p50), us(echo.p50), ratio(full.p50, echo.p50), '—'],
    ['full turn: send → turnComplete, p99', us(full.p99), us(echo.p99), ratio(full.p99, echo.p99), '—'],
    ['full turn vs same frames replayed, p50', us(full.p50), us(cannedFull.p50), ratio(full.p50, cannedFull.p50), '—'],
    ['full turn vs same frames replayed, p99', us(full.p99), us(cannedFull.p99), ratio(full.p99, cannedFull.p99), '—'],
  ];
}

function historyRows(h: HistoryResults): Row[] {
  const lf = summarize(h.long.first);
  const sf = summarize(h.short.first);
  const lt = summarize(h.long.full);
  const st = summarize(h.short.full);
  const target = 1.1;
  const goal = (a: number, b: number): string => `≤ ${target.toFixed(2)}x ${met(a / b <= target)}`;
  return [
    ['1M- vs 1k-token history: → first serverContent, p50', us(lf.p50), us(sf.p50), ratio(lf.p50, sf.p50), goal(lf.p50, sf.p50)],
    ['1M- vs 1k-token history: → first serverContent, p99', us(lf.p99), us(sf.p99), ratio(lf.p99, sf.p99), '—'],
    ['1M- vs 1k-token history: → turnComplete, p50', us(lt.p50), us(st.p50), ratio(lt.p50, st.p50), goal(lt.p50, st.p50)],
    ['1M- vs 1k-token history: → turnComplete, p99', us(lt.p99), us(st.p99), ratio(lt.p99, st.p99), '—'],
  ];
}

function openRows(o: OpenResults): Row[] {
  const ro = summarize(o.relive);
  const bo = summarize(o.bare);
  return [
    ['open: connect → setupComplete, p50', us(ro.p50), us(bo.p50), ratio(ro.p50, bo.p50), '—'],
    ['open: connect → setupComplete, p99', us(ro.p99), us(bo.p99), ratio(ro.p99, bo.p99), '—'],
  ];
}

function perSecond(x: number): string {
  return Number.isFinite(x) ? `${count(Math.round(x))}/s` : 'n/a';
}

function resumeRows(r: ResumeResults): Row[] {
  const res = summarize(r.resume);
  const fresh = summarize(r.fresh);
  const bare = summarize(r.bare);
  const commit = summarize(r.commit);
  const insert = summarize(r.insert);
  const targetMs = 5;
  const { sequential, concurrent } = r.rate;
  return [
    ['resume (SQLite): connect → setupComplete, p50', us(res.p50), us(fresh.p50), ratio(res.p50, fresh.p50), '—'],
    ['resume (SQLite): connect → setupComplete, p99', us(res.p99), us(fresh.p99), ratio(res.p99, fresh.p99), `≤ ${targetMs} ms ${met(res.p99 <= targetMs)}`],
    ['resume vs bare ws connect → ack, p50', us(res.p50), us(bare.p50), ratio(res.p50, bare.p50), '—'],
    ['resume vs bare ws connect → ack, p99', us(res.p99), us(bare.p99), ratio(res.p99, bare.p99), '—'],
    ['checkpoint commit (SQLite, FULL), p50', us(commit.p50), us(insert.p50), ratio(commit.p50, insert.p50), '—'],
    ['checkpoint commit (SQLite, FULL), p99', us(commit.p99), us(insert.p99), ratio(commit.p99, insert.p99), '—'],
    ['sessions resumed per second, one at a time', perSecond(sequential.resume), perSecond(sequential.fresh), ratio(sequential.resume, sequential.fresh), '—'],
    [`sessions resumed per second, ${r.options.inFlight} in flight`, perSecond(concurrent.resume), perSecond(concurrent.fresh), ratio(concurrent.resume, concurrent.fresh), '—'],
  ];
}

function idleRows(relive: IdleResult, bare: IdleResult): Row[] {
  const target = 64 * 1024;
  const n = count(relive.sessions);
  return [
    [`idle memory/session, heap+external (${n})`, kib(relive.heapPlusExternal), kib(bare.heapPlusExternal), ratio(relive.heapPlusExternal, bare.heapPlusExternal), `≤ 64 KiB ${met(relive.heapPlusExternal <= target)}`],
    [`idle memory/session, RSS (${n})`, kib(relive.rss), kib(bare.rss), ratio(relive.rss, bare.rss), '—'],
  ];
}

function handoverRows(h: HandoverResults): Row[] {
  const r = summarize(h.resilient.gaps);
  const n = summarize(h.naive.gaps);
  const chunkMs = 100;
  const lost = (c: HandoverResults['resilient']): string =>
    `${(c.sentAudioSeconds - c.recordedAudioSeconds).toFixed(2)} s audio, ${c.sentTexts - c.recordedTexts} texts`;
  const nothingLost = h.resilient.sentTexts === h.resilient.recordedTexts && Math.abs(h.resilient.sentAudioSeconds - h.resilient.recordedAudioSeconds) < 1e-6;
  return [
    [`goAway handover: input lost (${h.resilient.gaps.length} handovers)`, lost(h.resilient), lost(h.naive), '—', `nothing lost ${met(nothingLost)}`],
    ['goAway handover: no serving connection, p50', us(r.p50), us(n.p50), ratio(r.p50, n.p50), '—'],
    ['goAway handover: no serving connection, p99', us(r.p99), us(n.p99), ratio(r.p99, n.p99), `≤ one ${chunkMs} ms chunk ${met(r.p99 <= chunkMs)}`],
  ];
}

function voiceRows(vad: readonly VoiceStep[], plain: readonly VoiceStep[]): Row[] {
  const best = (steps: readonly VoiceStep[]): VoiceStep | undefined => [...steps].reverse().find((s) => s.ok);
  const v = best(vad);
  const p = best(plain);
  const carried = (s: VoiceStep | undefined, steps: readonly VoiceStep[]): string =>
    s ? `${count(s.sessions)}${s === steps[steps.length - 1] ? '+' : ''}` : `< ${count(steps[0]?.sessions ?? 0)}`;
  const pct = (s: VoiceStep | undefined): string => (s ? `${s.cpuPerSessionPct.toFixed(2)} %` : 'n/a');
  return [
    ['real-time audio sessions per process, p99 ingest lag ≤ 20 ms', carried(v, vad), carried(p, plain), v && p ? ratio(v.sessions, p.sessions) : 'n/a', `VAD ≥ 200 ${met((v?.sessions ?? 0) >= 200)}; off ≥ 2,000 ${met((p?.sessions ?? 0) >= 2000)}`],
    ['CPU per streaming session (share of one core)', pct(v), pct(p), v && p ? ratio(v.cpuPerSessionPct, p.cpuPerSessionPct) : 'n/a', '—'],
  ];
}

function gatewayRows(g: GatewayResults): Row[] {
  const gf = summarize(g.gateway.first);
  const df = summarize(g.direct.first);
  const gt = summarize(g.gateway.full);
  const dt = summarize(g.direct.full);
  const goal = (a: number, b: number): string => `≤ 1.2x ${met(a / b <= 1.2)}`;
  return [
    ['gateway: message → first serverContent, p50', us(gf.p50), us(df.p50), ratio(gf.p50, df.p50), goal(gf.p50, df.p50)],
    ['gateway: message → first serverContent, p99', us(gf.p99), us(df.p99), ratio(gf.p99, df.p99), '—'],
    ['gateway: turn → turnComplete, p50', us(gt.p50), us(dt.p50), ratio(gt.p50, dt.p50), goal(gt.p50, dt.p50)],
    ['gateway: turn → turnComplete, p99', us(gt.p99), us(dt.p99), ratio(gt.p99, dt.p99), '—'],
  ];
}

function tokenRows(t: TokenCountResults): Row[] {
  const c = median(t.count);
  const b = median(t.baseline);
  return [['token count (o200k), one 300-char message, median of blocks', us(c), us(b), ratio(c, b), `< 2 ms ${met(c < 2)}`]];
}

function errorRow(what: string, err: unknown): Row {
  return [what, `error: ${err instanceof Error ? err.message : String(err)}`, '', '', ''];
}

async function main(): Promise<void> {
  const limit = fdLimit();
  reexecWithMoreFds(limit);
  const notes: string[] = [];
  let sessions = SESSIONS;
  if (limit < sessions + FD_HEADROOM) {
    sessions = Math.max(100, Math.floor(limit - FD_HEADROOM));
    notes.push(`open-files limit ${limit} could not be raised: idle sessions reduced to ${sessions} (run under \`ulimit -n 12000\` for ${SESSIONS}).`);
  }
  if (!(globalThis as { gc?: unknown }).gc) notes.push('run without --expose-gc: the client process cannot collect between blocks.');

  const watchdog = setTimeout(() => {
    console.error(`bench: watchdog fired after ${WATCHDOG_MS / 1000} s; giving up.`);
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();

  const started = performance.now();
  console.log('relive bench');
  console.log(machine(limit));
  console.log('');

  const rows: (Row | null)[] = [];
  const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

  try {
    log(`turn overhead: ${TURNS.warmup} warm-up + ${TURNS.turns} turns per server in ${TURNS.blocks} interleaved blocks…`);
    const t = await measureTurnOverhead(TURNS);
    rows.push(...turnRows(t));
    const b = t.relive.blockP50;
    notes.push(
      `relive answers one "ping" turn with ${t.frames.count} binary frames (${t.frames.bytes.join(' + ')} bytes); ` +
        `"same frames replayed" is a bare ws server sending those exact bytes with no logic.`,
      `relive first-frame p50 per block, first → last: ${b.map((x) => Math.round(x * 1000)).join(', ')} µs ` +
        `(one session whose history grows by 2 entries a turn).`,
    );
  } catch (err) {
    rows.push(errorRow('turn overhead', err));
  }
  rows.push(null);

  try {
    log(
      `history cost: sessions of ${count(HISTORY.longTokens)} and ${count(HISTORY.shortTokens)} tokens, ` +
        `${HISTORY.warmup} warm-up + ${HISTORY.blocks} × ${HISTORY.perBlock} turns each in alternating blocks…`,
    );
    const h = await measureHistoryCost(HISTORY);
    rows.push(...historyRows(h));
    const facts = (x: HistoryResults['long']): string =>
      `${count(x.tokensBefore)} tokens in ${count(x.turnsBefore)} turns (${x.frames} frame${x.frames === 1 ? '' : 's'}, largest ${kib(x.largestFrameBytes, 0)}, ` +
      `${x.charsPerToken.toFixed(2)} chars/token), ${count(x.tokensAfter)} tokens in ${count(x.turnsAfter)} turns at the end`;
    // Medians of each tenth of the run (the blocks are short: 100 of them would not read).
    const tenths = (x: readonly number[]): string =>
      Array.from({ length: 10 }, (_, i) => Math.round(median(x.slice(Math.floor((i * x.length) / 10), Math.floor(((i + 1) * x.length) / 10))) * 1000)).join(', ');
    notes.push(
      `history rows: two sessions on one relive server (2,000,000-token window, no compression), each prefilled by clientContent ` +
        `(turnComplete false); tokens.context from GET /relive/v1/sessions/{id} (o200k): 1M session ${facts(h.long)}; ` +
        `1k session ${facts(h.short)} (each measured turn adds the ping and its answer). ${h.long.first.length} ping turns per session ` +
        `in ${h.options.blocks} alternating blocks; prefill took ${((h.long.prefillMs + h.short.prefillMs) / 1000).toFixed(1)} s.`,
      `history rows, first-frame p50 per tenth of the run, first → last: 1M ${tenths(h.long.first)} µs; 1k ${tenths(h.short.first)} µs.`,
    );
  } catch (err) {
    rows.push(errorRow('history cost', err));
  }
  rows.push(null);

  try {
    log(`open latency: ${OPEN.blocks} interleaved blocks of ${OPEN.perBlock} sequential opens per server…`);
    const o = await measureOpenLatency(OPEN);
    rows.push(...openRows(o));
    notes.push(`open rows: sessions opened one at a time, connect → setupComplete (bare: → its 26-byte ack), ${o.relive.length} per server.`);
  } catch (err) {
    rows.push(errorRow('open latency', err));
  }
  rows.push(null);

  try {
    log(
      `resume: ${RESUME.pool} sessions of ${RESUME.historyTurns} turns on SQLite, ${RESUME.blocks} interleaved blocks of ${RESUME.perBlock} opens, ` +
        `${RESUME.sequentialCycles} + ${RESUME.concurrentCycles} cycles, ${RESUME.commits.blocks * RESUME.commits.perBlock} commits…`,
    );
    const r = await measureResume(RESUME);
    rows.push(...resumeRows(r));
    notes.push(
      `resume rows: relive on a SQLite file (WAL, synchronous=FULL) in ${tmpdir()} (${fsType(tmpdir())}); ${r.resume.length} resumes of ` +
        `sessions with ${RESUME.historyTurns} turns of history, one at a time, against ${r.fresh.length} new sessions on the same server; ` +
        `per-second rows count whole cycles (connect, setup, setupComplete, handle, close), ${RESUME.sequentialCycles} one at a time and ` +
        `${RESUME.concurrentCycles} with ${RESUME.inFlight} in flight.`,
      `commit rows: ${r.commit.length} Checkpointer.commit calls on a SqliteStore (2 new turns + 1 checkpoint row each) against as many ` +
        `single-row INSERTs into a plain WAL + synchronous=FULL file in the same directory; commit p50 per block, first → last: ` +
        `${r.commitBlockP50.map((x) => Math.round(x * 1000)).join(', ')} µs while the history grew to ${count(r.commitHistoryTurns)} turns.`,
    );
  } catch (err) {
    rows.push(errorRow('resume', err));
  }
  rows.push(null);

  try {
    log(
      `cluster resume: redis-server + 2 relive nodes + relive on SQLite, ${CLUSTER_RESUME.blocks} interleaved blocks of ${CLUSTER_RESUME.perBlock} ` +
        `resumes per kind (cross-node, same-node, takeover, SQLite)…`,
    );
    const r = clusterResumeReport(await measureClusterResume(CLUSTER_RESUME));
    rows.push(...r.rows);
    notes.push(r.note);
  } catch (err) {
    rows.push(errorRow('cluster resume', err));
  }
  rows.push(null);

  try {
    log(
      `checkpoint commits/s: ${COMMIT_RATE.sessions.join(' and ')} sessions on Redis (none, appendfsync always) and SQLite, ` +
        `${COMMIT_RATE.windows} × ${COMMIT_RATE.windowMs / 1000} s windows each…`,
    );
    const c = commitRateReport(await measureCommitRate(COMMIT_RATE), fsType(tmpdir()));
    rows.push(...c.rows);
    notes.push(c.note);
  } catch (err) {
    rows.push(errorRow('checkpoint commits/s', err));
  }
  rows.push(null);

  try {
    log(`idle memory: ${sessions} sessions to a bare ws server…`);
    const bare = await measureIdleMemory('bare', { sessions, ...IDLE });
    log(`idle memory: ${sessions} sessions to relive…`);
    const relive = await measureIdleMemory('relive-idle', { sessions, ...IDLE });
    rows.push(...idleRows(relive, bare));
    const split = (r: IdleResult): string => `heap ${kib(r.heapUsed)} + external ${kib(r.external)}`;
    notes.push(
      `per session: relive ${split(relive)}; bare ${split(bare)} (external includes arrayBuffers; ` +
        `server child after forced GC, minus the same after a ${IDLE.warmup}-session warm-up).`,
      `opening ${count(sessions)} sessions with ${IDLE.concurrency} handshakes in flight took ${(relive.openWallMs / 1000).toFixed(1)} s ` +
        `(bare: ${(bare.openWallMs / 1000).toFixed(1)} s); one run each, client on the same 2 cores, so only a rough figure.`,
    );
    if (relive.forcedCloses + bare.forcedCloses > 0) notes.push(`sockets that needed terminate() at the end: relive ${relive.forcedCloses}, bare ${bare.forcedCloses}.`);
  } catch (err) {
    rows.push(errorRow('idle memory', err));
  }

  rows.push(null);
  try {
    log(`client handover: ${HANDOVER.handovers} goAways, relive-gemini/client and a naive reconnect-after-close client…`);
    const h = await measureHandover(HANDOVER);
    rows.push(...handoverRows(h));
    notes.push(
      `handover rows: relive-gemini/client (relive column) against a naive client (baseline) that ignores goAway and resumes with its newest ` +
        `handle after the close, as apps on the SDK do; both stream 20 ms audio chunks every 20 ms plus a text turn every 200 ms, ` +
        `and relive (own process, memory store) gets a goAway (timeLeft 50 ms) every ${HANDOVER.goAwayEveryMs} ms. Lost input is what the ` +
        `app sent minus what the server's session record holds. Sent: ${h.resilient.sentAudioSeconds.toFixed(2)} s / ${h.naive.sentAudioSeconds.toFixed(2)} s of audio.`,
    );
  } catch (err) {
    rows.push(errorRow('client handover', err));
  }

  rows.push(null);
  try {
    log(`gateway overhead: ${GATEWAY.warmup} warm-up + ${GATEWAY.blocks} × ${GATEWAY.perBlock} turns through the gateway and direct…`);
    rows.push(...gatewayRows(await measureGatewayOverhead(GATEWAY)));
    notes.push(
      'gateway rows: relive with the gemini engine (own process) in front of an upstream relive (own process), against the same ' +
        'ping turns sent straight to that upstream (baseline), interleaved blocks; the gateway adds one WebSocket hop each way.',
    );
  } catch (err) {
    rows.push(errorRow('gateway overhead', err));
  }

  rows.push(null);
  try {
    log(`voice capacity: sessions streaming real-time audio, VAD on (steps ${VOICE.vadSteps.join(', ')}) and off (${VOICE.plainSteps.join(', ')})…`);
    const vad = await measureVoiceCapacity(true, { ...VOICE, steps: VOICE.vadSteps });
    const plain = await measureVoiceCapacity(false, { ...VOICE, steps: VOICE.plainSteps });
    rows.push(...voiceRows(vad, plain));
    const show = (s: VoiceStep): string =>
      `${s.sessions}: ingest p99 ${s.ingestP99Ms.toFixed(1)} ms, loop p99 ${s.loopDelayP99Ms.toFixed(1)} ms, ${s.cores.toFixed(2)} cores, client late ≤ ${s.clientLateMs.toFixed(0)} ms${s.ok ? '' : ' (over)'}`;
    notes.push(
      `voice rows: relive with Silero VAD (relive column) and with detection off (baseline), a fresh server child per step, each session sending ` +
        `${VOICE.chunkMs} ms chunks of flite speech with 1 s pauses every ${VOICE.chunkMs} ms for ${VOICE.seconds} s; a step passes when the ingest lag ` +
        `(arrival → VAD done, or → counted) and the event-loop delay both stay ≤ ${VOICE.limitMs} ms at the p99. The client shares the machine's 2 cores.`,
      `VAD steps: ${vad.map(show).join('; ')}.`,
      `no-VAD steps: ${plain.map(show).join('; ')}.`,
    );
  } catch (err) {
    rows.push(errorRow('voice capacity', err));
  }

  rows.push(null);
  try {
    log(`token count: ${TOKENS.blocks} blocks of ${TOKENS.perBlock} 300-character messages…`);
    rows.push(...tokenRows(measureTokenCount(TOKENS)));
    notes.push(
      `token count row: TokenAccountant.part (o200k) on distinct 300-character messages in ${TOKENS.blocks} blocks of ${TOKENS.perBlock}, ` +
        'against Buffer.byteLength over the same kind of strings (a pass that reads every character), alternating blocks.',
    );
  } catch (err) {
    rows.push(errorRow('token count', err));
  }

  console.log(renderTable(['metric', 'relive', 'baseline', 'ratio', 'target'], rows));
  console.log('');
  console.log('baselines (each a bare `ws` server in its own process, loopback, relive\'s transport options):');
  console.log('  turn rows: an echo server, same message, send → echo received; "same frames replayed": a server');
  console.log('  answering with relive\'s exact reply bytes and no logic. open and memory rows: a server that');
  console.log('  answers the first message with a 26-byte frame and otherwise only holds the socket.');
  console.log('  resume rows: a NEW session opened on the same relive SQLite server (first pair and the per-second');
  console.log('  rows), the bare server above (second pair); commit rows: a plain better-sqlite3 single-row INSERT.');
  console.log('  cluster resume rows: the same resume on the same node of the same Redis (first two pairs), a');
  console.log('  relive on the SQLite store (third pair); commits/s rows: the same commits on a SqliteStore.');
  console.log('  history rows: the same ping turn in a session with a ~1,000-token history on the same relive server,');
  console.log('  interleaved with the ~1,000,000-token session\'s turns.');
  for (const n of notes) console.log(`- ${n}`);
  console.log(`- total bench time ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  clearTimeout(watchdog);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
