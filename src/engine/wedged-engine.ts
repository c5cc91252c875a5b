/**
 * A model that never answers: every generation waits, silent, until it is aborted. It is what a
 * "poisoned" resumption handle leads to on the real service (LANDSCAPE.md, pain point 9): the
 * resume succeeds, input is taken, and no reply ever comes. Clients' watchdogs are tested on it.
 */
import type { Engine, EngineEvent, EngineSession } from '../session/engine.js';

const wedgedSession: EngineSession = {
  // Yields nothing, ever: silence is the point.
  async *generate(_request, signal): AsyncGenerator<EngineEvent> {
    if (signal.aborted) return;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  },
  close: () => undefined,
};

export const wedgedEngine: Engine = {
  name: 'wedged',
  open: () => wedgedSession,
};
