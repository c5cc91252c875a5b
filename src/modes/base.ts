/**
 * What every mode fills the same way from ServerOptions: the settings, clock, logger, store,
 * tokenizer, recorder and cluster. The modes differ only in the engine and the voice parts.
 */
import { pino } from 'pino';
import { NdjsonRecorder } from '../server/ndjson-recorder.js';
import { resolveSettings, type ServerOptions } from '../server/options.js';
import type { ServerParts } from '../server/parts.js';
import { systemClock } from '../session/clock.js';
import { MemoryStore } from '../store/memory-store.js';
import { createO200kTokenizer } from '../tokenizer/o200k.js';
import { clusterJoin } from './cluster.js';

export type BaseParts = Pick<ServerParts, 'settings' | 'clock' | 'log' | 'store' | 'tokenizer' | 'recorder' | 'joinCluster'>;

/**
 * Defaults: the system clock, pino JSON lines on stdout (`logger: false`: none), a MemoryStore,
 * o200k, no recording, a cluster when the store is a shared one. The store, given or not, is
 * closed by the server (ServerParts.store); a clock, logger or tokenizer holds nothing to close.
 */
export function baseParts(options: ServerOptions): BaseParts {
  const clock = options.clock ?? systemClock;
  const log = options.logger === false ? pino({ enabled: false }) : (options.logger ?? pino({ name: 'relive' }));
  const store = options.store ?? new MemoryStore();
  // First what may refuse the options (a bad node id, a cluster with no Redis), before anything is made.
  const settings = resolveSettings(options);
  const joinCluster = clusterJoin(options.cluster, store);
  return {
    settings,
    clock,
    log,
    store,
    tokenizer: options.tokenizer ?? createO200kTokenizer(),
    recorder: options.recordDir === undefined ? undefined : new NdjsonRecorder({ dir: options.recordDir, clock, log }),
    joinCluster,
  };
}
