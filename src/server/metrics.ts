/** Prometheus metrics of one server (its own registry, so several servers in a process do not clash). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly compressions: Counter;
  readonly turns: Counter;
  /** Arrival of a realtime audio chunk → the voice activity detector has processed it. */
  readonly ingestLag: Histogram;
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
  // A histogram, not a summary: it is observed for every audio chunk (25–50 a second per session),
  // and a bucket increment costs a fraction of a quantile sketch's update.
  const ingestLag = new Histogram({
    name: 'relive_audio_ingest_lag_seconds',
    help: 'Time from a realtime audio chunk arriving to voice activity detection having processed it.',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
    registers: [registry],
  });
  return { registry, compressions, turns, ingestLag };
}
