/**
 * Row 1: how long relive takes to answer a text turn, against the floor of the same loopback
 * and the same `ws` stack.
 *
 *   relive  send clientContent → first serverContent frame, and → turnComplete (full turn)
 *   echo    send the same bytes → echo received (bare ws round trip)
 *   canned  send the same bytes → the byte-identical frames relive answers with, replayed by a bare
 *           ws server with no logic (so relive's full turn minus this is its own processing)
 *
 * Every server runs in its own child process; one client connection each. Blocks of turns are
 * interleaved across servers (relive, canned, echo, rotating) so that a noisy neighbour or CPU
 * frequency change hits all of them alike, and the medians are taken over all blocks.
 */
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { startChild, type ServerChild } from './child.js';
import { median } from './stats.js';
import { PING, openSession } from './ws-client.js';

export interface TurnOptions {
  readonly warmup: number;
  readonly turns: number;
  readonly blocks: number;
}

export interface TurnResults {
  readonly relive: { first: number[]; full: number[]; blockP50: number[] };
  readonly canned: { first: number[]; full: number[] };
  readonly echo: number[];
  /** What relive answers one ping turn with. */
  readonly frames: { count: number; bytes: number[] };
  readonly options: TurnOptions;
}

interface TurnSample {
  first: number;
  full: number;
  frames: Buffer[];
}

/** One client connection that runs turns strictly one after another. */
export class TurnClient {
  private onFrame: ((data: Buffer, t: number) => void) | undefined;
  /** Frames that arrived while no turn was running: must stay 0 for the timings to mean anything. */
  stray = 0;

  /** `gemini`: the reply is several frames ending with turnComplete; else one echo frame. */
  constructor(
    private readonly ws: WebSocket,
    private readonly gemini: boolean,
    readonly label: string,
  ) {
    ws.on('message', (data) => {
      // Timestamp first: nothing the client does with the frame counts against the server.
      const t = performance.now();
      if (this.onFrame) this.onFrame(data as Buffer, t);
      else this.stray++;
    });
  }

  turn(keepFrames = false, timeoutMs = 10_000): Promise<TurnSample> {
    return new Promise((resolve, reject) => {
      const frames: Buffer[] = [];
      let first = -1;
      const timer = setTimeout(() => {
        this.onFrame = undefined;
        reject(new Error(`${this.label}: turn not complete within ${timeoutMs} ms`));
      }, timeoutMs);
      const t0 = performance.now();
      this.onFrame = (data, t) => {
        if (keepFrames) frames.push(Buffer.from(data));
        let done = true;
        if (this.gemini) {
          const m = JSON.parse(data.toString('utf8')) as { serverContent?: { turnComplete?: boolean } };
          if (!m.serverContent) {
            clearTimeout(timer);
            this.onFrame = undefined;
            reject(new Error(`${this.label}: expected serverContent, got ${data.toString().slice(0, 80)}`));
            return;
          }
          done = m.serverContent.turnComplete === true;
        }
        if (first < 0) first = t - t0;
        if (done) {
          clearTimeout(timer);
          this.onFrame = undefined;
          resolve({ first, full: t - t0, frames });
        }
      };
      this.ws.send(PING);
    });
  }

  async run(n: number, into?: { first: number[]; full: number[] }): Promise<void> {
    for (let i = 0; i < n; i++) {
      const s = await this.turn();
      into?.first.push(s.first);
      into?.full.push(s.full);
    }
  }

  close(): void {
    this.ws.close(1000);
  }
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

export async function measureTurnOverhead(options: TurnOptions): Promise<TurnResults> {
  const children: ServerChild[] = [];
  const clients: TurnClient[] = [];
  try {
    const reliveServer = await startChild('relive-turn');
    children.push(reliveServer);
    const echoServer = await startChild('echo');
    children.push(echoServer);

    // relive first: its frames become the canned server's script.
    const r = await openSession(reliveServer.url);
    if (!r.first.toString().includes('"setupComplete"')) throw new Error(`relive: expected setupComplete, got ${r.first.toString()}`);
    const relive = new TurnClient(r.ws, true, 'relive');
    clients.push(relive);
    await relive.run(options.warmup - 1);
    const sample = await relive.turn(true);

    const cannedServer = await startChild('canned');
    children.push(cannedServer);
    await cannedServer.script(r.first, sample.frames);
    const c = await openSession(cannedServer.url);
    const canned = new TurnClient(c.ws, true, 'canned');
    clients.push(canned);
    await canned.run(options.warmup);

    const e = await openSession(echoServer.url);
    const echo = new TurnClient(e.ws, false, 'echo');
    clients.push(echo);
    await echo.run(options.warmup);

    const results = {
      relive: { first: [] as number[], full: [] as number[], blockP50: [] as number[] },
      canned: { first: [] as number[], full: [] as number[] },
      echo: { first: [] as number[], full: [] as number[] },
    };
    const perBlock = Math.ceil(options.turns / options.blocks);
    const order: [TurnClient, { first: number[]; full: number[] }][] = [
      [relive, results.relive],
      [canned, results.canned],
      [echo, results.echo],
    ];
    for (let b = 0; b < options.blocks; b++) {
      for (let k = 0; k < order.length; k++) {
        const [client, into] = order[(b + k) % order.length]!;
        gc();
        const before = into.first.length;
        await client.run(perBlock, into);
        if (client === relive) results.relive.blockP50.push(median(into.first.slice(before)));
      }
    }
    for (const client of clients) if (client.stray > 0) throw new Error(`${client.label}: ${client.stray} frames arrived outside a turn`);
    return {
      relive: results.relive,
      canned: results.canned,
      echo: results.echo.full,
      frames: { count: sample.frames.length, bytes: sample.frames.map((f) => f.length) },
      options,
    };
  } finally {
    for (const c of clients) c.close();
    await Promise.all(children.map((c) => c.stop()));
  }
}
