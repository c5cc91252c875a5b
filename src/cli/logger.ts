/**
 * The logger of the `relive` command: short human lines on a terminal, pino JSON lines for
 * machines (log collectors, pipes, files). Kept apart from main.ts so every command builds it alike.
 */
import { pino, type Level, type Logger } from 'pino';
import { prettyDestination } from './pretty-log.js';

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The parts of process.stdout the choice looks at. */
export interface LogOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  hasColors?(): boolean;
}

export interface CliLoggerOptions {
  readonly level: Level | 'silent';
  /** Forced format; undefined: pretty when `out` is a terminal, JSON lines otherwise. */
  readonly format?: LogFormat;
  /** Default process.stdout. */
  readonly out?: LogOutput;
}

export function createCliLogger(options: CliLoggerOptions): { logger: Logger; format: LogFormat } {
  const out = options.out ?? process.stdout;
  const format = options.format ?? (out.isTTY === true ? 'pretty' : 'json');
  const settings = { name: 'relive', level: options.level };
  if (format === 'json') {
    // pino's own synchronous stdout writer when writing to stdout: the JSON lines stay as they were.
    return { logger: out === process.stdout ? pino(settings) : pino(settings, out as { write(text: string): void }), format };
  }
  // hasColors() honours NO_COLOR, FORCE_COLOR and TERM; a stream that is no terminal gets none.
  const color = out.isTTY === true && (out.hasColors?.() ?? false);
  return { logger: pino(settings, prettyDestination(out, { color })), format };
}

/** `--log-format` or RELIVE_LOG_FORMAT, checked; undefined when neither is set. */
export function logFormatOption(value: string | undefined, source: string): LogFormat | undefined {
  if (value === undefined) return undefined;
  if (!(LOG_FORMATS as readonly string[]).includes(value)) {
    throw new Error(`${source} must be pretty or json; got ${JSON.stringify(value)}`);
  }
  return value as LogFormat;
}
