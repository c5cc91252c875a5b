/** The turn state's transitions: each allowed one, and that every other one throws. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { statusOf, TurnState, TurnStateError, type TurnPhaseKind } from '../../src/session/turn-state.js';

interface FakeGeneration {
  readonly name: string;
}
const g1: FakeGeneration = { name: 'g1' };
const g2: FakeGeneration = { name: 'g2' };

/** A state brought to `kind` by allowed transitions only. */
function stateIn(kind: TurnPhaseKind): TurnState<FakeGeneration> {
  const s = new TurnState<FakeGeneration>();
  if (kind === 'idle') return s;
  if (kind === 'ended') {
    s.end();
    return s;
  }
  s.start(g1);
  if (kind === 'awaitingTool') s.awaitTool();
  if (kind === 'failed') s.fail();
  return s;
}

const ALL: TurnPhaseKind[] = ['idle', 'generating', 'awaitingTool', 'failed', 'ended'];

type Transition = 'start' | 'awaitTool' | 'resume' | 'finish' | 'interrupt' | 'fail' | 'end' | 'queueReply' | 'takeQueuedReply';
const apply: Record<Transition, (s: TurnState<FakeGeneration>) => unknown> = {
  start: (s) => s.start(g2),
  awaitTool: (s) => s.awaitTool(),
  resume: (s) => s.resume(g2),
  finish: (s) => s.finish(),
  interrupt: (s) => s.interrupt(),
  fail: (s) => s.fail(),
  end: (s) => s.end(),
  queueReply: (s) => s.queueReply(),
  takeQueuedReply: (s) => s.takeQueuedReply(),
};

/** From which states each transition is allowed, and where it leads (queueReply and takeQueuedReply stay put). */
const allowed: Record<Transition, Partial<Record<TurnPhaseKind, TurnPhaseKind>>> = {
  start: { idle: 'generating' },
  awaitTool: { generating: 'awaitingTool' },
  resume: { awaitingTool: 'generating' },
  finish: { generating: 'idle' },
  interrupt: { generating: 'idle', awaitingTool: 'idle' },
  fail: { generating: 'failed' },
  end: { idle: 'ended', generating: 'ended', awaitingTool: 'ended', failed: 'ended', ended: 'ended' },
  queueReply: { generating: 'generating', awaitingTool: 'awaitingTool', failed: 'failed' },
  takeQueuedReply: { idle: 'idle' },
};

describe('TurnState', () => {
  test('a new state is idle, resumable in the session sense, not open', () => {
    const s = new TurnState<FakeGeneration>();
    assert.deepEqual(s.phase, { kind: 'idle' });
    assert.equal(s.open, false);
    assert.equal(s.live, true);
    assert.equal(s.replyQueued, false);
  });

  for (const transition of Object.keys(allowed) as Transition[]) {
    for (const from of ALL) {
      const to = allowed[transition][from];
      if (to !== undefined) {
        test(`${transition}: ${from} → ${to}`, () => {
          const s = stateIn(from);
          apply[transition](s);
          assert.equal(s.phase.kind, to);
        });
      } else {
        test(`${transition} from ${from} throws and leaves the state as it was`, () => {
          const s = stateIn(from);
          const before = s.phase;
          assert.throws(() => apply[transition](s), TurnStateError);
          assert.equal(s.phase, before);
        });
      }
    }
  }

  test('generating carries its generation; isRunning tells a late result of another apart', () => {
    const s = new TurnState<FakeGeneration>();
    s.start(g1);
    assert.deepEqual(s.phase, { kind: 'generating', generation: g1 });
    assert.equal(s.isRunning(g1), true);
    s.awaitTool();
    assert.equal(s.isRunning(g1), false, 'a generation stopped by a blocking call no longer runs');
    s.resume(g2);
    assert.equal(s.isRunning(g1), false);
    assert.equal(s.isRunning(g2), true);
  });

  test('interrupt and end return the generation they stop, if one ran', () => {
    const generating = stateIn('generating');
    assert.equal(generating.interrupt(), g1);
    assert.equal(stateIn('awaitingTool').interrupt(), undefined);
    assert.equal(stateIn('generating').end(), g1);
    assert.equal(stateIn('idle').end(), undefined);
    assert.equal(stateIn('failed').end(), undefined);
  });

  test('open: generating, awaitingTool and failed; live: all but failed and ended', () => {
    assert.deepEqual(ALL.filter((k) => stateIn(k).open), ['generating', 'awaitingTool', 'failed']);
    assert.deepEqual(ALL.filter((k) => stateIn(k).live), ['idle', 'generating', 'awaitingTool']);
  });

  test('a queued reply is taken once, after the turn finishes, and survives a barge-in', () => {
    const s = stateIn('generating');
    s.queueReply();
    assert.equal(s.replyQueued, true);
    s.interrupt();
    assert.equal(s.replyQueued, true, 'the input it waits for is still pending after a barge-in');
    s.start(g2);
    s.finish();
    assert.equal(s.takeQueuedReply(), true);
    assert.equal(s.takeQueuedReply(), false);
  });

  test('end drops a queued reply', () => {
    const s = stateIn('generating');
    s.queueReply();
    s.end();
    assert.equal(s.replyQueued, false);
  });

  test('the public status of each state', () => {
    assert.deepEqual(
      ALL.map((k) => statusOf(stateIn(k).phase)),
      ['idle', 'generating', 'awaitingTool', 'awaitingTool', 'ended'],
    );
  });
});
