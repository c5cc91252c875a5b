/**
 * Connect → setupComplete for one session at a time (no queueing), relive against a bare `ws`
 * server's connect → ack. Both servers run at once in their own processes and are measured in
 * alternating blocks: single runs of this drift by ±30 % with the order they run in.
 */
import { startChild, type ServerChild } from './child.js';
import { openMany, waitClosed } from './ws-client.js';

export interface OpenOptions {
  readonly warmup: number;
  readonly blocks: number;
  readonly perBlock: number;
}

export interface OpenResults {
  readonly relive: number[];
  readonly bare: number[];
}

export async function measureOpenLatency(options: OpenOptions): Promise<OpenResults> {
  const children: ServerChild[] = [];
  try {
    const relive = await startChild('relive-idle');
    children.push(relive);
    const bare = await startChild('bare');
    children.push(bare);
    const samples = new Map<ServerChild, number[]>([
      [relive, []],
      [bare, []],
    ]);
    for (const child of children) {
      const warm = await openMany(child.url, options.warmup, 50);
      for (const s of warm.sockets) s.close(1000);
      await waitClosed(warm.sockets);
    }
    for (let b = 0; b < options.blocks; b++) {
      for (let k = 0; k < children.length; k++) {
        const child = children[(b + k) % children.length]!;
        const opened = await openMany(child.url, options.perBlock, 1);
        samples.get(child)!.push(...opened.ms);
        for (const s of opened.sockets) s.close(1000);
        await waitClosed(opened.sockets);
      }
    }
    return { relive: samples.get(relive)!, bare: samples.get(bare)! };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}
