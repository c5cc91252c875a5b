/**
 * Picks the text tokenizer by name (`--tokenizer`). Each is loaded only when chosen: o200k
 * costs ~0.4 s and ~160 MB, gemma3 ~3 s and ~470 MB, chars4 nothing.
 */
import type { TextTokenizer } from '../session/tokens.js';

export type TokenizerName = 'o200k' | 'gemma3' | 'chars4';

export const TOKENIZER_NAMES: readonly TokenizerName[] = ['o200k', 'gemma3', 'chars4'];

/** The no-dependency fallback: about 4 characters per token (7.2 % low against Gemma 3). */
export function createChars4Tokenizer(): TextTokenizer {
  return { name: 'chars4', count: (text: string): number => Math.ceil(text.length / 4) };
}

export async function loadTokenizer(name: TokenizerName): Promise<TextTokenizer> {
  switch (name) {
    case 'o200k':
      return (await import('./o200k.js')).createO200kTokenizer();
    case 'gemma3':
      return (await import('./gemma3.js')).loadGemma3Tokenizer();
    case 'chars4':
      return createChars4Tokenizer();
    default:
      throw new Error(`unknown tokenizer ${JSON.stringify(name)}; expected one of ${TOKENIZER_NAMES.join(', ')}`);
  }
}
