/**
 * Resumption handles: opaque, unforgeable names of one checkpoint of one session, bound to the
 * principal that created the session (PROTOCOL.md §5.3). A handle is
 * base64url(sessionId "." seq "." HMAC-SHA256(secret, sessionId, seq, principal)): without the
 * server's secret none can be made, and presented by another principal its MAC does not verify,
 * so it is as unknown as a made-up one.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface HandleTarget {
  readonly sessionId: string;
  readonly seq: number;
}

export class HandleCodec {
  constructor(private readonly secret: Buffer) {
    if (secret.length < 16) throw new RangeError('the handle secret must have at least 128 bits');
  }

  static newSecret(): string {
    return randomBytes(32).toString('base64url');
  }

  issue(target: HandleTarget, principal: string): string {
    const mac = this.mac(target, principal).toString('base64url');
    return Buffer.from(`${target.sessionId}.${target.seq}.${mac}`).toString('base64url');
  }

  /** The checkpoint a handle names, or undefined for a forged, garbled or foreign one. */
  verify(handle: string, principal: string): HandleTarget | undefined {
    if (handle.length > 512) return undefined;
    const text = Buffer.from(handle, 'base64url').toString('utf8');
    const m = /^([\w-]{1,64})\.(\d{1,15})\.([\w-]{43})$/.exec(text);
    if (!m) return undefined;
    const target = { sessionId: m[1]!, seq: Number(m[2]) };
    const given = Buffer.from(m[3]!, 'base64url');
    const expected = this.mac(target, principal);
    return given.length === expected.length && timingSafeEqual(given, expected) ? target : undefined;
  }

  private mac(target: HandleTarget, principal: string): Buffer {
    return createHmac('sha256', this.secret).update(`${target.sessionId}\n${target.seq}\n${principal}`).digest();
  }
}

/** Who a credential belongs to, as stored: a hash, so the store never holds API keys. */
export function principalOf(credential: string | undefined): string {
  return createHash('sha256').update(credential ?? '').digest('hex');
}
