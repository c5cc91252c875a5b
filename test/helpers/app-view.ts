/** What an app sees through relive-gemini/client: messages, lifecycle events and the close, with waits on all three. */
import type { LiveServerMessage } from '@google/genai';
import type { LifecycleEvent } from '../../src/client/index.js';
import { Collector } from './collector.js';

type Closed = { code: number; reason: string; class: { kind: string; label: string } };

export class AppView {
  /** Every callback in arrival order: one collector, so a wait on any of them wakes at each. */
  private readonly seen = new Collector<LiveServerMessage | LifecycleEvent | Closed>();
  readonly messages: LiveServerMessage[] = [];
  readonly events: LifecycleEvent[] = [];
  closed: Closed | undefined;
  readonly callbacks = {
    onmessage: (m: LiveServerMessage) => {
      this.messages.push(m);
      this.seen.push(m);
    },
    onevent: (e: LifecycleEvent) => {
      this.events.push(e);
      this.seen.push(e);
    },
    onclose: (e: Closed) => {
      this.closed = e;
      this.seen.push(e);
    },
  };

  constructor(private readonly timeoutMs = 5000) {}

  /** Resolves with the first truthy value of `find`, re-checked at each callback. */
  until<T>(find: () => T | undefined | false, what: string, timeoutMs = this.timeoutMs): Promise<T> {
    return this.seen.until(find, what, timeoutMs);
  }

  /** Where a message, event or close came among all callbacks (-1: not yet): for order assertions. */
  arrival(item: LiveServerMessage | LifecycleEvent | Closed | undefined): number {
    return item === undefined ? -1 : this.seen.items.indexOf(item);
  }

  turnCompletes(): number {
    return this.messages.filter((m) => m.serverContent?.turnComplete).length;
  }

  /** Waits for turnComplete number n (1-based) and returns the text of the turn it ends. */
  async turn(n: number): Promise<string> {
    await this.until(() => this.turnCompletes() >= n, `turnComplete #${n}`);
    let seen = 0;
    let text = '';
    for (const m of this.messages) {
      if (seen === n - 1) text += m.text ?? '';
      if (m.serverContent?.turnComplete && ++seen === n) break;
    }
    return text;
  }

  count(type: LifecycleEvent['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }
}
