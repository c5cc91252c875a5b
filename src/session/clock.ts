/**
 * Every deadline reads an injected clock (DESIGN.md), so a 10-minute lifetime is tested in
 * milliseconds: `ManualClock` moves only when told, `ScaledClock` runs N times faster.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on this clock's own time line. */
  now(): number;
  /** Calls `fn` once `ms` have passed on this clock. */
  setTimer(ms: number, fn: () => void): Timer;
}

/** Resolves after `ms` of clock time; rejects with an AbortError if `signal` fires first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(abortError());
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(): Error {
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    // Deadline timers must never keep a process alive on their own.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Real time sped up `scale` times: a 590 s lifetime at scale 60 lasts 9.8 real seconds. */
export class ScaledClock implements Clock {
  private readonly origin = Date.now();
  constructor(private readonly scale: number) {
    if (!(scale > 0)) throw new RangeError('time scale must be positive');
  }
  now(): number {
    return this.origin + (Date.now() - this.origin) * this.scale;
  }
  setTimer(ms: number, fn: () => void): Timer {
    return systemClock.setTimer(ms / this.scale, fn);
  }
}

/** A clock that moves only through `advance`; timers fire in deadline order. */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; seq: number; fn: () => void }>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.current + Math.max(0, ms), seq: id, fn });
    return { cancel: () => this.timers.delete(id) };
  }

  /** Pending timers, for tests that assert nothing is left scheduled. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms`, firing due timers one by one in order. Between timers it yields
   * to the event loop so that work a timer starts (promises, I/O callbacks) can schedule more.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + Math.max(0, ms);
    for (;;) {
      await new Promise((r) => setImmediate(r));
      let next: { id: number; at: number; seq: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = { id, ...t };
      }
      if (!next) break;
      this.timers.delete(next.id);
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = target;
    await new Promise((r) => setImmediate(r));
  }
}
