/**
 * Fault injection for the emulator (LocalStack's chaos API, for the Live API): rules that match a
 * point in a connection's life and make the server misbehave the way the real service does.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CloseReasons, type CloseSpec } from '../protocol/close-codes.js';
import { parseDuration } from '../protocol/duration.js';
import { principalOf } from '../session/handles.js';

const closeNames = Object.keys(CloseReasons) as [keyof typeof CloseReasons, ...(keyof typeof CloseReasons)[]];

const Action = z.discriminatedUnion('type', [
  /** goAway now, closing 1008 at the deadline. */
  z.object({ type: z.literal('goAway'), timeLeft: z.string().refine((t) => parseDuration(t) !== undefined, 'a Duration like "5s"').default('50s') }),
  /** Close with a real code and reason, by catalogue name or spelled out. */
  z.object({
    type: z.literal('close'),
    name: z.enum(closeNames).optional(),
    code: z.number().int().min(1000).max(4999).optional(),
    reason: z.string().optional(),
  }),
  /** Drop the TCP connection without a close frame (clients see 1006). */
  z.object({ type: z.literal('drop') }),
  /**
   * Hold back server messages: each waits `ms` plus up to `jitterMs` more, in order (a later
   * message never overtakes an earlier one). Until the turn's turnComplete, or for the connection.
   */
  z.object({
    type: z.literal('delay'),
    ms: z.number().min(0).max(600_000),
    jitterMs: z.number().min(0).max(600_000).default(0),
    scope: z.enum(['turn', 'connection']).default('turn'),
  }),
  /** The next model turn ends with turnComplete after `afterChunks` content messages, no generationComplete. */
  z.object({ type: z.literal('prematureTurnComplete'), afterChunks: z.number().int().min(1).default(1) }),
  /** The next model turn is a bare turnComplete: no content at all. */
  z.object({ type: z.literal('emptyTurnComplete') }),
  /** Refuse the resume: 1008 "BidiGenerateContent session not found". */
  z.object({ type: z.literal('refuseResume') }),
  /** The resume succeeds, input is taken, and generation never starts: no reply ever comes. */
  z.object({ type: z.literal('poisonHandle') }),
  /**
   * The resume succeeds and the session starts with an empty history: the upstream that lost its
   * context (what a gateway's context-loss check must notice from promptTokenCount).
   */
  z.object({ type: z.literal('dropHistoryOnResume') }),
  /** Refuse the WebSocket upgrade with an HTTP status (429 RESOURCE_EXHAUSTED by default). */
  z.object({ type: z.literal('rejectUpgrade'), status: z.number().int().min(400).max(599).default(429) }),
]);

export const FaultRule = z
  .object({
    id: z.string().optional(),
    match: z
      .object({
        session: z.string().optional(),
        /** The API key as the client sends it; compared through its hash. */
        key: z.string().optional(),
        messageType: z.enum(['setup', 'clientContent', 'realtimeInput', 'toolResponse', 'contextUpdate']).optional(),
        /** The user turn number (1-based) the message belongs to. */
        turn: z.number().int().min(1).optional(),
        model: z.string().optional(),
      })
      .strict()
      .default({}),
    probability: z.number().min(0).max(1).default(1),
    /** How many times the rule fires; absent: every time. */
    count: z.number().int().min(1).optional(),
    action: Action,
  })
  .strict();

export type FaultRuleInput = z.input<typeof FaultRule>;
export type FaultAction = z.infer<typeof Action>;
interface Rule extends z.infer<typeof FaultRule> {
  id: string;
  fired: number;
}

/** Where in a connection's life a fault may strike, and which actions make sense there. */
export type FaultPoint = 'upgrade' | 'message' | 'resume';

const ACTIONS_AT: Record<FaultPoint, FaultAction['type'][]> = {
  upgrade: ['rejectUpgrade'],
  message: ['goAway', 'close', 'drop', 'delay', 'prematureTurnComplete', 'emptyTurnComplete'],
  resume: ['refuseResume', 'poisonHandle', 'dropHistoryOnResume'],
};

export interface FaultFacts {
  readonly session?: string;
  readonly principal?: string;
  readonly messageType?: string;
  readonly turn?: number;
  readonly model?: string;
}

export class FaultInjector {
  private rules: Rule[] = [];

  /** Also draws the jitter of delayed messages, so one seed makes a run repeatable. */
  constructor(readonly random: () => number = Math.random) {}

  add(input: unknown): Rule {
    const parsed = FaultRule.parse(input);
    const rule: Rule = { ...parsed, id: parsed.id ?? randomUUID(), fired: 0 };
    this.rules = this.rules.filter((r) => r.id !== rule.id).concat(rule);
    return rule;
  }

  /** No rules: the per-message check costs nothing then. */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  list(): readonly Rule[] {
    return this.rules;
  }

  remove(id?: string): number {
    const before = this.rules.length;
    this.rules = id === undefined ? [] : this.rules.filter((r) => r.id !== id);
    return before - this.rules.length;
  }

  /** The action of the first rule that matches and fires now, if any; spent rules are removed. */
  strike(point: FaultPoint, facts: FaultFacts): FaultAction | undefined {
    for (const rule of this.rules) {
      if (!ACTIONS_AT[point].includes(rule.action.type) || !matches(rule, facts)) continue;
      if (rule.probability < 1 && this.random() >= rule.probability) continue;
      rule.fired++;
      if (rule.count !== undefined && rule.fired >= rule.count) this.remove(rule.id);
      return rule.action;
    }
    return undefined;
  }
}

function matches(rule: Rule, facts: FaultFacts): boolean {
  const m = rule.match;
  if (m.session !== undefined && m.session !== facts.session) return false;
  if (m.key !== undefined && principalOf(m.key) !== facts.principal) return false;
  if (m.messageType !== undefined && m.messageType !== facts.messageType) return false;
  if (m.turn !== undefined && m.turn !== facts.turn) return false;
  if (m.model !== undefined && m.model !== facts.model && `models/${m.model}` !== facts.model) return false;
  return true;
}

/** The close a `close` action asks for. */
export function closeOf(action: Extract<FaultAction, { type: 'close' }>): CloseSpec {
  if (action.name) return CloseReasons[action.name];
  return { code: action.code ?? 1011, reason: action.reason ?? (action.code === undefined ? CloseReasons.internal.reason : '') };
}
