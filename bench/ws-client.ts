/** The raw `ws` client side shared by the benches: what the client sends and how it connects. */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/** A TEXT-modality setup, as PROTOCOL.md §3.1 shows it (compact JSON in a text frame, §1.5). */
export const SETUP = '{"setup":{"model":"models/gemini-live-2.5-flash-preview","generationConfig":{"responseModalities":["TEXT"]}}}';
/** One user turn, PROTOCOL.md §3.2. */
export const PING = '{"clientContent":{"turns":[{"role":"user","parts":[{"text":"ping"}]}],"turnComplete":true}}';

/**
 * Opens a socket, sends the setup and resolves at the first frame back (setupComplete from
 * relive, the echo or ack from a bare server), with the time that took from before connecting.
 */
export function openSession(url: string, timeoutMs = 15_000): Promise<{ ws: WebSocket; ms: number; first: Buffer }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.terminate();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no setup reply within ${timeoutMs} ms`)), timeoutMs);
    ws.on('error', (err) => fail(err));
    ws.once('close', (code, reason) => fail(new Error(`closed ${code} ${reason.toString()} before the setup reply`)));
    ws.once('open', () => ws.send(SETUP));
    ws.once('message', (data) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      ws.removeAllListeners('close');
      ws.removeAllListeners('error');
      // Later errors are followed by 'close'; without a listener ws would throw them.
      ws.on('error', () => undefined);
      resolve({ ws, ms, first: data as Buffer });
    });
  });
}

/**
 * Opens `count` sessions with at most `concurrency` handshakes in flight at once (a burst of
 * thousands would overflow the listen backlog and measure SYN retries, not the server).
 */
export async function openMany(url: string, count: number, concurrency: number): Promise<{ sockets: WebSocket[]; ms: number[] }> {
  const sockets: WebSocket[] = [];
  const ms: number[] = [];
  let next = 0;
  let failure: Error | undefined;
  const worker = async (): Promise<void> => {
    while (next < count && !failure) {
      next++;
      try {
        const s = await openSession(url);
        sockets.push(s.ws);
        ms.push(s.ms);
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure) {
    for (const s of sockets) s.terminate();
    throw new Error(`opening ${count} sessions failed after ${sockets.length}: ${failure.message}`);
  }
  return { sockets, ms };
}

/**
 * Waits until every socket has closed (however the close was started), terminating those still
 * open after `timeoutMs`.
 */
export async function waitClosed(sockets: readonly WebSocket[], timeoutMs = 10_000): Promise<number> {
  const pending = sockets.filter((s) => s.readyState !== WebSocket.CLOSED);
  let forced = 0;
  await new Promise<void>((resolve) => {
    let left = pending.length;
    if (left === 0) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      for (const s of pending) {
        if (s.readyState !== WebSocket.CLOSED) {
          forced++;
          s.terminate();
        }
      }
      resolve();
    }, timeoutMs);
    for (const s of pending) {
      s.once('close', () => {
        if (--left === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
  return forced;
}
