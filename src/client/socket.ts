/**
 * One WebSocket to a Live endpoint, the same in browsers and in Node: in Node the `ws` package, in
 * browsers (and other runtimes without `process.versions.node`) the platform's WebSocket. Node 22+
 * has a platform WebSocket too (undici's), but it can neither ping — so a silently dead TCP
 * connection would go unnoticed — nor tell an upgrade refused with 403 from a network error, so
 * Node keeps `ws`, loaded only there so that browser bundles never see it. Frames arrive as
 * parsed JSON.
 */
import { realClock, type ClientClock } from './clock.js';
import { ClosedBeforeSetupError } from './close-error.js';

/** The standard WebSocket surface this module uses (DOM and Node's undici both have it). */
interface StandardWebSocket {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
}
type StandardWebSocketClass = new (url: string) => StandardWebSocket;

export interface SocketHandlers {
  message(json: Record<string, unknown>): void;
  /** The socket is gone: the code and reason the peer gave (1006 when there was no close frame). */
  close(code: number, reason: string): void;
}

export interface LiveSocket {
  send(json: unknown): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection at once, without a close handshake (a dead peer). */
  terminate(): void;
  readonly open: boolean;
  /** Sends a ping; resolves true when the pong comes back within `timeoutMs`. Undefined where the platform has no ping (browsers). */
  readonly ping?: (timeoutMs: number) => Promise<boolean>;
}

const OPEN = 1;
const decoder = new TextDecoder();

/** Opens a socket; resolves once it is open, rejects if it cannot be opened (HTTP status in the message). */
export async function openSocket(url: string, handlers: SocketHandlers, WebSocketImpl?: StandardWebSocketClass, clock: ClientClock = realClock): Promise<LiveSocket> {
  const Impl = WebSocketImpl ?? (isNode() ? undefined : (globalThis as { WebSocket?: StandardWebSocketClass }).WebSocket);
  if (Impl) return openStandard(new Impl(url), handlers);
  const { WebSocket: NodeWebSocket } = await import('ws');
  return openNode(new NodeWebSocket(url, { perMessageDeflate: false }), handlers, clock);
}

function isNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
}

function deliver(text: string, handlers: SocketHandlers): void {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // A frame that is not JSON is not a Live message; the SDK would crash on it, the library ignores it.
    return;
  }
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) handlers.message(json as Record<string, unknown>);
}

function openStandard(ws: StandardWebSocket, handlers: SocketHandlers): Promise<LiveSocket> {
  ws.binaryType = 'arraybuffer';
  let closed = false;
  const socket: LiveSocket = {
    send: (json) => {
      if (ws.readyState === OPEN) ws.send(JSON.stringify(json));
    },
    close: (code, reason) => ws.close(code, reason),
    // The standard API has no abort; closing without waiting is the closest thing, and the
    // close event is reported at once so the caller is not held up by a dead peer.
    terminate: () => {
      ws.close();
      finish(1006, '');
    },
    get open() {
      return ws.readyState === OPEN && !closed;
    },
  };
  const finish = (code: number, reason: string): void => {
    if (closed) return;
    closed = true;
    handlers.close(code, reason);
  };
  return new Promise((resolve, reject) => {
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      resolve(socket);
    });
    ws.addEventListener('message', (e: { data: unknown }) => {
      const data = e.data;
      deliver(typeof data === 'string' ? data : decoder.decode(data as ArrayBuffer), handlers);
    });
    ws.addEventListener('close', (e: { code: number; reason: string }) => {
      if (!opened) reject(new ClosedBeforeSetupError(e.code, e.reason, `WebSocket closed before it opened (code ${e.code})`));
      else finish(e.code, e.reason);
    });
    ws.addEventListener('error', () => {
      if (!opened) reject(new Error('WebSocket connection failed'));
    });
  });
}

type NodeWs = import('ws').WebSocket;

function openNode(ws: NodeWs, handlers: SocketHandlers, clock: ClientClock): Promise<LiveSocket> {
  let closed = false;
  let opened = false;
  const finish = (code: number, reason: string): void => {
    // A socket that never opened was reported by the rejected promise instead.
    if (closed || !opened) return;
    closed = true;
    handlers.close(code, reason);
  };
  const socket: LiveSocket = {
    send: (json) => {
      if (ws.readyState === OPEN) ws.send(JSON.stringify(json));
    },
    close: (code, reason) => ws.close(code, reason),
    terminate: () => {
      ws.terminate();
      finish(1006, '');
    },
    get open() {
      return ws.readyState === OPEN && !closed;
    },
    ping: (timeoutMs) =>
      new Promise((resolve) => {
        if (ws.readyState !== OPEN) return resolve(false);
        // The pong deadline is on the session's clock, so a test can declare a peer dead without waiting.
        const timer = clock.setTimer(timeoutMs, () => {
          ws.off('pong', onPong);
          resolve(false);
        });
        const onPong = (): void => {
          timer.cancel();
          resolve(true);
        };
        ws.once('pong', onPong);
        ws.ping();
      }),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      opened = true;
      resolve(socket);
    });
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`Unexpected server response: ${res.statusCode ?? 0}`, { cause: { status: res.statusCode } }));
      ws.terminate();
    });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      deliver(buf.toString('utf8'), handlers);
    });
    ws.on('close', (code, reason) => finish(code, reason.toString('utf8')));
    ws.on('error', (err) => {
      if (ws.readyState !== OPEN) reject(err);
    });
  });
}
