/**
 * Compares what a replay received with what the recording had, connection by connection: the run
 * sequences of message shapes (aligned, so one extra message is one difference, not a cascade),
 * the close, and what went wrong on the way (waits given up, handles or call ids never received).
 */
import type { RecordedClose, Recording } from './recording.js';
import type { ReplayClose, ReplayedConnection } from './replayer.js';
import { alignRuns, toRuns, type Run } from './runs.js';
import { shapeDelta, shapeLabel } from './shape.js';
import type { SubstitutionKind } from './substitutions.js';

export interface RunRef {
  /** 1-based number of the run's first message among the connection's server messages. */
  readonly message: number;
  /** Messages in the run (consecutive messages of this shape). */
  readonly count: number;
  readonly label: string;
  readonly shape: readonly string[];
}

export type Difference =
  /** A recorded run whose place the replay filled with a run of another shape. */
  | { readonly kind: 'changed'; readonly expected: RunRef; readonly got: RunRef; readonly missingPaths: string[]; readonly extraPaths: string[] }
  /** Consecutive recorded runs the replay did not receive; `gotAt`: the replay message number they belonged before. */
  | { readonly kind: 'missing'; readonly expected: RunRef[]; readonly gotAt: number }
  /** Consecutive runs only the replay received; `expectedAt`: the recorded message number they came before. */
  | { readonly kind: 'extra'; readonly got: RunRef[]; readonly expectedAt: number }
  | { readonly kind: 'close'; readonly expected: RecordedClose; readonly got: ReplayClose | undefined }
  | { readonly kind: 'open'; readonly error: string }
  | { readonly kind: 'timeout'; readonly before: string; readonly expected: number; readonly received: number }
  | { readonly kind: 'substitution'; readonly what: SubstitutionKind; readonly recorded: string; readonly fromConnection: number; readonly ordinal: number };

export interface ConnectionReport {
  /** 1-based, in the order the recording opened them. */
  readonly connection: number;
  /** The recording server's connection id. */
  readonly conn: string;
  readonly path: string;
  readonly sessionId: string | undefined;
  readonly url: string;
  readonly recorded: { readonly messages: number; readonly runs: number; readonly clientFrames: number; readonly close: RecordedClose | undefined };
  readonly replayed: { readonly messages: number; readonly runs: number; readonly notSent: number; readonly close: ReplayClose | undefined };
  readonly differences: Difference[];
}

export interface ReplayReport {
  readonly file: string;
  readonly url: string;
  readonly connections: ConnectionReport[];
  /** Total over every connection; the exit code is 1 when it is not 0. */
  readonly differences: number;
  readonly warnings: string[];
}

function ref(run: Run): RunRef {
  return { message: run.first + 1, count: run.count, label: shapeLabel(run.shape), shape: run.shape };
}

/** The shape differences of one connection: aligned runs, adjacent missing/extra paired as changed. */
export function shapeDifferences(expectedMessages: readonly unknown[], gotMessages: readonly unknown[]): Difference[] {
  const aligned = alignRuns(toRuns(expectedMessages), toRuns(gotMessages));
  const out: Difference[] = [];
  // Where the next recorded and replayed messages are, for the positions of unpaired runs.
  let nextExpected = 1;
  let nextGot = 1;
  let i = 0;
  while (i < aligned.length) {
    const a = aligned[i]!;
    if (a.kind === 'same') {
      nextExpected = a.expected.first + a.expected.count + 1;
      nextGot = a.got.first + a.got.count + 1;
      i++;
      continue;
    }
    // A hunk: everything up to the next run both have.
    const missing: Run[] = [];
    const extra: Run[] = [];
    for (; i < aligned.length && aligned[i]!.kind !== 'same'; i++) {
      const x = aligned[i]!;
      if (x.kind === 'missing') missing.push(x.expected);
      else if (x.kind === 'extra') extra.push(x.got);
    }
    const paired = Math.min(missing.length, extra.length);
    for (let k = 0; k < paired; k++) {
      const delta = shapeDelta(missing[k]!.shape, extra[k]!.shape);
      out.push({ kind: 'changed', expected: ref(missing[k]!), got: ref(extra[k]!), missingPaths: delta.missing, extraPaths: delta.extra });
    }
    const gotAt = extra.length > 0 ? extra[extra.length - 1]!.first + extra[extra.length - 1]!.count + 1 : nextGot;
    const expectedAt = missing.length > 0 ? missing[missing.length - 1]!.first + missing[missing.length - 1]!.count + 1 : nextExpected;
    // Unpaired runs of a hunk are one difference: a server that stopped early is one finding.
    if (missing.length > paired) out.push({ kind: 'missing', expected: missing.slice(paired).map(ref), gotAt });
    if (extra.length > paired) out.push({ kind: 'extra', got: extra.slice(paired).map(ref), expectedAt });
    nextExpected = expectedAt;
    nextGot = gotAt;
  }
  return out;
}

function sameClose(expected: RecordedClose, got: ReplayClose | undefined): boolean {
  return got !== undefined && got.code === expected.code && got.initiatedBy === expected.initiatedBy && got.reason === expected.reason;
}

