/** Plain-text table and number formatting for the bench report. */

export type Row = readonly string[];

/** Left-aligns the first column and right-aligns the rest; a row of `null` draws a rule. */
export function renderTable(header: Row, rows: readonly (Row | null)[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r ? (r[i] ?? '').length : 0))));
  const cell = (text: string, i: number): string => (i === 0 ? text.padEnd(widths[i]!) : text.padStart(widths[i]!));
  const line = (r: Row): string => `| ${r.map((c, i) => cell(c, i)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(header), rule, ...rows.map((r) => (r ? line(r) : rule))].join('\n');
}

/** Milliseconds (from performance.now differences) as microseconds. */
export function us(ms: number): string {
  return Number.isFinite(ms) ? `${Math.round(ms * 1000)} µs` : 'n/a';
}

export function kib(bytes: number, digits = 1): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(digits)} KiB` : 'n/a';
}

export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  return `${(a / b).toFixed(2)}x`;
}
