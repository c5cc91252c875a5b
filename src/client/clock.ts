/**
 * The client's time: every timer the library runs (backoff waits, the rotation deadline, the wait
 * for a closing socket, keepalive pings and their pong deadline) goes through one `ClientClock`, so
 * tests drive a whole reconnect ladder in microseconds. The shape is relive's session Clock
 * (`now()`, `setTimer(ms, fn) → {cancel()}`), declared here because the client imports nothing
 * outside protocol/: a relive `ManualClock` can be passed as is.
 *
 * Browser-safe: no imports.
 */
export interface ClientTimer {
  cancel(): void;
}

export interface ClientClock {
  /** Milliseconds on this clock's own time line (only differences are used). */
  now(): number;
  /** Calls `fn` once, after `ms` of this clock's time. */
  setTimer(ms: number, fn: () => void): ClientTimer;
}

/**
 * Real time. Timers are not unref'd: a pending reconnect keeps a Node process alive, as a plain
 * setTimeout did before the clock was injectable.
 */
export const realClock: ClientClock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * Resolves after `ms` of clock time. An abort cancels the timer and leaves the promise pending:
 * it is meant for a race, whose other side has already won.
 */
export function clockDelay(clock: ClientClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimer(ms, resolve);
    signal?.addEventListener('abort', () => timer.cancel(), { once: true });
  });
}

/** `fn` every `ms` until cancelled: a chain of one-shot timers, the only kind a ClientClock has. */
export function every(clock: ClientClock, ms: number, fn: () => void): ClientTimer {
  let timer: ClientTimer | undefined;
  let stopped = false;
  const arm = (): void => {
    timer = clock.setTimer(ms, () => {
      if (stopped) return;
      arm();
      fn();
    });
  };
  arm();
  return {
    cancel: () => {
      stopped = true;
      timer?.cancel();
    },
  };
}
