/**
 * The start-up line that says which voice features this server has: voice activity detection
 * (Silero on onnxruntime-node), transcription (pocketsphinx) and speech synthesis (flite). Each
 * can be missing without stopping relive, and the first two are missing on a fresh machine
 * (an optional dependency npm dropped, an apt package not installed), so each one that is off
 * comes with why and the fix, in one line, rather than as a surprise at the first audio session.
 */
import type { Logger } from 'pino';

export interface VoiceFeature {
  readonly on: boolean;
  /** "Silero v5 on onnxruntime-node", or why it is off. */
  readonly detail: string;
  /** Off because it was turned off (an option), not because something is missing. */
  readonly chosen?: boolean;
  /** What to do about it. */
  readonly fix?: string;
}

export interface VoiceReport {
  readonly activityDetection: VoiceFeature;
  readonly transcription: VoiceFeature;
  readonly speechSynthesis: VoiceFeature;
}

const NAMES: Record<keyof VoiceReport, string> = {
  activityDetection: 'voice activity detection',
  transcription: 'transcription',
  speechSynthesis: 'speech synthesis',
};

/** `voice activity detection on (Silero v5 on onnxruntime-node); transcription off: …: apt-get install …; …` */
export function voiceLine(report: VoiceReport): string {
  return (Object.keys(NAMES) as (keyof VoiceReport)[])
    .map((key) => {
      const f = report[key];
      if (f.on || f.chosen) return `${NAMES[key]} ${f.on ? 'on' : 'off'} (${f.detail})`;
      return `${NAMES[key]} off: ${f.detail}${f.fix ? `: ${f.fix}` : ''}`;
    })
    .join('; ');
}

/** Something a user would want that is missing: the line is then a warning. */
export function voiceMissing(report: VoiceReport): boolean {
  return Object.values(report).some((f: VoiceFeature) => !f.on && !f.chosen);
}

/** The line's structured form: on/off per feature, for log processors. */
export function voiceFields(report: VoiceReport): Record<keyof VoiceReport, 'on' | 'off'> {
  return {
    activityDetection: report.activityDetection.on ? 'on' : 'off',
    transcription: report.transcription.on ? 'on' : 'off',
    speechSynthesis: report.speechSynthesis.on ? 'on' : 'off',
  };
}

/** The start-up line: one for all three, a warning when one is missing (a fresh machine lacks some). */
export function logVoiceReport(log: Pick<Logger, 'info' | 'warn'>, report: VoiceReport): void {
  (voiceMissing(report) ? log.warn.bind(log) : log.info.bind(log))({ voice: voiceFields(report) }, voiceLine(report));
}
