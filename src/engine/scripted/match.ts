/** Which scenario rule answers a user turn. */
import type { ContextTurn } from '../../session/context.js';
import { textOf } from '../../session/context.js';
import type { Rule } from './scenario.js';

export interface UserInput {
  readonly turn: ContextTurn;
  /** 1-based number of this user turn in the session. */
  readonly number: number;
}

export function matches(rule: Rule, input: UserInput): boolean {
  const m = rule.match;
  const text = textOf(input.turn);
  if (m.text !== undefined && !text.toLowerCase().includes(m.text.toLowerCase())) return false;
  if (m.regex !== undefined && !new RegExp(m.regex, 'i').test(text)) return false;
  if (m.audio !== undefined && input.turn.parts.some((p) => p.kind === 'audio') !== m.audio) return false;
  if (m.turn !== undefined && m.turn !== input.number) return false;
  return true;
}

export function findRule(rules: readonly Rule[], input: UserInput): Rule | undefined {
  return rules.find((r) => matches(r, input));
}
