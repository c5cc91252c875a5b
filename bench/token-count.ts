/**
 * Token counting on the turn path: TokenAccountant.part over 300-character user messages (o200k),
 * against a baseline that also reads every character of the same strings (Buffer.byteLength).
 * Moved here from test/session/tokens.test.ts, whose `avgMs < 2` measured the machine as much as
 * the code; the test now checks the counts.
 */
import { DEFAULT_TOKEN_RATES, TokenAccountant } from '../src/session/tokens.js';
import { createO200kTokenizer } from '../src/tokenizer/o200k.js';

export interface TokenCountResults {
  /** ms per message, one sample per block. */
  readonly count: number[];
  readonly baseline: number[];
  readonly perBlock: number;
}

export function measureTokenCount(options: { blocks: number; perBlock: number; warmup: number }): TokenCountResults {
  const acct = new TokenAccountant(createO200kTokenizer(), DEFAULT_TOKEN_RATES);
  const base = 'Turn off the lights in the living room, then tell me tomorrow’s weather in Zürich. ';
  const msg = base.repeat(4).slice(0, 300);
  // Distinct strings each time so a merge cache cannot make the measurement trivial.
  let seq = 0;
  const fresh = (): string[] => Array.from({ length: options.perBlock }, () => `${seq++} ${msg}`.slice(0, 300));
  for (const text of fresh().slice(0, options.warmup)) acct.part({ kind: 'text', text });
  const count: number[] = [];
  const baseline: number[] = [];
  let sink = 0;
  for (let b = 0; b < options.blocks; b++) {
    const inputs = fresh();
    const t0 = performance.now();
    for (const text of inputs) sink += acct.part({ kind: 'text', text }).TEXT ?? 0;
    count.push((performance.now() - t0) / inputs.length);
    const again = fresh();
    const t1 = performance.now();
    for (const text of again) sink += Buffer.byteLength(text, 'utf8');
    baseline.push((performance.now() - t1) / again.length);
  }
  if (sink === 0) throw new Error('nothing was counted');
  return { count, baseline, perBlock: options.perBlock };
}
