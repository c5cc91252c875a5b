/** Starts a relive server on a free loopback port for one test file. */
import { GoogleGenAI, Modality, type LiveServerMessage, type Session } from '@google/genai';
import { createServer } from '../../src/modes/emulate.js';
import type { ReliveServer } from '../../src/server/create-server.js';
import type { ServerOptions } from '../../src/server/options.js';
import { Collector } from './collector.js';
import { waitFor } from './wait.js';

export interface TestServer {
  server: ReliveServer;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const server = createServer({ logger: false, port: 0, ...options });
  const { url, port } = await server.listen();
  return { server, url, port, close: () => server.close() };
}

/** The official SDK pointed at a relive server, as the README tells users to do. */
export function sdk(url: string, apiVersion = 'v1beta', apiKey = 'test-key'): GoogleGenAI {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: url, apiVersion } });
}

/** Collects a live session's messages (through the SDK's callbacks) and lets a test wait for the one it expects. */
export class Inbox {
  private readonly collected = new Collector<LiveServerMessage>();
  closed: { code: number; reason: string } | undefined;

  readonly callbacks = {
    onmessage: (m: LiveServerMessage) => this.collected.push(m),
    onclose: (e: { code: number; reason: string }) => {
      this.closed = { code: e.code, reason: e.reason };
      this.collected.end(`closed ${e.code} ${e.reason}`);
    },
    onerror: () => undefined,
  };

  get messages(): readonly LiveServerMessage[] {
    return this.collected.items;
  }

  /** Resolves with the first message (already received or future) after index `from` that matches. */
  waitFor(pred: (m: LiveServerMessage) => boolean, from = 0, timeoutMs = 10_000): Promise<LiveServerMessage> {
    return this.collected.next(pred, { what: 'a message', from, timeoutMs });
  }

  turnComplete(from = 0): Promise<LiveServerMessage> {
    return this.waitFor((m) => m.serverContent?.turnComplete === true, from);
  }

  waitClose(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closed, { what: 'close', timeoutMs, on: this.collected.changes });
  }

  /** Text of modelTurn parts received after index `from`. */
  text(from = 0): string {
    return this.messages
      .slice(from)
      .map((m) => (m.serverContent?.modelTurn?.parts ?? []).map((p) => (p.thought ? '' : (p.text ?? ''))).join(''))
      .join('');
  }
}

/**
 * A session through the SDK with resumption on: one text turn, then the client closes. Resolves
 * with the handle of that turn's checkpoint, for a resume on a new connection.
 */
export async function oneTurnThenLeave(url: string, model: string, words: string): Promise<string> {
  const inbox = new Inbox();
  const session = await sdk(url).live.connect({ model, config: { responseModalities: [Modality.TEXT], sessionResumption: {} }, callbacks: inbox.callbacks });
  session.sendClientContent({ turns: words });
  await inbox.turnComplete();
  const handle = (await inbox.waitFor((m) => m.sessionResumptionUpdate?.resumable === true, 2)).sessionResumptionUpdate!.newHandle!;
  session.close();
  await inbox.waitClose();
  return handle;
}

export type { Session };
