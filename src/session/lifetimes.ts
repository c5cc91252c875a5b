/**
 * Connection and session lifetimes (PROTOCOL.md §5.1–5.2). Defaults are the decisions of
 * PROTOCOL.md: a connection lasts 590 s with goAway 50 s before its end; a session without
 * context window compression lasts 15 min of connected time, 2 min once video was received;
 * a handle stays valid 2 h after the session's last connection ended.
 */
export interface Lifetimes {
  readonly connectionMs: number;
  readonly goAwayNoticeMs: number;
  readonly sessionAudioMs: number;
  readonly sessionVideoMs: number;
  readonly handleTtlMs: number;
}

export const DEFAULT_LIFETIMES: Lifetimes = {
  connectionMs: 590_000,
  goAwayNoticeMs: 50_000,
  sessionAudioMs: 15 * 60_000,
  sessionVideoMs: 2 * 60_000,
  handleTtlMs: 2 * 60 * 60_000,
};

export interface Deadline {
  /** Milliseconds from now until goAway is sent. */
  readonly goAwayInMs: number;
  /** Milliseconds from now until the connection is closed. */
  readonly closeInMs: number;
}

/** When to warn and when to close, given the time left; a short remainder is announced at once. */
export function deadlineFor(remainingMs: number, noticeMs: number): Deadline {
  const closeInMs = Math.max(0, remainingMs);
  return { goAwayInMs: Math.max(0, closeInMs - noticeMs), closeInMs };
}

/** Connected time the session has left, or undefined when compression lifts the cap. */
export function sessionTimeLeft(lifetimes: Lifetimes, compression: boolean, videoSeen: boolean, connectedMs: number): number | undefined {
  if (compression) return undefined;
  return (videoSeen ? lifetimes.sessionVideoMs : lifetimes.sessionAudioMs) - connectedMs;
}
