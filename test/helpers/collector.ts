/**
 * The one collector of the test suite: what a client received (socket frames, SDK callbacks,
 * lifecycle events), in order, with waits that wake on each arrival. `ended` makes pending and
 * later waits fail at once with the reason (a socket closed), instead of at the timeout.
 */
import { Changes, waitFor } from './wait.js';

export class Collector<T> {
  private readonly items_: T[] = [];
  readonly changes = new Changes();
  private endedWith: string | undefined;

  push(item: T): void {
    this.items_.push(item);
    this.changes.notify();
  }

  /** Nothing more will come: waits fail with `why` once what has come does not satisfy them. */
  end(why: string): void {
    this.endedWith ??= why;
    this.changes.notify();
  }

  get ended(): string | undefined {
    return this.endedWith;
  }

  /** Everything so far, live (the array grows as items arrive). */
  get items(): readonly T[] {
    return this.items_;
  }

  /** Everything so far, from index `from`. */
  all(from = 0): T[] {
    return this.items_.slice(from);
  }

  get length(): number {
    return this.items_.length;
  }

  /** The first item at index ≥ `from` that matches, received or still to come. */
  next(pred: (item: T) => boolean, opts: { what?: string; from?: number; timeoutMs?: number } = {}): Promise<T> {
    const from = opts.from ?? 0;
    let checked = from;
    return this.until(
      () => {
        for (; checked < this.items_.length; checked++) if (pred(this.items_[checked]!)) return this.items_[checked];
        return undefined;
      },
      opts.what ?? 'a matching item',
      opts.timeoutMs,
    );
  }

  /** Any condition over what was collected (or over state the callbacks update), re-checked at each arrival. */
  until<R>(check: () => R | undefined | null | false, what: string, timeoutMs = 5000): Promise<R> {
    return waitFor(
      () => {
        const found = check();
        if (found !== undefined && found !== null && found !== false) return found;
        if (this.endedWith !== undefined) throw new Error(`${this.endedWith} while waiting for ${what}; got ${JSON.stringify(this.items_.slice(-6))}`);
        return undefined;
      },
      { what, timeoutMs, on: this.changes, detail: () => `got ${JSON.stringify(this.items_.slice(-6))}` },
    );
  }
}
