/**
 * What the library knows of the conversation from its own side of the wire: whether the model is
 * mid-turn or a reply is awaited, and a transcript of finished turns. With the interaction boundary
 * (protocol/interaction-boundary.ts: owed tool calls, IDLE, the handle after it) the first decides
 * when a connection may be rotated; the transcript seeds a fresh session when a handle no longer resumes.
 */
import type { TranscriptTurn } from './handle-store.js';

/** Turns kept for re-seeding; older ones go first (a session's own compression would drop them too). */
const MAX_TRANSCRIPT_TURNS = 200;

export class Conversation {
  /** The model has started a turn (output or a tool call) that has not ended yet. */
  generating = false;
  /** Input that asks for a reply was sent, and no reply has started yet. */
  awaitingReply = false;
  readonly transcript: TranscriptTurn[] = [];
  private modelText = '';
  /** User input of the turn in progress: it enters the transcript when the turn ends, as consumed. */
  private userTexts: string[] = [];
  private transcribed = '';
  /** Transcript turns ever pushed (the transcript keeps only the newest): marks for `between`. */
  private pushedTotal = 0;

  /** A mark: the transcript as it is now. */
  get mark(): number {
    return this.pushedTotal;
  }

  /** The transcript turns pushed between two marks (those still kept). */
  between(from: number, to: number): TranscriptTurn[] {
    const end = this.transcript.length - (this.pushedTotal - to);
    return this.transcript.slice(Math.max(0, end - (to - from)), Math.max(0, end));
  }

  /** Nothing generating and no reply awaited (owed tool calls are the boundary tracker's). */
  get idle(): boolean {
    return !this.generating && !this.awaitingReply;
  }

  sent(wire: Record<string, unknown>): void {
    const cc = wire.clientContent as { turns?: { role?: string; parts?: { text?: string }[] }[]; turnComplete?: boolean } | undefined;
    if (cc) {
      for (const turn of cc.turns ?? []) {
        const text = (turn.parts ?? []).map((p) => p.text ?? '').join('');
        if (!text) continue;
        if (turn.role === 'model') this.push('model', text);
        else this.userTexts.push(text);
      }
      if (cc.turnComplete) this.awaitingReply = true;
    }
    const ri = wire.realtimeInput as { text?: string; activityEnd?: unknown; audioStreamEnd?: boolean } | undefined;
    if (ri?.text) {
      this.userTexts.push(ri.text);
      this.awaitingReply = true;
    }
    // Manual activity detection: the end of the user's activity asks for the reply.
    if (ri?.activityEnd) this.awaitingReply = true;
  }

  received(m: Record<string, any>): void {
    const sc = m.serverContent;
    if (sc) {
      if (sc.modelTurn) {
        this.generating = true;
        this.awaitingReply = false;
        for (const p of sc.modelTurn.parts ?? []) if (typeof p.text === 'string' && !p.thought) this.modelText += p.text;
      }
      if (sc.outputTranscription?.text) this.modelText += sc.outputTranscription.text;
      if (sc.inputTranscription?.text) this.transcribed += sc.inputTranscription.text;
      if (sc.turnComplete) {
        this.generating = false;
        this.awaitingReply = false;
        this.endTurn();
      }
    }
    if (m.toolCall) {
      this.generating = true;
      this.awaitingReply = false;
    }
  }

  private endTurn(): void {
    for (const text of this.userTexts) this.push('user', text);
    if (this.transcribed.trim()) this.push('user', this.transcribed.trim());
    if (this.modelText.trim()) this.push('model', this.modelText.trim());
    this.userTexts = [];
    this.transcribed = '';
    this.modelText = '';
  }

  private push(role: 'user' | 'model', text: string): void {
    this.transcript.push({ role, text });
    this.pushedTotal++;
    if (this.transcript.length > MAX_TRANSCRIPT_TURNS) this.transcript.splice(0, this.transcript.length - MAX_TRANSCRIPT_TURNS);
  }
}
