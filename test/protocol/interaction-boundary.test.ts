import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionBoundary } from '../../src/protocol/interaction-boundary.js';
import { msg } from '../../src/protocol/server-messages.js';

const frame = (m: unknown) => m as Record<string, unknown>;
const handle = (h: string) => frame({ sessionResumptionUpdate: { newHandle: h, resumable: true } });

test('an old model: every turnComplete ends the interaction, the handle after it is a boundary', () => {
  const b = new InteractionBoundary();
  assert.equal(b.atBoundary, false, 'no handle yet');
  b.onServer(frame(msg.text('hi')));
  assert.equal(b.onServer(handle('mid')).untrustedHandle, 'mid');
  assert.deepEqual(b.onServer(frame(msg.turnComplete())), { settled: true });
  assert.equal(b.handleOwed, true);
  assert.equal(b.atBoundary, false);
  assert.equal(b.onServer(handle('h1')).boundaryHandle, 'h1');
  assert.equal(b.atBoundary, true);
  assert.equal(b.boundaryHandle, 'h1');
});

test('3.8 filler turns: IN_PROGRESS is no boundary; a handle mid-answer is not trusted', () => {
  const b = new InteractionBoundary();
  b.onServer(handle('start'));
  assert.equal(b.atBoundary, true, 'the handle before any turn marks the start');
  b.onServer(frame(msg.text('let me think')));
  b.onServer(frame(msg.turnComplete(undefined, 'IN_PROGRESS')));
  assert.equal(b.onServer(handle('after-filler')).untrustedHandle, 'after-filler');
  assert.equal(b.atBoundary, false);
  b.onServer(frame(msg.text('the answer')));
  assert.equal(b.onServer(handle('mid-answer')).untrustedHandle, 'mid-answer');
  assert.equal(b.boundaryHandle, 'start');
  b.onServer(frame(msg.turnComplete(undefined, 'IDLE')));
  assert.equal(b.atBoundary, false, 'the handle after IDLE has not come');
  b.onServer(handle('idle'));
  assert.equal(b.atBoundary, true);
  assert.equal(b.boundaryHandle, 'idle');
});

test('REQUIRES_ACTION counts as IDLE', () => {
  const b = new InteractionBoundary();
  b.onServer(frame(msg.text('x')));
  b.onServer(frame({ serverContent: { turnComplete: true, interactionStatus: 'REQUIRES_ACTION' } }));
  b.onServer(handle('h'));
  assert.equal(b.atBoundary, true);
});

test('a pending call holds the boundary until answered, withdrawn or silenced; willContinue keeps it', () => {
  const b = new InteractionBoundary();
  b.onServer(frame(msg.toolCall([{ name: 'f', id: 'c1' }, { name: 'g', id: 'c2' }, { name: 'h', id: 'c3' }])));
  b.onServer(frame(msg.turnComplete(undefined, 'IDLE')));
  b.onServer(handle('h1'));
  assert.equal(b.atBoundary, false);
  b.onClient({ toolResponse: { functionResponses: [{ id: 'c1', willContinue: true, response: {} }] } });
  assert.deepEqual([...b.pendingCalls], ['c1', 'c2', 'c3']);
  b.onClient({ toolResponse: { functionResponses: [{ id: 'c1', response: {} }] } });
  b.onServer(frame(msg.toolCallCancellation(['c2'])));
  assert.equal(b.atBoundary, false);
  b.onClient({ toolResponse: { functionResponses: [{ id: 'c3', willContinue: true, scheduling: 'SILENT', response: {} }] } });
  assert.equal(b.pendingCalls.size, 0);
  assert.equal(b.atBoundary, true);
});

test('reset after a resume: the handle it used is the boundary; a fresh session has none', () => {
  const b = new InteractionBoundary();
  b.onServer(frame(msg.text('x')));
  b.onServer(frame(msg.turnComplete()));
  b.onServer(handle('h1'));
  b.onServer(frame(msg.text('y')));
  assert.equal(b.atBoundary, false);
  b.reset('h1');
  assert.equal(b.atBoundary, true);
  assert.equal(b.boundaryHandle, 'h1');
  b.reset(undefined);
  assert.equal(b.atBoundary, false);
  assert.equal(b.boundaryHandle, undefined);
});
