import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadScenario, parseScenario } from '../../src/engine/scripted/scenario.js';
import { ScriptedEngine } from '../../src/engine/scripted/scripted-engine.js';
import { ManualClock } from '../../src/session/clock.js';
import { resolveConfig } from '../../src/session/config.js';
import { isUserInput, type ContextTurn } from '../../src/session/context.js';
import type { EngineEvent } from '../../src/session/engine.js';

const resolved = resolveConfig({ model: 'models/m', generationConfig: { responseModalities: ['TEXT'] } }, { unknownModels: 'accept', apiVersion: 'v1' });
if (!resolved.ok) throw new Error('config');
const config = resolved.config;

async function run(engine: ScriptedEngine, history: ContextTurn[], signal = new AbortController().signal): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  for await (const e of engine.generate({ config, history, userTurns: history.filter(isUserInput).length }, signal)) events.push(e);
  return events;
}

const user = (text: string): ContextTurn => ({ role: 'user', parts: [{ kind: 'text', text }] });
const textOf = (events: EngineEvent[]) => events.map((e) => (e.type === 'text' ? e.text : '')).join('');

describe('scenario files', () => {
  test('load from YAML and JSON files alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relive-scenario-'));
    writeFileSync(join(dir, 's.yaml'), 'rules:\n  - match: { text: hi }\n    reply:\n      - text: "Hey!"\n');
    writeFileSync(join(dir, 's.json'), JSON.stringify({ rules: [{ match: { text: 'hi' }, reply: [{ text: 'Hey!' }] }] }));
    assert.deepEqual(await loadScenario(join(dir, 's.yaml')), await loadScenario(join(dir, 's.json')));
  });

  test('refuse unknown step kinds and bad regexes with the path of the problem', () => {
    assert.throws(() => parseScenario('rules:\n  - reply: [{ sing: la }]\n', 'yaml'), /rules\[0\]\.reply\[0\]: unknown step/);
    assert.throws(() => parseScenario('rules:\n  - match: { regex: "(" }\n    reply: [{ text: x }]\n', 'yaml'), /regular expression/i);
  });

  test('name closes from the catalogue of real codes and reasons', () => {
    const s = parseScenario('rules:\n  - reply: [{ close: deadlineExpired }]\n', 'yaml');
    assert.deepEqual(s.rules[0]!.reply[0], { close: { code: 1011, reason: 'Deadline expired before operation could complete.' } });
  });
});

describe('ScriptedEngine', () => {
  test('built-in replies echo the user without configuration', async () => {
    const events = await run(new ScriptedEngine({ clock: new ManualClock() }), [user('what time is it')]);
    assert.equal(textOf(events), 'You said: what time is it');
    assert.ok(events.length > 1, 'streamed in several chunks');
  });

  test('the first matching rule answers; matchers are case-insensitive substrings and regexes', async () => {
    const scenario = parseScenario(
      `rules:
  - match: { regex: "^book .* table$" }
    reply: [{ text: "Booked." }]
  - match: { text: WEATHER }
    reply: [{ text: "Sunny." }]
`,
      'yaml',
    );
    const engine = new ScriptedEngine({ clock: new ManualClock(), scenario });
    assert.equal(textOf(await run(engine, [user('Book me a table')])), 'Booked.');
    assert.equal(textOf(await run(engine, [user('the weather?')])), 'Sunny.');
    assert.equal(textOf(await run(engine, [user('else')])), 'You said: else');
  });

  test('turn matchers count user turns, and a silent fallback says nothing', async () => {
    const scenario = parseScenario('fallback: silent\nrules:\n  - match: { turn: 2 }\n    reply: [{ text: "second" }]\n', 'yaml');
    const engine = new ScriptedEngine({ clock: new ManualClock(), scenario });
    assert.deepEqual(await run(engine, [user('a')]), []);
    const two: ContextTurn[] = [user('a'), { role: 'model', parts: [{ kind: 'text', text: 'x' }] }, user('b')];
    assert.equal(textOf(await run(engine, two)), 'second');
  });

  test('a call step ends the generation and the script resumes after it with the response', async () => {
    const scenario = parseScenario(
      `rules:
  - match: { text: weather }
    reply:
      - text: "Checking."
      - call: { name: get_weather, args: { city: Paris } }
      - text: "It is {{response.output}} in Paris, you asked: {{input}}"
`,
      'yaml',
    );
    const engine = new ScriptedEngine({ clock: new ManualClock(), scenario });
    const first = await run(engine, [user('weather please')]);
    assert.equal(textOf(first), 'Checking.');
    assert.deepEqual(first.at(-1), { type: 'toolCall', calls: [{ name: 'get_weather', args: { city: 'Paris' } }] });
    const history: ContextTurn[] = [
      user('weather please'),
      { role: 'model', parts: [{ kind: 'text', text: 'Checking.' }, { kind: 'functionCall', id: 'c1', name: 'get_weather', args: { city: 'Paris' } }] },
      { role: 'user', parts: [{ kind: 'functionResponse', id: 'c1', name: 'get_weather', response: { output: 'sunny' } }] },
    ];
    assert.equal(textOf(await run(engine, history)), 'It is sunny in Paris, you asked: weather please');
  });

  test('delays read the injected clock', async () => {
    const clock = new ManualClock();
    const scenario = parseScenario('rules:\n  - reply: [{ delayMs: 5000 }, { text: late }]\n', 'yaml');
    const engine = new ScriptedEngine({ clock, scenario });
    let done = false;
    const p = run(engine, [user('x')]).then((e) => {
      done = true;
      return e;
    });
    await clock.advance(4999);
    assert.equal(done, false);
    await clock.advance(1);
    assert.equal(textOf(await p), 'late');
  });

  test('an abort stops a waiting generation at once', async () => {
    const clock = new ManualClock();
    const scenario = parseScenario('rules:\n  - reply: [{ delayMs: 5000 }, { text: late }]\n', 'yaml');
    const controller = new AbortController();
    const p = run(new ScriptedEngine({ clock, scenario }), [user('x')], controller.signal);
    await new Promise((r) => setImmediate(r));
    controller.abort();
    await assert.rejects(p, { name: 'AbortError' });
    assert.equal(clock.pending, 0);
  });

  test('close steps fail the connection with their code', async () => {
    const scenario = parseScenario('rules:\n  - reply: [{ close: { code: 1008, reason: "The operation was aborted." } }]\n', 'yaml');
    const events = await run(new ScriptedEngine({ clock: new ManualClock(), scenario }), [user('x')]);
    assert.deepEqual(events, [{ type: 'fail', close: { code: 1008, reason: 'The operation was aborted.' } }]);
  });
});
