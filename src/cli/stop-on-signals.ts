/**
 * How `relive serve` stops. The first SIGTERM or SIGINT drains (goAway to every connection, new
 * ones refused, closed at the notice's deadline) so that an orchestrator's rolling deploy loses no
 * session; a second signal closes at once. A person at a terminal who presses Ctrl-C is told what
 * the wait is for and how to skip it: otherwise a connected client holds the process for the
 * whole notice (50 s by default) with no word said.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';

/** The parts of a ReliveServer that stopping uses. */
export interface Stoppable {
  /** Open connections now. */
  readonly connections: number;
  drain(noticeMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface StopSettings {
  /** The goAway notice of the drain; undefined: the server's goAway notice. */
  readonly drainNoticeMs: number | undefined;
  /** Real milliseconds the drain may take at most, as the message tells it. */
  readonly drainAtMostMs: number;
}

/** Resolves once the server has stopped, drained or not. */
export function untilStopped(server: Stoppable, logger: Logger, settings: StopSettings, on: Pick<NodeJS.Process, 'on'> = process): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: closing every connection now');
        server.close().then(resolve, resolve);
        return;
      }
      stopping = true;
      const open = server.connections;
      // Said before the drain's own lines (its goAway to each connection), which it explains.
      if (open === 0) logger.info({ signal }, 'stopping: no connection open');
      else logger.info({ signal, connections: open, drainAtMostMs: settings.drainAtMostMs }, drainMessage(signal, open, settings.drainAtMostMs));
      server.drain(settings.drainNoticeMs).then(resolve, (err: unknown) => {
        logger.error({ err: errorMessage(err) }, 'drain failed');
        resolve();
      });
    };
    on.on('SIGINT', () => stop('SIGINT'));
    on.on('SIGTERM', () => stop('SIGTERM'));
  });
}

function drainMessage(signal: NodeJS.Signals, open: number, atMostMs: number): string {
  const connections = open === 1 ? '1 connection' : `${open} connections`;
  const again = signal === 'SIGINT' ? 'press Ctrl-C again to stop at once' : 'a second SIGTERM or SIGINT stops at once';
  return `draining ${connections}: goAway sent to each, new connections refused; stopping once the clients have left, in at most ${seconds(atMostMs)} s — ${again}`;
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
