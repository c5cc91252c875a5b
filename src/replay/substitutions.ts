/**
 * Values a server makes up and a client sends back: resumption handles and function call ids. A
 * replay cannot send the recorded ones (the other server never issued them), so each is replaced
 * by the value the replay received at the same position: the k-th handle (or call id) the
 * recording received on connection N becomes the k-th one the replay received on connection N.
 */

/** The client field a value is sent back in, and the server field it came from. */
export type SubstitutionKind = 'handle' | 'functionCallId';

interface Origin {
  readonly kind: SubstitutionKind;
  readonly connection: number;
  /** 0-based among the values of this kind received on that connection. */
  readonly ordinal: number;
}

export interface SubstitutionMiss {
  readonly kind: SubstitutionKind;
  readonly recorded: string;
  /** Where the recording received it: connection index (0-based) and ordinal (0-based). */
  readonly connection: number;
  readonly ordinal: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Handles and call ids in one server message, in message order. */
export function issuedValues(message: unknown): { kind: SubstitutionKind; value: string }[] {
  const out: { kind: SubstitutionKind; value: string }[] = [];
  if (!isObj(message)) return out;
  const update = message.sessionResumptionUpdate;
  if (isObj(update) && typeof update.newHandle === 'string' && update.newHandle) out.push({ kind: 'handle', value: update.newHandle });
  const toolCall = message.toolCall;
  if (isObj(toolCall) && Array.isArray(toolCall.functionCalls)) {
    for (const call of toolCall.functionCalls) if (isObj(call) && typeof call.id === 'string') out.push({ kind: 'functionCallId', value: call.id });
  }
  return out;
}

/**
 * The field names a client sends those values back in: `setup.sessionResumption.handle` (also
 * snake_case `session_resumption`) and `toolResponse.functionResponses[].id`. Matching by field
 * name and exact value, wherever the field sits, covers both spellings without a schema.
 */
const FIELD_OF: Record<SubstitutionKind, string> = { handle: 'handle', functionCallId: 'id' };

export class Substitutions {
  private readonly origins = new Map<string, Origin>();
  /** Per connection, per kind: the values the replay received, in order. */
  private readonly replayed = new Map<number, Record<SubstitutionKind, string[]>>();

  /** Learns the recording's values from its server messages, per connection (0-based index). */
  constructor(recordedConnections: readonly { index: number; serverMessages: readonly unknown[] }[]) {
    for (const c of recordedConnections) {
      const counts: Record<SubstitutionKind, number> = { handle: 0, functionCallId: 0 };
      for (const m of c.serverMessages) {
        for (const { kind, value } of issuedValues(m)) {
          // The first time a value was issued is its position; a re-delivered call keeps it.
          if (!this.origins.has(value)) this.origins.set(value, { kind, connection: c.index, ordinal: counts[kind] });
          counts[kind]++;
        }
      }
    }
  }

  /** A message the replay received on connection `connection`. */
  received(connection: number, message: unknown): void {
    let lists = this.replayed.get(connection);
    if (!lists) {
      lists = { handle: [], functionCallId: [] };
      this.replayed.set(connection, lists);
    }
    for (const { kind, value } of issuedValues(message)) lists[kind].push(value);
  }

  /**
   * A copy of a client message with every recorded handle and call id replaced. A value whose
   * counterpart the replay never received is left as recorded and reported.
   */
  apply(json: unknown): { json: unknown; misses: SubstitutionMiss[]; replaced: number } {
    const misses: SubstitutionMiss[] = [];
    let replaced = 0;
    const walk = (v: unknown, key: string | undefined): unknown => {
      if (Array.isArray(v)) return v.map((x) => walk(x, key));
      // fromEntries defines own properties: a recorded "__proto__" key stays a key.
      if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, child]) => [k, walk(child, k)]));
      if (typeof v !== 'string' || key === undefined) return v;
      const origin = this.origins.get(v);
      if (!origin || FIELD_OF[origin.kind] !== key) return v;
      const value = this.replayed.get(origin.connection)?.[origin.kind][origin.ordinal];
      if (value === undefined) {
        misses.push({ kind: origin.kind, recorded: v, connection: origin.connection, ordinal: origin.ordinal });
        return v;
      }
      if (value !== v) replaced++;
      return value;
    };
    return { json: walk(json, undefined), misses, replaced };
  }
}
