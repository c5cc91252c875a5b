/**
 * The one wait of the test suite: `waitFor(check, what)` resolves with the first truthy value
 * `check` returns and fails naming what it waited for. It re-checks on every `Changes.notify()`
 * when given one (a collector's), else polls; either way the timeout is a bound on a hang, never
 * what a test measures.
 */

/** Wakes waiters when something they might be waiting for has happened. */
export class Changes {
  private waiters: (() => void)[] = [];

  notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves at the next notify, or after `ms` at the latest. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      }, ms);
      this.waiters.push(wake);
    });
  }
}

export interface WaitOptions {
  /** What is awaited, for the failure message. */
  what: string;
  /** Default 5000. */
  timeoutMs?: number;
  /** Re-check at each of these changes (and every `stepMs` anyway); without it, poll every `stepMs`. */
  on?: Changes;
  /** Default 10 ms when polling, 250 ms as a fallback with `on`. */
  stepMs?: number;
  /** More context for the failure message (recent events, last value). */
  detail?: () => string;
  /** A check that throws is tried again (a server not up yet) instead of failing the wait. */
  retryErrors?: boolean;
}

type Found<T> = T | undefined | null | false;

/**
 * Resolves with the first value of `check` that is not undefined, null or false. A check that
 * throws fails the wait, unless `retryErrors` (then its last error is reported on timeout).
 */
export async function waitFor<T>(check: () => Found<T> | Promise<Found<T>>, options: WaitOptions | string): Promise<T> {
  const { what, timeoutMs = 5000, on, stepMs = on ? 250 : 10, detail, retryErrors = false } = typeof options === 'string' ? { what: options } : options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const found = await check();
      if (found !== undefined && found !== null && found !== false) return found;
      lastError = undefined;
    } catch (err) {
      if (!retryErrors) throw err;
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const why = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${detail ? `; ${detail()}` : ''}`);
    }
    const step = Math.min(left, stepMs);
    await (on ? on.next(step) : new Promise((r) => setTimeout(r, step)));
  }
}

/** Calls `f` until it resolves (a server coming back), failing with its last error after the timeout. */
export async function retry<T>(f: () => Promise<T>, options: WaitOptions | string): Promise<T> {
  const opts = typeof options === 'string' ? { what: options } : options;
  const { value } = await waitFor(async () => ({ value: await f() }), { stepMs: 100, ...opts, retryErrors: true });
  return value;
}
