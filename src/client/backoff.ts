/**
 * Reconnect delays: exponential growth with "full jitter" (a uniform pick between 0 and the capped
 * exponential), so many clients dropped by one outage do not come back in lockstep. A floor of
 * half the initial delay keeps a retry from being immediate, which would only meet the same fault.
 *
 * Browser-safe: no imports.
 */
export interface BackoffOptions {
  /** Ceiling of the first delay, ms (default 250). */
  initialMs?: number;
  /** Cap on any delay, ms (default 10000). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Uniform [0, 1) source; inject a seeded one for reproducible tests. */
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly random: () => number;
  private count = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 10_000;
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
    if (!(this.initialMs > 0)) throw new RangeError(`Backoff initialMs must be > 0, got ${this.initialMs}`);
    if (!(this.maxMs >= this.initialMs)) throw new RangeError(`Backoff maxMs (${this.maxMs}) must be >= initialMs (${this.initialMs})`);
    if (!(this.factor >= 1)) throw new RangeError(`Backoff factor must be >= 1, got ${this.factor}`);
  }

  /** Attempts made since construction or the last reset. */
  get attempts(): number {
    return this.count;
  }

  /** The delay before the next attempt, ms (an integer in [initialMs/2, min(maxMs, initialMs·factor^n)]). */
  next(): number {
    // factor ** n overflows to Infinity after enough attempts; the cap absorbs it.
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** this.count);
    this.count++;
    const floor = this.initialMs / 2;
    return Math.round(Math.max(floor, this.random() * ceiling));
  }

  /** Back to the first delay, after a connection that worked. */
  reset(): void {
    this.count = 0;
  }
}
