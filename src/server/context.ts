/** What every connection of one server shares: resolved options and the adapters. */
import type { Logger } from 'pino';
import type { Clock } from '../session/clock.js';
import type { Engine } from '../session/engine.js';
import type { UnknownModelPolicy } from '../session/models.js';
import type { SpeechSynthesizer } from '../session/speech.js';
import type { SessionRegistry } from './registry.js';

export interface ServerContext {
  readonly clock: Clock;
  readonly engine: Engine;
  readonly speech: SpeechSynthesizer | undefined;
  readonly log: Logger;
  readonly registry: SessionRegistry;
  readonly apiKeys: ReadonlySet<string>;
  readonly strict: boolean;
  readonly maxFrameBytes: number;
  readonly setupTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly unknownModels: UnknownModelPolicy;
  readonly extraModels: readonly string[];
  readonly sessionIdInSetupComplete: boolean;
  readonly audioChunkMs: number;
  readonly outboundHighWaterMark: number;
  /** Unknown fields already logged, so each is logged once per process. */
  readonly unknownFieldsLogged: Set<string>;
}
