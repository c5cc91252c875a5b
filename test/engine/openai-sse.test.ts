/** The SSE parser under the openai engine, and the assembly of streamed chunks into engine events. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readSse, SseParser, type SseEvent } from '../../src/engine/openai/sse.js';
import { ModelOutputError, ReplyAssembler, StreamedError } from '../../src/engine/openai/stream.js';
import { prng } from '../helpers/prng.js';

function bodyOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

async function collect(chunks: Uint8Array[]): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const e of readSse(bodyOf(chunks))) events.push(e);
  return events;
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [0, ...[...new Set(cuts)].sort((a, b) => a - b), bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < points.length; i++) out.push(bytes.subarray(points[i], points[i + 1]));
  return out;
}

// Everything at once: a BOM, CR LF and lone CR and LF endings, comments, a multi-line data field,
// named events, ids, a field without a colon, characters of two, three and four UTF-8 bytes.
const STREAM =
  '\uFEFF: keep-alive comment\r\n' +
  'data: {"a":"héllo €"}\r\n\r\n' +
  'event: note\ndata: line one\ndata: line two\nid: 7\n\n' +
  'data:no-space\r\r' +
  ':another comment\n' +
  'data\n\n' +
  'data: 🎉 emoji\n\n' +
  'retry: 100\nunknown: x\ndata: [DONE]\n\n';

const EXPECTED: SseEvent[] = [
  { data: '{"a":"héllo €"}' },
  { event: 'note', data: 'line one\nline two', id: '7' },
  { data: 'no-space', id: '7' },
  { data: '', id: '7' },
  { data: '🎉 emoji', id: '7' },
  { data: '[DONE]', id: '7' },
];

describe('SSE parser', () => {
  const bytes = new TextEncoder().encode(STREAM);

  test('reads a stream delivered whole', async () => {
    assert.deepEqual(await collect([bytes]), EXPECTED);
  });

  test('gives the same events wherever one split falls, inside CR LF and multi-byte characters too', async () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(await collect(splitAt(bytes, [cut])), EXPECTED, `split at byte ${cut}`);
    }
  });

  test('gives the same events byte by byte and under random splits', async () => {
    assert.deepEqual(await collect(splitAt(bytes, [...bytes.keys()].slice(1))), EXPECTED);
    const random = prng(42);
    for (let round = 0; round < 200; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(random() * 12) }, () => 1 + Math.floor(random() * (bytes.length - 1)));
      assert.deepEqual(await collect(splitAt(bytes, cuts)), EXPECTED, `cuts ${cuts.join(',')}`);
    }
  });

  test('a CR ending one piece and a LF starting the next are one line break, even with an empty piece between', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('data: a\r'), []);
    assert.deepEqual(parser.push(''), []);
    assert.deepEqual(parser.push('\n\r\n'), [{ data: 'a' }]);
  });

  test('an event the stream ends without a blank line after is still delivered', async () => {
    assert.deepEqual(await collect([new TextEncoder().encode('data: {"x":1}\n\ndata: [DONE]')]), [{ data: '{"x":1}' }, { data: '[DONE]' }]);
  });

  test('leaving early cancels the body', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('data: x\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const e of readSse(body)) {
      assert.equal(e.data, 'x');
      break;
    }
    assert.equal(cancelled, true);
  });
});

describe('reply assembly', () => {
  const chunk = (delta: object, finish_reason: string | null = null) => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason }] });

  test('text and reasoning deltas are events at once; the usage comes at the end', () => {
    const reply = new ReplyAssembler();
    assert.deepEqual(reply.push(chunk({ role: 'assistant', content: '' })), []);
    assert.deepEqual(reply.push(chunk({ reasoning_content: 'think' })), [{ type: 'thought', text: 'think' }]);
    assert.deepEqual(reply.push(chunk({ content: 'Hel' })), [{ type: 'text', text: 'Hel' }]);
    assert.deepEqual(reply.push(chunk({}, 'stop')), []);
    assert.deepEqual(reply.push({ object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 12, completion_tokens: 3 } } as object), []);
    assert.deepEqual(reply.finish(), [{ type: 'usage', promptTokens: 12, responseTokens: 3 }]);
    assert.equal(reply.finishReason, 'stop');
  });

  test('tool call fragments are joined by index into one toolCall, after the usage', () => {
    const reply = new ReplyAssembler();
    reply.push(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }));
    reply.push(chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } }] }));
    for (const piece of ['{"ci', 'ty": "Pa', 'ris"}']) reply.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    reply.push(chunk({}, 'tool_calls'));
    reply.push({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 9 } });
    assert.deepEqual(reply.finish(), [
      { type: 'usage', promptTokens: 5, responseTokens: 9 },
      { type: 'toolCall', calls: [{ name: 'get_weather', args: { city: 'Paris' } }, { name: 'get_time', args: {} }] },
    ]);
  });

  test('servers that number every call 0, or send the arguments as an object, still make separate calls', () => {
    const reply = new ReplyAssembler();
    reply.push(chunk({ tool_calls: [{ index: 0, id: 'x1', function: { name: 'f', arguments: { a: 1 } } }] }));
    reply.push(chunk({ tool_calls: [{ index: 0, id: 'x2', function: { name: 'g', arguments: '{"b":2}' } }] }));
    assert.deepEqual(reply.finish(), [{ type: 'toolCall', calls: [{ name: 'f', args: { a: 1 } }, { name: 'g', args: { b: 2 } }] }]);
  });

  test('arguments that are not a JSON object fail the turn with a detail naming the function', () => {
    const reply = new ReplyAssembler();
    reply.push(chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'book', arguments: '{"when": tomorrow' } }] }));
    assert.throws(() => reply.finish(), (err: unknown) => err instanceof ModelOutputError && /book.*not valid JSON.*tomorrow/.test(err.message));
    const list = new ReplyAssembler();
    list.push(chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'book', arguments: '[1]' } }] }));
    assert.throws(() => list.finish(), /not a JSON object/);
  });

  test('an error object in the stream is reported as one', () => {
    const reply = new ReplyAssembler();
    assert.throws(
      () => reply.push({ error: { message: 'overloaded', type: 'server_error', code: null } }),
      (err: unknown) => err instanceof StreamedError && err.error.message === 'overloaded' && err.error.type === 'server_error',
    );
  });
});
