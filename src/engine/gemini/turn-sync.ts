/**
 * What the upstream lacks of relive's conversation, sent at the start of each generation: the
 * history to seed a new upstream session, the function results with the upstream's call ids, and
 * the new input (typed text as content; speech the upstream heard as it came ends its activity).
 */
import type { ContextPart, ContextTurn } from '../../session/context.js';
import { isUserInput } from '../../session/context.js';
import type { UpstreamLink } from './upstream-link.js';

/**
 * Sends what the upstream does not have yet: history to seed a new upstream session, then the new
 * input. `historyAnytime` false (3.1): the upstream takes clientContent only as its initial history,
 * so history goes only to an upstream session that has had nothing yet, and typed input goes as
 * realtime text.
 */
export function sendNewTurns(link: UpstreamLink, history: readonly ContextTurn[], historyAnytime = true): void {
  matchCallIds(link, history);
  const firstSync = link.synced === undefined;
  // The trailing input is what this generation answers; what precedes it is known upstream, or,
  // for a new upstream session (a relive session resumed), context sent without asking for a reply.
  let inputStart = history.length;
  while (inputStart > 0 && history[inputStart - 1]!.role === 'user') inputStart--;
  const seen = link.synced ? indexOfTurn(history, link.synced) : -1;
  // A synced turn compression has dropped, or an upstream that began with the conversation in it:
  // everything before the new input is there already.
  const from = link.synced ? (seen >= 0 ? seen + 1 : inputStart) : link.hasContext ? inputStart : 0;
  const fresh = history.slice(from);
  if (fresh.length === 0) return;
  link.synced = history[history.length - 1];
  const inputFrom = Math.max(0, inputStart - from);
  // Model turns right after the synced one are the upstream's own reply; anything after them
  // before the input came from the client (history prefilled with turnComplete false).
  let contextFrom = 0;
  if (from > 0) while (contextFrom < inputFrom && fresh[contextFrom]!.role === 'model') contextFrom++;
  const context = fresh.slice(contextFrom, inputFrom).map((t) => toContent(t)).filter((c) => c.parts.length > 0);
  // Mid-session history (turns a client prefilled) cannot reach such an upstream: it would close 1007.
  if (context.length > 0 && (historyAnytime || firstSync)) link.session.sendClientContent({ turns: context, turnComplete: false });
  const input = fresh.slice(inputFrom);
  // Speech the upstream has heard as it came: ending the activity asks for the reply, and only
  // the rest of the input (typed text) goes as content. Speech without relayed audio (restored
  // from the store) goes as its transcript.
  const spoken = input.some((t) => t.role === 'user' && t.parts.some((p) => p.kind === 'audio')) && link.relay.pending;
  const responses = input.flatMap((t) => t.parts.filter((p): p is Extract<ContextPart, { kind: 'functionResponse' }> => p.kind === 'functionResponse'));
  if (responses.length > 0) {
    link.session.sendToolResponse({
      functionResponses: responses.map((r) => ({ id: link.callIds.get(r.id) ?? r.id, name: r.name, response: r.response })),
    });
  }
  const turns = input
    .filter(isUserInput)
    .map((t) => toContent(t, !spoken))
    .filter((c) => c.parts.length > 0);
  if (!historyAnytime) {
    // Typed input as realtime text. relive keeps the upstream's activity detection manual (it
    // decides where turns end), so the text goes inside an activity, whose end asks for the reply;
    // with speech, that activity is the one the speech opened.
    const text = turns.flatMap((c) => (c.parts ?? []).map((p) => p.text ?? '')).join('\n').trim();
    if (spoken) link.relay.endTurn();
    else if (text) {
      link.session.sendRealtimeInput({ activityStart: {} });
      link.session.sendRealtimeInput({ text });
      link.session.sendRealtimeInput({ activityEnd: {} });
    }
    return;
  }
  if (spoken) {
    if (turns.length > 0) link.session.sendClientContent({ turns, turnComplete: false });
    link.relay.endTurn();
  } else if (turns.length > 0) link.session.sendClientContent({ turns, turnComplete: true });
}

/**
 * Where `turn` is in `history`: by identity, or, for a session restored from the store (new
 * objects, same turns), by content, looking from the end.
 */
function indexOfTurn(history: readonly ContextTurn[], turn: ContextTurn): number {
  const same = history.lastIndexOf(turn);
  if (same >= 0) return same;
  const wanted = JSON.stringify(turn);
  for (let i = history.length - 1; i >= 0; i--) if (JSON.stringify(history[i]) === wanted) return i;
  return -1;
}

/** relive's ids for calls the upstream made, in order: the session issues one per call it was handed. */
function matchCallIds(link: UpstreamLink, history: readonly ContextTurn[]): void {
  if (link.unmatchedCallIds.length === 0) return;
  for (const turn of history) {
    for (const part of turn.parts) {
      if (part.kind !== 'functionCall' || link.callIds.has(part.id)) continue;
      const upstream = link.unmatchedCallIds.shift();
      if (upstream === undefined) return;
      link.callIds.set(part.id, upstream);
    }
  }
}

/** A turn as Live Content: text, and speech as its transcript (context for an upstream session that never heard it). */
export function toContent(turn: ContextTurn, withSpeech = true): { role: string; parts: { text: string }[] } {
  const parts: { text: string }[] = [];
  for (const p of turn.parts) {
    if (p.kind === 'text' && !p.thought) parts.push({ text: p.text });
    else if (p.kind === 'audio' && p.transcript && withSpeech) parts.push({ text: p.transcript.trim() });
  }
  return { role: turn.role, parts };
}
