/**
 * A model that never answers: every generation waits, silent, until it is aborted. It is what a
 * "poisoned" resumption handle leads to on the real service (LANDSCAPE.md, pain point 9): the
 * resume succeeds, input is taken, and no reply ever comes. Clients' watchdogs are tested on it.
 */
import type { Engine, EngineEvent } from '../session/engine.js';

export const wedgedEngine: Engine = {
  name: 'wedged',
  // Yields nothing, ever: silence is the point.
  async *generate(_request, signal): AsyncGenerator<EngineEvent> {
    if (signal.aborted) return;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  },
};
