/**
 * Context-window token accounting (PROTOCOL.md §5.6, AUDIO.md §6). Pure: no I/O, no global
 * state. Text goes through a pluggable `TextTokenizer`; audio is counted by duration and images
 * per frame, so a long voice session costs nothing to account for beyond its text.
 *
 * The session calls `turn()` once per appended turn and keeps running totals, so counting a
 * turn must stay cheap: one tokenizer call per text-bearing part, arithmetic for the rest.
 */
import type { Content, Part, Tool } from '../protocol/client-schema.js';
import { partFromClient, type ContextPart, type ContextTurn } from './context.js';

/** Counts the tokens of plain text. Implementations live in `src/tokenizer/`. */
export interface TextTokenizer {
  readonly name: string;
  count(text: string): number;
}

/** The modalities relive reports, spelled as the wire's `ModalityTokenCount.modality`. */
export type Modality = 'TEXT' | 'AUDIO' | 'IMAGE';

/** Tokens per image or video frame, by `generationConfig.mediaResolution`. */
export interface ImageTokenRates {
  unspecified: number;
  low: number;
  medium: number;
  high: number;
}

export interface TokenRates {
  /** 25 for Live models (the Live billing statement); the generic Gemini docs say 32. */
  audioTokensPerSecond: number;
  imageTokens: ImageTokenRates;
}

export const DEFAULT_TOKEN_RATES: Readonly<TokenRates> = Object.freeze({
  audioTokensPerSecond: 25,
  imageTokens: Object.freeze({ unspecified: 258, low: 64, medium: 256, high: 256 }),
});

export type TokenCounts = Partial<Record<Modality, number>>;

const MODALITIES: readonly Modality[] = ['TEXT', 'AUDIO', 'IMAGE'];

/** `a + b` by modality, as a new object; a modality present in neither stays absent. */
export function addCounts(a: TokenCounts, b: TokenCounts): TokenCounts {
  const out: TokenCounts = { ...a };
  for (const m of MODALITIES) {
    const v = b[m];
    if (v !== undefined) out[m] = (out[m] ?? 0) + v;
  }
  return out;
}

/** `a − b` by modality, as a new object (for turns leaving the window). Never below zero. */
export function subtractCounts(a: TokenCounts, b: TokenCounts): TokenCounts {
  const out: TokenCounts = { ...a };
  for (const m of MODALITIES) {
    const v = b[m];
    if (v !== undefined) out[m] = Math.max(0, (out[m] ?? 0) - v);
  }
  return out;
}

/** The total over all modalities. */
export function sumCounts(c: TokenCounts): number {
  return (c.TEXT ?? 0) + (c.AUDIO ?? 0) + (c.IMAGE ?? 0);
}

/** Per-frame image tokens for a `mediaResolution` enum name; unknown or absent → unspecified. */
export function imageTokensFor(rates: ImageTokenRates, mediaResolution: string | undefined): number {
  switch (mediaResolution) {
    case 'MEDIA_RESOLUTION_LOW':
      return rates.low;
    case 'MEDIA_RESOLUTION_MEDIUM':
      return rates.medium;
    case 'MEDIA_RESOLUTION_HIGH':
      return rates.high;
    default:
      return rates.unspecified;
  }
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

/**
 * A part relive does not interpret, minus any inline payload: base64 bytes are not text the
 * model reads, and tokenizing megabytes of them would be both wrong and slow.
 */
function withoutPayload(part: Part): Part {
  if (part.inlineData?.data === undefined) return part;
  const { data: _data, ...blob } = part.inlineData;
  return { ...part, inlineData: blob };
}

export class TokenAccountant {
  readonly #tokenizer: TextTokenizer;
  readonly #audioRate: number;
  readonly #imageTokens: number;

  constructor(tokenizer: TextTokenizer, rates: TokenRates = DEFAULT_TOKEN_RATES, mediaResolution?: string) {
    this.#tokenizer = tokenizer;
    this.#audioRate = rates.audioTokensPerSecond;
    this.#imageTokens = imageTokensFor(rates.imageTokens, mediaResolution);
  }

  get tokenizerName(): string {
    return this.#tokenizer.name;
  }

  /** Tokens of one part: exactly one modality key. */
  part(p: ContextPart): TokenCounts {
    const out: TokenCounts = {};
    this.#add(out, p);
    return out;
  }

  /** Tokens of one turn, summed by modality (only modalities the turn contains appear). */
  turn(t: ContextTurn): TokenCounts {
    const out: TokenCounts = {};
    for (const p of t.parts) this.#add(out, p);
    return out;
  }

  /**
   * Tokens the setup costs on every request: the system instruction's parts and each tool
   * declaration serialized as JSON (TEXT). A model's `preambleTokens` is not included.
   */
  fixed(systemInstruction?: Content, tools?: readonly Tool[]): number {
    let n = 0;
    for (const p of systemInstruction?.parts ?? []) n += sumCounts(this.part(partFromClient(p)));
    for (const tool of tools ?? []) n += this.#tokenizer.count(json(tool));
    return n;
  }

  #add(out: TokenCounts, p: ContextPart): void {
    switch (p.kind) {
      case 'text':
        out.TEXT = (out.TEXT ?? 0) + this.#tokenizer.count(p.text);
        return;
      case 'audio': {
        // By duration, never by transcript: the model hears the audio, the transcript is a by-product.
        const s = Number.isFinite(p.seconds) && p.seconds > 0 ? p.seconds : 0;
        out.AUDIO = (out.AUDIO ?? 0) + Math.round(s * this.#audioRate);
        return;
      }
      case 'image':
        out.IMAGE = (out.IMAGE ?? 0) + this.#imageTokens;
        return;
      case 'functionCall':
        out.TEXT = (out.TEXT ?? 0) + this.#tokenizer.count(p.name) + this.#tokenizer.count(json(p.args));
        return;
      case 'functionResponse':
        out.TEXT = (out.TEXT ?? 0) + this.#tokenizer.count(p.name) + this.#tokenizer.count(json(p.response));
        return;
      case 'other':
        out.TEXT = (out.TEXT ?? 0) + this.#tokenizer.count(json(withoutPayload(p.part)));
        return;
    }
  }
}
