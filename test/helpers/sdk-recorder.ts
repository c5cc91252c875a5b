/** What the official SDK really sends: a stand-in service for the client library's conversion tests. */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { GoogleGenAI, type LiveConnectConfig, type Session } from '@google/genai';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A stand-in for the service that records what the real SDK sends: it answers `setup` with
 * `setupComplete` (the SDK's connect() resolves only then) and hands back every text frame once the
 * SDK closes.
 */
export class SdkRecorder {
  private server!: WebSocketServer;
  private port = 0;
  private readonly waiting: ((ws: WebSocket) => void)[] = [];

  async start(): Promise<void> {
    this.server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
    this.server.on('connection', (ws) => this.waiting.shift()?.(ws));
  }

  async stop(): Promise<void> {
    for (const ws of this.server.clients) ws.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Connects with the SDK, runs `act`, closes; resolves with the frames (setup first) or connect's error. */
  async capture(model: string, config: LiveConnectConfig | undefined, act?: (s: Session) => void): Promise<{ frames: string[]; error?: Error }> {
    const frames: string[] = [];
    let server!: WebSocket;
    const closed = new Promise<void>((resolve) => {
      this.waiting.push((ws) => {
        server = ws;
        ws.on('message', (data) => {
          frames.push(String(data));
          if (frames.length === 1) ws.send(JSON.stringify({ setupComplete: {} }));
        });
        ws.on('close', () => resolve());
      });
    });
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: `http://127.0.0.1:${this.port}`, apiVersion: 'v1beta' } });
    let session: Session;
    try {
      session = await ai.live.connect({ model, config, callbacks: { onmessage() {} } });
    } catch (error) {
      // The SDK throws config errors after opening the socket and leaves it open.
      server?.terminate();
      return { frames, error: error as Error };
    }
    try {
      act?.(session);
    } finally {
      session.close();
    }
    await closed; // a close arrives after every frame sent before it
    return { frames };
  }
}
