/**
 * relive's conversation → OpenAI chat `messages`. The session keeps Gemini-shaped turns; an
 * OpenAI-compatible server wants a system message, user and assistant messages, assistant
 * `tool_calls` each answered by a `tool` message right after it. Audio reaches the model as its
 * transcript (relive's own speech recognizer made it); images only as a note (no vision yet).
 */
import type { Content } from '../../protocol/client-schema.js';
import type { ContextPart, ContextTurn } from '../../session/context.js';

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  /** `content` is null when the message only calls functions, as OpenAI's reference allows. */
  | { role: 'assistant'; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** The tool message for a call the client never answered (cancelled by a barge-in, or still running). */
export const NO_RESPONSE = JSON.stringify({ error: 'No response: the call was cancelled or has not returned yet.' });

export function toChatMessages(systemInstruction: Content | undefined, history: readonly ContextTurn[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const system = systemText(systemInstruction);
  if (system) messages.push({ role: 'system', content: system });
  return [...messages, ...arrange(chronological(history))];
}

/** The text parts of the system instruction, one paragraph each. */
export function systemText(content: Content | undefined): string {
  return (content?.parts ?? [])
    .flatMap((p) => (p.text !== undefined && !p.thought && p.text.trim() !== '' ? [p.text] : []))
    .join('\n');
}

/** `[2.4 s of audio the speech recognizer could not transcribe]` */
export function untranscribedNote(seconds: number): string {
  return `[${formatSeconds(seconds)} of audio the speech recognizer could not transcribe]`;
}

export function imageNote(mimeType: string): string {
  return `[an image (${mimeType || 'unknown type'}) was sent; this model cannot see images]`;
}

/** A tool message that remembers its function's name, for the note it may become. */
type Draft = Exclude<ChatMessage, { role: 'tool' }> | { role: 'tool'; tool_call_id: string; content: string; name: string };

/** One message per turn (tool messages apart), in history order; the ids of id-less calls filled in. */
function chronological(history: readonly ContextTurn[]): Draft[] {
  const out: Draft[] = [];
  /** Open calls, id → name, oldest first. */
  const unanswered = new Map<string, string>();
  let generated = 0;
  for (const turn of history) {
    const texts: string[] = [];
    const calls: ChatToolCall[] = [];
    const tools: Draft[] = [];
    for (const part of turn.parts) {
      const text = partText(part, turn.role);
      if (text) texts.push(text);
      if (part.kind === 'functionCall') {
        const id = part.id || `call_${++generated}`;
        unanswered.set(id, part.name);
        calls.push({ id, type: 'function', function: { name: part.name, arguments: JSON.stringify(part.args ?? {}) } });
      } else if (part.kind === 'functionResponse') {
        // A response without an id answers the oldest open call of its name.
        const id = part.id || oldestCall(unanswered, part.name) || `call_${++generated}`;
        unanswered.delete(id);
        tools.push({ role: 'tool', tool_call_id: id, content: JSON.stringify(part.response ?? {}), name: part.name });
      }
    }
    if (turn.role === 'model') {
      if (texts.length > 0 || calls.length > 0) {
        out.push(calls.length > 0 ? { role: 'assistant', content: joined(texts), tool_calls: calls } : { role: 'assistant', content: joined(texts) });
      }
      // A model turn has no responses; a client that put one there still gets it through.
      out.push(...tools);
    } else {
      // Responses first: they answer the model's last message; what the user adds follows.
      out.push(...tools);
      if (texts.length > 0) out.push({ role: 'user', content: texts.join('\n') });
    }
  }
  return out;
}

function oldestCall(open: ReadonlyMap<string, string>, name: string): string | undefined {
  for (const [id, callName] of open) if (!name || callName === name) return id;
  return undefined;
}

/**
 * OpenAI's ordering rules: every assistant `tool_calls` message is followed at once by one tool
 * message per call, and no tool message stands anywhere else. Responses that arrived later (a
 * NON_BLOCKING call answered after the user spoke again) move up to their call; calls never
 * answered get a NO_RESPONSE; responses to no call (the call fell out of the context window)
 * become a note in a user message. Then neighbours of one role merge: some chat templates refuse
 * two user (or assistant) messages in a row.
 */
function arrange(messages: readonly Draft[]): ChatMessage[] {
  // Where each call's responses are, in order: one pass, however long the history.
  const responses = new Map<string, number[]>();
  messages.forEach((m, i) => {
    if (m.role !== 'tool') return;
    const at = responses.get(m.tool_call_id);
    if (at) at.push(i);
    else responses.set(m.tool_call_id, [i]);
  });
  const used = new Set<number>();
  const placed: ChatMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === 'tool') {
      if (used.has(i)) continue;
      placed.push({ role: 'user', content: `[result of ${m.name || 'a function call'}: ${m.content}]` });
      continue;
    }
    placed.push(m);
    if (m.role !== 'assistant' || !m.tool_calls) continue;
    for (const call of m.tool_calls) {
      const queue = responses.get(call.id) ?? [];
      while (queue.length > 0 && queue[0]! < i) queue.shift();
      const j = queue.shift();
      const response = j === undefined ? undefined : messages[j];
      if (j !== undefined && response?.role === 'tool') {
        used.add(j);
        placed.push({ role: 'tool', tool_call_id: response.tool_call_id, content: response.content });
      } else {
        placed.push({ role: 'tool', tool_call_id: call.id, content: NO_RESPONSE });
      }
    }
  }
  return merge(placed);
}

function merge(messages: readonly ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    const last = out[out.length - 1];
    if (last?.role === 'user' && m.role === 'user') {
      out[out.length - 1] = { role: 'user', content: `${last.content}\n${m.content}` };
    } else if (last?.role === 'assistant' && m.role === 'assistant' && !last.tool_calls) {
      const content = glue([last.content ?? '', m.content ?? '']);
      out[out.length - 1] = m.tool_calls
        ? { role: 'assistant', content: content || null, tool_calls: m.tool_calls }
        : { role: 'assistant', content };
    } else {
      out.push(m);
    }
  }
  return out;
}

function partText(part: ContextPart, role: ContextTurn['role']): string {
  switch (part.kind) {
    case 'text':
      return part.thought ? '' : part.text;
    case 'audio': {
      const transcript = part.transcript?.trim();
      if (transcript) return transcript;
      // The user spoke and the recognizer made nothing of it (or did not run): the model should know.
      if (role === 'user') return untranscribedNote(part.seconds);
      // The model's own speech cut before its first word says nothing; audio of unknown content, a note.
      return part.transcript === undefined ? `[${formatSeconds(part.seconds)} of audio]` : '';
    }
    case 'image':
      return imageNote(part.mimeType);
    default:
      return '';
  }
}

function joined(texts: readonly string[]): string | null {
  const text = glue(texts);
  return text === '' ? null : text;
}

/** Joins with a space where neither side has whitespace already. */
function glue(texts: readonly string[]): string {
  let out = '';
  for (const t of texts) {
    if (t === '') continue;
    out += out === '' || /\s$/.test(out) || /^\s/.test(t) ? t : ` ${t}`;
  }
  return out;
}

function formatSeconds(seconds: number): string {
  return `${Math.round(seconds * 10) / 10} s`;
}
