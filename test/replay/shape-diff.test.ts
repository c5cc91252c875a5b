/** Units of the replay: message shapes, runs, their alignment, substitutions, reading a recording. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientFrameBytes, clientFramePayload } from '../../src/recording/lines.js';
import { parseRecording } from '../../src/replay/recording.js';
import { shapeDifferences } from '../../src/replay/report.js';
import { alignRuns, runPositions, toRuns } from '../../src/replay/runs.js';
import { shapeDelta, shapeKey, shapeLabel, shapeOf } from '../../src/replay/shape.js';
import { Substitutions } from '../../src/replay/substitutions.js';

const text = (t: string) => ({ serverContent: { modelTurn: { parts: [{ text: t }] } } });
const turnComplete = { serverContent: { turnComplete: true }, usageMetadata: { promptTokenCount: 3, totalTokenCount: 5 } };
const update = (h: string) => ({ sessionResumptionUpdate: { newHandle: h, resumable: true } });
const call = (id: string) => ({ toolCall: { functionCalls: [{ name: 'f', args: {}, id }] } });

describe('message shapes', () => {
  test('key paths with value types, values ignored, arrays as []', () => {
    assert.deepEqual(shapeOf(text('hello')), [
      'serverContent.modelTurn.parts:array',
      'serverContent.modelTurn.parts[].text:string',
      'serverContent.modelTurn.parts[]:object',
      'serverContent.modelTurn:object',
      'serverContent:object',
    ]);
    assert.deepEqual(shapeOf(text('hello')), shapeOf(text('a different text entirely')));
    assert.deepEqual(shapeOf({ setupComplete: {} }), ['setupComplete:object'], 'an empty object still has a shape');
    assert.deepEqual(shapeOf({ a: [] }), ['a:array']);
    assert.deepEqual(shapeOf({ a: [1, 'x', null] }), ['a:array', 'a[]:null', 'a[]:number', 'a[]:string'], 'element shapes merge');
    assert.deepEqual(shapeOf('not json'), ['$:string']);
    assert.notEqual(shapeKey(shapeOf({ a: 1 })), shapeKey(shapeOf({ a: '1' })), 'types count');
  });

  test('a label for people, and the delta between two shapes', () => {
    assert.equal(shapeLabel(shapeOf(turnComplete)), 'serverContent{turnComplete} usageMetadata{promptTokenCount,totalTokenCount}');
    assert.equal(shapeLabel(shapeOf({ usageMetadata: { a: 1, b: 2, c: 3, d: 4 } })), 'usageMetadata{…}');
    assert.equal(shapeLabel(shapeOf({ setupComplete: {} })), 'setupComplete');
    assert.deepEqual(shapeDelta(shapeOf({ setupComplete: { sessionId: 'x' } }), shapeOf({ setupComplete: {} })), {
      missing: ['setupComplete.sessionId:string'],
      extra: [],
    });
  });
});

describe('runs and their alignment', () => {
  test('consecutive messages of one shape collapse into a run; positions count runs', () => {
    const runs = toRuns([{ setupComplete: {} }, text('a'), text('b'), text('c'), turnComplete, text('d')]);
    assert.deepEqual(
      runs.map((r) => [shapeLabel(r.shape), r.first, r.count]),
      [
        ['setupComplete', 0, 1],
        ['serverContent{modelTurn}', 1, 3],
        ['serverContent{turnComplete} usageMetadata{promptTokenCount,totalTokenCount}', 4, 1],
        ['serverContent{modelTurn}', 5, 1],
      ],
    );
    assert.deepEqual(runPositions(runs), [[0, 0], [1, 1], [2, 1], [2, 2], [2, 3], [3, 1], [4, 1]]);
  });

  test('chunk counts do not matter; an inserted run is extra, a removed one missing', () => {
    const recorded = [{ setupComplete: {} }, text('a'), text('b'), turnComplete];
    assert.deepEqual(shapeDifferences(recorded, [{ setupComplete: {} }, text('a'), text('b'), text('c'), text('d'), turnComplete]), []);
    const extra = shapeDifferences(recorded, [{ setupComplete: {} }, call('x'), text('a'), turnComplete]);
    assert.equal(extra.length, 1);
    assert.equal(extra[0]!.kind, 'extra');
    if (extra[0]!.kind === 'extra') {
      assert.equal(extra[0].got[0]!.message, 2);
      assert.equal(extra[0].got[0]!.label, 'toolCall{functionCalls}');
      assert.equal(extra[0].expectedAt, 2);
    }
    const missing = shapeDifferences(recorded, [{ setupComplete: {} }, turnComplete]);
    assert.equal(missing.length, 1);
    assert.ok(missing[0]!.kind === 'missing' && missing[0].expected[0]!.message === 2 && missing[0].expected[0]!.count === 2 && missing[0].gotAt === 2);
  });

  test('a run replaced by another shape is one change, with the key paths missing and extra', () => {
    const d = shapeDifferences([text('a'), turnComplete, update('h')], [text('a'), call('id'), update('h')]);
    assert.equal(d.length, 1);
    assert.equal(d[0]!.kind, 'changed');
    if (d[0]!.kind === 'changed') {
      assert.equal(d[0].expected.message, 2);
      assert.equal(d[0].got.message, 2);
      assert.ok(d[0].missingPaths.includes('serverContent.turnComplete:boolean'));
      assert.ok(d[0].extraPaths.includes('toolCall.functionCalls[].id:string'));
    }
  });

  test('the alignment is a longest common subsequence of runs', () => {
    const runs = (keys: string) => toRuns([...keys].map((k) => ({ [k]: true })));
    const kinds = alignRuns(runs('abcabba'), runs('cbabac')).map((a) => (a.kind === 'same' ? '=' : a.kind === 'missing' ? '-' : '+'));
    assert.equal(kinds.filter((k) => k === '=').length, 4, 'LCS of abcabba and cbabac has length 4');
    assert.deepEqual(alignRuns(runs('abc'), runs('abc')).map((a) => a.kind), ['same', 'same', 'same']);
    assert.deepEqual(alignRuns(runs(''), runs('ab')).map((a) => a.kind), ['extra', 'extra']);
  });
});

describe('substitutions', () => {
  test('a recorded handle and call id become the ones the replay received at the same position', () => {
    const subs = new Substitutions([
      { index: 0, serverMessages: [update('h1'), call('id-1'), update('h2')] },
      { index: 1, serverMessages: [update('h3')] },
    ]);
    subs.received(0, update('H1'));
    subs.received(0, call('ID-1'));
    subs.received(0, update('H2'));
    const setup = subs.apply({ setup: { model: 'm', session_resumption: { handle: 'h2' } } });
    assert.deepEqual(setup.json, { setup: { model: 'm', session_resumption: { handle: 'H2' } } }, 'snake_case too');
    const response = subs.apply({ toolResponse: { functionResponses: [{ id: 'id-1', response: { id: 'id-1', text: 'h2' } }] } });
    assert.deepEqual(response.json, { toolResponse: { functionResponses: [{ id: 'ID-1', response: { id: 'ID-1', text: 'h2' } }] } }, 'only in id and handle fields');
    const miss = subs.apply({ setup: { sessionResumption: { handle: 'h3' } } });
    assert.deepEqual(miss.json, { setup: { sessionResumption: { handle: 'h3' } } });
    assert.deepEqual(miss.misses, [{ kind: 'handle', recorded: 'h3', connection: 1, ordinal: 0 }]);
    const proto = subs.apply(JSON.parse('{"__proto__": {"handle": "h1"}}'));
    assert.equal(JSON.stringify(proto.json), '{"__proto__":{"handle":"H1"}}', 'a __proto__ key stays a key');
  });
});

describe('recording lines', () => {
  test('client frames: JSON parsed, other text as is, invalid UTF-8 in base64, and back to the same bytes', () => {
    const cases: [Buffer, boolean][] = [
      [Buffer.from('{"setup":{"model":"m"}}'), false],
      [Buffer.from('{"realtimeInput":{}}'), true],
      [Buffer.from('not json ✓'), false],
      [Buffer.from([0xff, 0xfe, 0x00]), true],
    ];
    const payloads = cases.map(([b, bin]) => clientFramePayload(b, bin));
    assert.deepEqual(payloads, [
      { frame: 'text', json: { setup: { model: 'm' } } },
      { frame: 'binary', json: { realtimeInput: {} } },
      { frame: 'text', data: 'not json ✓', encoding: 'utf8' },
      { frame: 'binary', data: '//4A', encoding: 'base64' },
    ]);
    payloads.forEach((p, i) => assert.deepEqual(clientFrameBytes(p), cases[i]![0]));
  });

  test('connections are told apart by their open line, so ids reused after a restart stay separate', () => {
    const line = (o: object) => JSON.stringify({ at: '2030-01-01T00:00:00.000Z', ms: 0, ...o });
    const rec = parseRecording([
      line({ conn: 'c1', dir: 'event', event: 'open', v: 1, path: '/p1', apiVersion: 'v1beta' }),
      line({ conn: 'c1', dir: 'client', frame: 'text', json: { setup: {} } }),
      line({ conn: 'c1', dir: 'server', json: { setupComplete: {} } }),
      line({ conn: 'c1', dir: 'event', event: 'close', code: 1006, reason: '', initiatedBy: 'server' }),
      line({ conn: 'c1', dir: 'event', event: 'open', v: 1, path: '/p2', apiVersion: 'v1beta' }),
      line({ conn: 'c1', dir: 'client', frame: 'binary', data: 'AA==', encoding: 'base64' }),
      '{"cut by a cra',
    ]);
    assert.deepEqual(
      rec.connections.map((c) => [c.index, c.conn, c.path, c.serverMessages.length, c.clientFrames, c.close?.code]),
      [
        [0, 'c1', '/p1', 1, 1, 1006],
        [1, 'c1', '/p2', 0, 1, undefined],
      ],
    );
    assert.deepEqual(rec.steps.map((s) => `${s.kind}${s.connection}`), ['open0', 'client0', 'server0', 'close0', 'open1', 'client1']);
    assert.deepEqual(rec.warnings, ['line 7: not JSON, skipped']);
  });
});
