/**
 * The default text tokenizer (AUDIO.md §6.4): gpt-tokenizer's `o200k_base`, MIT, offline,
 * about 10 % below Gemma 3 on mixed English/TypeScript. Importing this module loads the
 * vocabulary (~0.4 s), so callers that may not need it import it lazily (see `select.ts`).
 */
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { TextTokenizer } from '../session/tokens.js';

/**
 * Special-token strings such as `<|endoftext|>` in user text are ordinary text here: by default
 * gpt-tokenizer throws on them, and a context window must never fail to count a user's message.
 */
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

export function createO200kTokenizer(): TextTokenizer {
  return {
    name: 'o200k',
    count: (text: string): number => (text.length === 0 ? 0 : countTokens(text, AS_PLAIN_TEXT)),
  };
}
