/**
 * Messages collapsed into runs of one shape, and two run sequences aligned by their longest
 * common subsequence. Runs, not messages, are compared because how many audio or text chunks a
 * reply takes varies (voice, chunking, timing) while the order of kinds of message does not.
 */
import { shapeKey, shapeOf, type Shape } from './shape.js';

export interface Run {
  readonly shape: Shape;
  readonly key: string;
  /** 0-based index of the run's first message in its connection. */
  readonly first: number;
  count: number;
}

/** Consecutive messages of equal shape become one run. */
export function toRuns(messages: readonly unknown[]): Run[] {
  const runs: Run[] = [];
  messages.forEach((m, i) => {
    const shape = shapeOf(m);
    const key = shapeKey(shape);
    const last = runs[runs.length - 1];
    if (last && last.key === key) last.count++;
    else runs.push({ shape, key, first: i, count: 1 });
  });
  return runs;
}

/**
 * Where each message count falls in the run sequence: `runPositions(runs)[n]` is the run count
 * and the count within the last run after n messages (`[0, 0]` for none).
 */
export function runPositions(runs: readonly Run[]): [runs: number, inLast: number][] {
  const out: [number, number][] = [[0, 0]];
  runs.forEach((r, i) => {
    for (let c = 1; c <= r.count; c++) out.push([i + 1, c]);
  });
  return out;
}

export type Aligned =
  | { readonly kind: 'same'; readonly expected: Run; readonly got: Run }
  | { readonly kind: 'missing'; readonly expected: Run }
  | { readonly kind: 'extra'; readonly got: Run };

/**
 * Beyond this many cells the quadratic table is not built (about 64 MB): the middle part that
 * differs is then paired position by position, which reports more differences but still ends.
 */
const MAX_TABLE_CELLS = 16_000_000;

/** Aligns two run sequences: runs in the longest common subsequence are `same`, the rest not. */
export function alignRuns(expected: readonly Run[], got: readonly Run[]): Aligned[] {
  // Common ends first: a replay that differs in one place costs a table the size of that place.
  let head = 0;
  while (head < expected.length && head < got.length && expected[head]!.key === got[head]!.key) head++;
  let tail = 0;
  while (
    tail < expected.length - head &&
    tail < got.length - head &&
    expected[expected.length - 1 - tail]!.key === got[got.length - 1 - tail]!.key
  )
    tail++;
  const out: Aligned[] = [];
  for (let i = 0; i < head; i++) out.push({ kind: 'same', expected: expected[i]!, got: got[i]! });
  const a = expected.slice(head, expected.length - tail);
  const b = got.slice(head, got.length - tail);
  out.push(...alignMiddle(a, b));
  for (let i = tail; i > 0; i--) out.push({ kind: 'same', expected: expected[expected.length - i]!, got: got[got.length - i]! });
  return out;
}

function alignMiddle(a: readonly Run[], b: readonly Run[]): Aligned[] {
  const n = a.length;
  const m = b.length;
  const out: Aligned[] = [];
  if ((n + 1) * (m + 1) > MAX_TABLE_CELLS) {
    for (let i = 0; i < Math.max(n, m); i++) {
      if (i < n && i < m && a[i]!.key === b[i]!.key) out.push({ kind: 'same', expected: a[i]!, got: b[i]! });
      else {
        if (i < n) out.push({ kind: 'missing', expected: a[i]! });
        if (i < m) out.push({ kind: 'extra', got: b[i]! });
      }
    }
    return out;
  }
  // lcs[i][j]: length of the LCS of a[i..] and b[j..], so the walk below goes forwards.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i]!.key === b[j]!.key ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i]!.key === b[j]!.key) {
      out.push({ kind: 'same', expected: a[i++]!, got: b[j++]! });
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) {
      out.push({ kind: 'missing', expected: a[i++]! });
    } else {
      out.push({ kind: 'extra', got: b[j++]! });
    }
  }
  while (i < n) out.push({ kind: 'missing', expected: a[i++]! });
  while (j < m) out.push({ kind: 'extra', got: b[j++]! });
  return out;
}