export function compareReplay(file: string, url: string, recording: Recording, replayed: readonly ReplayedConnection[]): ReplayReport {
  const connections = recording.connections.map((rec): ConnectionReport => {
    const got = replayed[rec.index]!;
    const differences: Difference[] = [];
    if (got.openError !== undefined) differences.push({ kind: 'open', error: got.openError });
    else {
      for (const t of got.timeouts) differences.push({ kind: 'timeout', ...t });
      for (const m of got.misses) differences.push({ kind: 'substitution', what: m.kind, recorded: m.recorded, fromConnection: m.connection + 1, ordinal: m.ordinal + 1 });
      differences.push(...shapeDifferences(rec.serverMessages, got.messages));
      // A recording cut before the close has nothing to compare the replay's close with.
      if (rec.close && !sameClose(rec.close, got.close)) differences.push({ kind: 'close', expected: rec.close, got: got.close });
    }
    return {
      connection: rec.index + 1,
      conn: rec.conn,
      path: rec.path,
      sessionId: rec.sessionId,
      url: got.url,
      recorded: { messages: rec.serverMessages.length, runs: toRuns(rec.serverMessages).length, clientFrames: rec.clientFrames, close: rec.close },
      replayed: { messages: got.messages.length, runs: toRuns(got.messages).length, notSent: got.notSent, close: got.close },
      differences,
    };
  });
  return {
    file,
    url,
    connections,
    differences: connections.reduce((n, c) => n + c.differences.length, 0),
    warnings: recording.warnings,
  };
}

const times = (n: number): string => (n > 1 ? ` ×${n}` : '');
const closeText = (c: RecordedClose | ReplayClose | undefined): string =>
  c ? `${c.code}${c.code === 1005 ? ' (no status)' : c.code === 1006 ? ' (dropped)' : ''}${c.reason ? ` ${JSON.stringify(c.reason)}` : ''} by the ${c.initiatedBy}` : 'none';
const ellipsis = (s: string, max = 24): string => (s.length > max ? `${s.slice(0, max)}…` : s);

function describe(d: Difference): string[] {
  switch (d.kind) {
    case 'changed':
      return [
        `server message #${d.expected.message} (replay #${d.got.message}): expected ${d.expected.label}${times(d.expected.count)}, got ${d.got.label}${times(d.got.count)}`,
        ...(d.missingPaths.length > 0 ? [`  missing: ${d.missingPaths.join(', ')}`] : []),
        ...(d.extraPaths.length > 0 ? [`  extra:   ${d.extraPaths.join(', ')}`] : []),
      ];
    case 'missing':
      return [`server ${span(d.expected)} not received (replay #${d.gotAt} onwards): ${runList(d.expected)}`];
    case 'extra':
      return [`replay ${span(d.got)} unexpected (the recording has none before #${d.expectedAt}): ${runList(d.got)}`];
    case 'close':
      return [`close: expected ${closeText(d.expected)}, got ${closeText(d.got)}`];
    case 'open':
      return [`connect: ${d.error}`];
    case 'timeout':
      return [`waited in vain before ${d.before}: the recording had ${d.expected} server message(s) on this connection by then, the replay ${d.received}`];
    case 'substitution':
      return [
        `${d.what === 'handle' ? 'resumption handle' : 'function call id'} ${ellipsis(d.recorded)} sent as recorded: the replay never received the ${ordinal(d.ordinal)} one on connection ${d.fromConnection}`,
      ];
  }
}

/** `message #4`, or `messages #4–#9` for several runs or a run of several messages. */
function span(runs: readonly RunRef[]): string {
  const first = runs[0]!.message;
  const last = runs[runs.length - 1]!;
  const end = last.message + last.count - 1;
  return end === first ? `message #${first}` : `messages #${first}–#${end}`;
}

function runList(runs: readonly RunRef[]): string {
  const shown = runs.slice(0, 8).map((r) => `${r.label}${times(r.count)}`);
  return runs.length > 8 ? `${shown.join(', ')}, … (${runs.length} runs)` : shown.join(', ');
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** The report for people: one paragraph per connection, each difference on its own line. */
export function formatReport(report: ReplayReport): string {
  const lines: string[] = [];
  const n = report.connections.length;
  lines.push(
    `relive replay: ${report.file} against ${report.url}: ${n} connection${n === 1 ? '' : 's'}, ` +
      (report.differences === 0 ? 'no differences' : `${report.differences} difference${report.differences === 1 ? '' : 's'}`),
  );
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  for (const c of report.connections) {
    const session = c.sessionId ? `, session ${c.sessionId}` : '';
    lines.push('');
    lines.push(
      `connection ${c.connection} (recorded ${c.conn}${session}): recorded ${c.recorded.messages} server message(s) in ${c.recorded.runs} run(s), ` +
        `received ${c.replayed.messages} in ${c.replayed.runs}; close ${closeText(c.replayed.close)}` +
        (c.replayed.notSent > 0 ? `; ${c.replayed.notSent} client frame(s) not sent: the connection was closed` : '') +
        (c.differences.length === 0 ? ' — as recorded' : ''),
    );
    for (const d of c.differences) for (const l of describe(d)) lines.push(`  ${l}`);
  }
  return `${lines.join('\n')}\n`;
}
