/**
 * The conversation as the session keeps it. Client `Content` is folded into parts relive
 * understands; audio keeps its duration (and transcript when one exists) but not its samples,
 * so a long voice session stays small in memory and in the store.
 */
import type { Content, Part } from '../protocol/client-schema.js';

export type ContextPart =
  | { kind: 'text'; text: string; thought?: boolean }
  | { kind: 'audio'; seconds: number; transcript?: string }
  | { kind: 'image'; mimeType: string }
  | { kind: 'functionCall'; id: string; name: string; args: Record<string, unknown> }
  | { kind: 'functionResponse'; id: string; name: string; response: Record<string, unknown> }
  /** A part relive does not interpret (fileData, executableCode, …), kept as the client sent it. */
  | { kind: 'other'; part: Part };

export type Role = 'user' | 'model';

export interface ContextTurn {
  role: Role;
  parts: ContextPart[];
  /** A model-role turn the client sent (history, instructions), not one the model produced. */
  fromClient?: true;
}

/** Bytes per second of 16-bit mono PCM at the rate a mime type declares (16 kHz when absent). */
/** `audio/pcm;rate=24000` → 24000; no rate means 16 kHz (PROTOCOL.md; Pipecat sends 24 kHz). */
export function pcmRate(mimeType: string | undefined): number {
  const m = /rate=(\d+)/.exec(mimeType ?? '');
  const rate = m ? Number(m[1]) : 16_000;
  return rate >= 1000 && rate <= 192_000 ? rate : 16_000;
}

export function pcmBytesPerSecond(mimeType: string | undefined): number {
  return pcmRate(mimeType) * 2;
}

/** Decoded length of base64 text without decoding it. */
export function base64ByteLength(b64: string): number {
  const len = b64.length;
  if (len === 0) return 0;
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((len * 3) / 4) - padding;
}

export function partFromClient(part: Part): ContextPart {
  if (part.text !== undefined && !part.inlineData && !part.functionCall && !part.functionResponse) {
    return part.thought ? { kind: 'text', text: part.text, thought: true } : { kind: 'text', text: part.text };
  }
  if (part.inlineData) {
    const mime = part.inlineData.mimeType ?? '';
    if (mime.startsWith('audio/')) {
      return { kind: 'audio', seconds: base64ByteLength(part.inlineData.data ?? '') / pcmBytesPerSecond(mime) };
    }
    if (mime.startsWith('image/')) return { kind: 'image', mimeType: mime };
  }
  if (part.functionCall) {
    const fc = part.functionCall;
    return { kind: 'functionCall', id: fc.id ?? '', name: fc.name, args: fc.args ?? {} };
  }
  if (part.functionResponse) {
    const fr = part.functionResponse;
    return { kind: 'functionResponse', id: fr.id ?? '', name: fr.name ?? '', response: fr.response ?? {} };
  }
  return { kind: 'other', part };
}

export function turnFromClient(content: Content): ContextTurn {
  const parts = (content.parts ?? []).map(partFromClient);
  return content.role === 'model' ? { role: 'model', parts, fromClient: true } : { role: 'user', parts };
}

/** The plain text of a turn: typed text and audio transcripts, in order. */
export function textOf(turn: ContextTurn): string {
  return turn.parts
    .map((p) => (p.kind === 'text' && !p.thought ? p.text : p.kind === 'audio' ? (p.transcript ?? '') : ''))
    .filter((t) => t.length > 0)
    .join(' ');
}

/** A user turn that carries input, as opposed to one that only answers function calls. */
export function isUserInput(turn: ContextTurn): boolean {
  return turn.role === 'user' && !turn.parts.every((p) => p.kind === 'functionResponse');
}
