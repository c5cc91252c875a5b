/** A session output that records what a client would receive, for tests of the pure core. */
import type { CloseSpec } from '../../src/protocol/close-codes.js';
import { kindOf, type ServerMessage } from '../../src/protocol/server-messages.js';
import type { SessionOutput } from '../../src/session/live-session.js';
import { Collector } from '../helpers/collector.js';

export class Recorder implements SessionOutput {
  private readonly collected = new Collector<ServerMessage>();
  closed: CloseSpec | undefined;

  get messages(): readonly ServerMessage[] {
    return this.collected.items;
  }

  send(message: ServerMessage): void {
    this.collected.push(message);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(spec: CloseSpec): void {
    this.closed = spec;
    this.collected.end(`closed ${spec.code} ${spec.reason}`);
  }

  /** Resolves once a matching message has been sent, counting from `from`. */
  async until(pred: (m: ServerMessage) => boolean, from = 0): Promise<void> {
    await this.collected.next(pred, { what: 'a matching message', from });
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
