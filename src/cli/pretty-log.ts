/**
 * Pino's JSON lines turned into short lines a person reads in a terminal:
 * `12:04:05.123 INFO  [c1 6f2a9c1e] session started model=… modality=AUDIO`.
 *
 * A formatter of our own rather than pino-pretty: it is a page of code, runs synchronously in the
 * process (no worker thread that could lose the last lines at exit), adds no dependency tree, and it
 * can leave out the fields a person does not need while the JSON lines keep them all.
 */

/** Something a log line can be written to: process.stdout, or a test's stream. */
export interface LineSink {
  write(text: string): unknown;
}

const LEVELS: Record<number, { label: string; color: string }> = {
  10: { label: 'TRACE', color: '90' },
  20: { label: 'DEBUG', color: '36' },
  30: { label: 'INFO', color: '32' },
  40: { label: 'WARN', color: '33' },
  50: { label: 'ERROR', color: '31' },
  60: { label: 'FATAL', color: '35' },
};

/**
 * Fields left out of the human line: pino's own, those shown elsewhere on the line (conn and
 * session go in the tag), and settings of the start-up line that rarely matter at a glance.
 */
const HIDDEN = new Set([
  'level',
  'time',
  'msg',
  'pid',
  'hostname',
  'name',
  'v',
  'conn',
  'session',
  'engine',
  'tokenizer',
  'clock',
  'strict',
  'apiKeys',
  'apiVersion',
  'credential',
  'openaiApiKey',
  'upstreamApiKey',
]);

/** Longer values are cut: the JSON format has them whole. */
const MAX_VALUE_CHARS = 160;

export interface PrettyOptions {
  /** ANSI colours for the level and the fields. */
  readonly color: boolean;
}

/** One pino entry as one human line (no newline). */
export function formatEntry(entry: Record<string, unknown>, options: PrettyOptions): string {
  const level = LEVELS[Number(entry.level)] ?? { label: String(entry.level ?? '?').toUpperCase(), color: '0' };
  const paint = (code: string, text: string): string => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const time = typeof entry.time === 'number' ? clockTime(new Date(entry.time)) : '';
  const message = typeof entry.msg === 'string' ? entry.msg : '';
  const tag = connectionTag(entry.conn, entry.session);
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (HIDDEN.has(key) || value === undefined || value === null) continue;
    const shown = formatValue(value);
    // A value the message already spells out (the URL of the start-up line) is not repeated; short
    // ones could appear in the message by chance.
    if (typeof value === 'string' && value.length >= 8 && message.includes(value)) continue;
    fields.push(`${key}=${shown}`);
  }
  const head = `${paint('2', time)} ${paint(level.color, level.label.padEnd(5))} ${tag ? `${paint('2', tag)} ` : ''}${message}`;
  return fields.length > 0 ? `${head} ${paint('2', fields.join(' '))}` : head;
}

/**
 * A pino destination that writes human lines to `out`. Pino hands it one serialized entry per
 * call; anything that does not parse is passed on as it came rather than lost.
 */
export function prettyDestination(out: LineSink, options: PrettyOptions): { write(chunk: string): void } {
  return {
    write(chunk: string): void {
      for (const line of chunk.split('\n')) {
        if (line === '') continue;
        let entry: unknown;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = undefined;
        }
        out.write(`${entry && typeof entry === 'object' ? formatEntry(entry as Record<string, unknown>, options) : line}\n`);
      }
    },
  };
}

function connectionTag(conn: unknown, session: unknown): string {
  const parts: string[] = [];
  if (typeof conn === 'string') parts.push(conn);
  // The first 8 characters tell sessions apart on a screen; the JSON lines carry the whole id.
  if (typeof session === 'string') parts.push(session.slice(0, 8));
  return parts.length > 0 ? `[${parts.join(' ')}]` : '';
}

function formatValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

function clockTime(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
