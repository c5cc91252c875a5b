/** Prometheus metrics of one server (its own registry, so several servers in a process do not clash). */
import { Counter, Gauge, Registry, Summary, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly compressions: Counter;
  readonly turns: Counter;
  /** Arrival of a realtime audio chunk → the voice activity detector has processed it. */
  readonly ingestLag: Summary;
}

export function createMetrics(liveSessions: () => number, openConnections: () => number): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'relive_process_' });
  const compressions = new Counter({
    name: 'relive_context_compressions_total',
    help: 'Context window compressions: oldest turns dropped because the context exceeded the trigger.',
    registers: [registry],
  });
  const turns = new Counter({ name: 'relive_turns_total', help: 'Model turns completed (turnComplete sent).', registers: [registry] });
  new Gauge({
    name: 'relive_sessions_live',
    help: 'Sessions attached to a connection of this server.',
    registers: [registry],
    collect() {
      this.set(liveSessions());
    },
  });
  new Gauge({
    name: 'relive_connections_open',
    help: 'Open Live API WebSocket connections.',
    registers: [registry],
    collect() {
      this.set(openConnections());
    },
  });
  const ingestLag = new Summary({
    name: 'relive_audio_ingest_lag_seconds',
    help: 'Time from a realtime audio chunk arriving to voice activity detection having processed it.',
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 60,
    ageBuckets: 5,
    registers: [registry],
  });
  return { registry, compressions, turns, ingestLag };
}
