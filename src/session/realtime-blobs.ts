/**
 * Which media a realtimeInput carries, by one rule for everyone who reads it (the session counts
 * it, an engine that hears gets it, the voice input detects speech in it), so that they never
 * disagree about what the user sent.
 */
import type { RealtimeInput } from '../protocol/client-schema.js';

/** What an audio blob without a MIME type is: 16 kHz PCM16, as the real service takes it. */
export const DEFAULT_AUDIO_MIME = 'audio/pcm;rate=16000';

export interface RealtimeBlob {
  readonly kind: 'audio' | 'image';
  /** Base64 as sent; empty when the blob came without data (it still counts as a part). */
  readonly data: string;
  /** As sent for images; for audio, DEFAULT_AUDIO_MIME when the client named none. */
  readonly mimeType: string;
}

/**
 * The blobs of a realtimeInput that count, in order: the SDK's deprecated `media` arrives as
 * mediaChunks, of which only the first blob counts (PROTOCOL.md §3.3), then `audio`, then `video`.
 * A blob is an image by an `image/` type and audio by an `audio/` type or none at all; any other
 * type is not media relive reads.
 */
export function realtimeBlobs(ri: RealtimeInput): RealtimeBlob[] {
  const blobs: RealtimeBlob[] = [];
  for (const blob of [ri.mediaChunks?.[0], ri.audio, ri.video]) {
    if (!blob) continue;
    const mime = blob.mimeType ?? '';
    const data = blob.data ?? '';
    if (mime.startsWith('image/')) blobs.push({ kind: 'image', data, mimeType: mime });
    else if (mime.startsWith('audio/') || mime === '') blobs.push({ kind: 'audio', data, mimeType: mime || DEFAULT_AUDIO_MIME });
  }
  return blobs;
}
