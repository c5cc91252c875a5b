/** Starts a relive server on a free loopback port for one test file. */
import { GoogleGenAI, type LiveServerMessage, type Session } from '@google/genai';
import { createServer } from '../../src/modes/emulate.js';
import type { ReliveServer } from '../../src/server/create-server.js';
import type { ServerOptions } from '../../src/server/options.js';

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

/** Collects a live session's messages and lets a test wait for the one it expects. */
export class Inbox {
  readonly messages: LiveServerMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: { pred: (m: LiveServerMessage) => boolean; resolve: (m: LiveServerMessage) => void; reject: (e: Error) => void; from: number }[] = [];
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  readonly callbacks = {
    onmessage: (m: LiveServerMessage) => {
      this.messages.push(m);
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    },
    onclose: (e: { code: number; reason: string }) => {
      this.closed = { code: e.code, reason: e.reason };
      for (const w of this.waiters) w.reject(new Error(`closed ${e.code} ${e.reason} while waiting`));
      this.waiters = [];
      for (const c of this.closeWaiters) c({ code: e.code, reason: e.reason });
    },
    onerror: () => undefined,
  };

  /** Resolves with the first message (already received or future) after index `from` that matches. */
  waitFor(pred: (m: LiveServerMessage) => boolean, from = 0, timeoutMs = 10_000): Promise<LiveServerMessage> {
    const found = this.messages.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.waiters.push({
        pred,
        from,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  turnComplete(from = 0): Promise<LiveServerMessage> {
    return this.waitFor((m) => m.serverContent?.turnComplete === true, from);
  }

  waitClose(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  /** Text of modelTurn parts received after index `from`. */
  text(from = 0): string {
    return this.messages
      .slice(from)
      .map((m) => (m.serverContent?.modelTurn?.parts ?? []).map((p) => (p.thought ? '' : (p.text ?? ''))).join(''))
      .join('');
  }
}

export type { Session };
