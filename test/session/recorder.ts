/** A session output that records what a client would receive, for tests of the pure core. */
import type { CloseSpec } from '../../src/protocol/close-codes.js';
import { kindOf, type ServerMessage } from '../../src/protocol/server-messages.js';
import type { SessionOutput } from '../../src/session/live-session.js';

export class Recorder implements SessionOutput {
  readonly messages: ServerMessage[] = [];
  closed: CloseSpec | undefined;
  private waiters: { pred: (m: ServerMessage) => boolean; resolve: () => void }[] = [];

  send(message: ServerMessage): void {
    this.messages.push(message);
    for (const w of [...this.waiters]) {
      if (w.pred(message)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(spec: CloseSpec): void {
    this.closed = spec;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Resolves once a matching message has been sent, counting from `from`. */
  until(pred: (m: ServerMessage) => boolean, from = 0): Promise<void> {
    if (this.messages.slice(from).some(pred)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  turnComplete(from = 0): Promise<void> {
    return this.until((m) => 'serverContent' in m && m.serverContent.turnComplete === true, from);
  }

  /** A compact trace: message kinds and serverContent fields, in order. */
  trace(from = 0): string[] {
    return this.messages.slice(from).map((m) => {
      if ('serverContent' in m) return `serverContent.${Object.keys(m.serverContent).join('+')}`;
      return kindOf(m);
    });
  }

  text(from = 0): string {
    return this.messages
      .slice(from)
      .map((m) => ('serverContent' in m ? (m.serverContent.modelTurn?.parts ?? []).map((p) => p.text ?? '').join('') : ''))
      .join('');
  }
}
