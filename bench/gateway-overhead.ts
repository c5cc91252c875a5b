/**
 * What the gateway costs: the same ping turn sent to relive-as-gateway (gemini engine) in front of
 * an upstream relive, and straight to that upstream, in interleaved blocks on one upstream
 * process. Per message: send → first serverContent; per turn: send → turnComplete.
 */
import { startChild } from './child.js';
import { TurnClient } from './turn-overhead.js';
import { openSession } from './ws-client.js';

export interface GatewayOptions {
  readonly warmup: number;
  readonly blocks: number;
  readonly perBlock: number;
}

export interface GatewayResults {
  readonly gateway: { first: number[]; full: number[] };
  readonly direct: { first: number[]; full: number[] };
}

export async function measureGatewayOverhead(options: GatewayOptions): Promise<GatewayResults> {
  const upstream = await startChild('relive-turn');
  const gatewayChild = await startChild('relive-gateway', 15_000, [`http://127.0.0.1:${upstream.port}`]);
  try {
    const direct = new TurnClient((await openSession(upstream.url)).ws, true, 'direct');
    const gateway = new TurnClient((await openSession(gatewayChild.url)).ws, true, 'gateway');
    await direct.run(options.warmup);
    await gateway.run(options.warmup);
    const results: GatewayResults = { gateway: { first: [], full: [] }, direct: { first: [], full: [] } };
    for (let b = 0; b < options.blocks; b++) {
      // Alternating which goes first, so neither always runs on a warmer machine.
      const order = b % 2 === 0 ? [direct, gateway] : [gateway, direct];
      for (const c of order) await c.run(options.perBlock, c === gateway ? results.gateway : results.direct);
    }
    direct.close();
    gateway.close();
    return results;
  } finally {
    await gatewayChild.stop();
    await upstream.stop();
  }
}
