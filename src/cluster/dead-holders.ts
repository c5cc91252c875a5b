/**
 * Sessions a dead node left attached. Its connections died with it, so nothing will ever detach
 * them: until then their handles would never expire, and a takeover would wait for a node that
 * cannot answer. Every node sweeps: such a session counts as detached from the sweep on.
 *
 * Order matters. The sessions are read first, the live nodes second: a node that acquired a lease
 * after the first read has a newer lease token than the one read, so releasing with the old token is
 * refused (FencedError); one that acquired before it had its presence key written before it served
 * anything, so it is in the second read. A live node's session is therefore never released.
 */
import { FencedError, type SessionStore } from '../session/store.js';

export async function releaseDeadHolders(store: SessionStore, deadNodes: () => Promise<(holder: string) => boolean>, at: number): Promise<string[]> {
  const attached = (await store.list(Infinity)).filter((r) => r.status === 'open' && r.lastDetachedAt === undefined);
  if (attached.length === 0) return [];
  const isDead = await deadNodes();
  const released: string[] = [];
  for (const record of attached) {
    // No holder at all: written by a node that records none (before holders existed): nobody answers for it.
    if (record.holder !== undefined && !isDead(record.holder)) continue;
    try {
      // A detach with the dead holder's own token: fenced if anyone took the lease since the read.
      await store.detach(record.id, record.leaseToken, at, 0, false);
      released.push(record.id);
    } catch (err) {
      if (!(err instanceof FencedError) && !/does not exist/.test(String(err))) throw err;
    }
  }
  return released;
}
