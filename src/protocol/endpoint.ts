/**
 * Which WebSocket paths are Live API endpoints (PROTOCOL.md §1.1). The SDK sends `//ws/…`
 * (and `/prefix//ws/…`), so repeated slashes are collapsed and only the suffix is matched.
 */
export interface LiveEndpoint {
  readonly apiVersion: string;
  /** True on `…BidiGenerateContentConstrained`, the ephemeral-token path. */
  readonly constrained: boolean;
}

const LIVE_PATH = /\/ws\/google\.ai\.generativelanguage\.(v\w+)\.GenerativeService\.(BidiGenerateContent(?:Constrained)?)$/;

export function matchLiveEndpoint(pathname: string): LiveEndpoint | undefined {
  const collapsed = pathname.replace(/\/{2,}/g, '/');
  const m = LIVE_PATH.exec(collapsed);
  if (!m) return undefined;
  return { apiVersion: m[1]!, constrained: m[2] === 'BidiGenerateContentConstrained' };
}

export interface Credential {
  readonly value: string;
  readonly source: 'key' | 'access_token' | 'x-goog-api-key' | 'authorization-token' | 'authorization-bearer';
}

/**
 * Reads the credential from the places PROTOCOL.md §1.2 lists. The query is read raw (not
 * URL-decoded), because clients interpolate `auth_tokens/…` without encoding it.
 */
export function readCredential(rawQuery: string, headers: Record<string, string | string[] | undefined>): Credential | undefined {
  for (const pair of rawQuery.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if ((name === 'key' || name === 'access_token') && value) {
      return { value: safeDecode(value), source: name };
    }
  }
  const apiKey = header(headers, 'x-goog-api-key');
  if (apiKey) return { value: apiKey, source: 'x-goog-api-key' };
  const auth = header(headers, 'authorization');
  if (auth) {
    const m = /^(Token|Bearer)\s+(.+)$/i.exec(auth.trim());
    if (m) return { value: m[2]!, source: m[1]!.toLowerCase() === 'token' ? 'authorization-token' : 'authorization-bearer' };
  }
  return undefined;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Keys are raw in practice, but a client that does encode them must still match. */
function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
