/**
 * A server plus a witness session for one describe block: bad-input tests check that the bad
 * client got its close and that the witness was neither closed nor sent anything.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { RawClient, TEXT_SETUP, Witness, type CloseInfo, type OpenOptions } from './raw-client.js';
import { waitFor } from './wait.js';
import { startServer, type TestServer } from './server.js';

export interface Harness {
  srv: TestServer;
  witness: Witness;
  /** How a well-behaved client connects to this server (e.g. with the right key). */
  good: OpenOptions;
}

export function harness(options: Parameters<typeof startServer>[0] = {}, witnessOptions: OpenOptions = {}): Harness {
  const h = { good: witnessOptions } as Harness;
  before(async () => {
    h.srv = await startServer({ keepaliveIntervalMs: 0, ...options });
    h.witness = await Witness.open(h.srv.url, witnessOptions);
  });
  after(async () => {
    await h.witness?.dispose();
    await h.srv?.close();
  });
  return h;
}

export async function assertClosedWith(client: RawClient, expected: CloseInfo): Promise<void> {
  const got = await client.waitClose();
  assert.deepEqual(got, expected);
  assert.ok(Buffer.byteLength(got.reason, 'utf8') <= 123, 'close reason longer than 123 bytes');
}

/** The server is still up and serving new sessions, and no session leaked from the bad client. */
export async function assertServerHealthy(h: Harness): Promise<void> {
  await h.witness.assertUndisturbed();
  // Only the witness is live once the bad connection is gone.
  await waitFor(() => h.srv.server.sessions.liveCount === 1, 'only the witness session is live');
  const fresh = await RawClient.connect(h.srv.url, TEXT_SETUP, h.good);
  assert.match(await fresh.turn('hello again'), /You said: hello again/);
  await fresh.dispose();
}

export const textTurn = (text: string) => ({ clientContent: { turns: [{ role: 'user', parts: [{ text }] }], turnComplete: true } });
