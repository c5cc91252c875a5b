/**
 * The fault actions a rule can take on a client message (or on the setup): what the emulator does
 * to the connection when `faults.strike('message', …)` hits. The connection is reached through
 * its port and three actions only it can do (drop the socket, hold back its output, cut a turn).
 */
import type { DelayPolicy } from './outbound.js';
import type { AttachedConnection } from './attached-connection.js';
import { closeOf, type FaultInjector } from './faults.js';
import { parseDuration } from '../protocol/duration.js';

export interface FaultTarget {
  readonly connection: Pick<AttachedConnection, 'goAway' | 'close'>;
  readonly principal: string;
  /** The session, once setup opened it. */
  readonly session: { readonly id: string; readonly turnsCompleted: number } | undefined;
  /** Drops the TCP connection without a close frame (clients see 1006). */
  drop(): void;
  delayOutput(policy: DelayPolicy): void;
  /** Cuts the next model turn after `afterChunks` content messages (before the session exists: the one setup opens). */
  cutNextTurn(afterChunks: number): void;
  readonly log: { warn(obj: object, message: string): void };
}

/** Applies an injected fault for this message, if a rule strikes. True when the message is not to be processed. */
export function injectFault(faults: FaultInjector, target: FaultTarget, messageType: string, model: string | undefined): boolean {
  if (faults.empty) return false;
  const session = target.session;
  const fault = faults.strike('message', {
    session: session?.id,
    principal: target.principal,
    messageType,
    turn: session ? session.turnsCompleted + 1 : 1,
    model: model?.startsWith('models/') ? model : model && `models/${model}`,
  });
  if (!fault) return false;
  target.log.warn({ fault, messageType }, 'injected fault');
  switch (fault.type) {
    case 'goAway':
      target.connection.goAway(parseDuration(fault.timeLeft) ?? 50_000);
      return false;
    case 'close':
      target.connection.close(closeOf(fault), 'injected fault');
      return true;
    case 'drop':
      target.drop();
      return true;
    case 'delay':
      target.delayOutput({ ms: fault.ms, jitterMs: fault.jitterMs, untilTurnComplete: fault.scope === 'turn' });
      return false;
    case 'prematureTurnComplete':
    case 'emptyTurnComplete':
      target.cutNextTurn(fault.type === 'emptyTurnComplete' ? 0 : fault.afterChunks);
      return false;
    default:
      return false;
  }
}
