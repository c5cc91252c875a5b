/** A memory store whose commits take `delayMs` (a slow disk): each handle comes that long after its turnComplete. */
import type { CommitRequest } from '../../src/session/store.js';
import { MemoryStore } from '../../src/store/memory-store.js';

export class SlowCommits extends MemoryStore {
  constructor(private readonly delayMs: number) {
    super();
  }

  override async commit(request: CommitRequest): Promise<void> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    return super.commit(request);
  }
}
