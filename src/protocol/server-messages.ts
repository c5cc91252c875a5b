/**
 * Server → client messages (PROTOCOL.md §4) and the builders that make them. Builders insert keys
 * in proto field-number order and never set a proto default (false, 0, "", []), so encoding is a
 * plain pretty-print: proto3 JSON omits defaults, and clients read `"turnComplete": true` only.
 */
import { formatDuration } from './duration.js';

export interface ServerPart {
  text?: string;
  inlineData?: { mimeType: string; data: string };
  thought?: true;
}

/** One recognized word with its offsets in the audio (`Duration` strings), when `wordTimestamp` was asked for. */
export interface TranscribedWord {
  word: string;
  startOffset?: string;
  endOffset?: string;
}

export interface Transcription {
  text?: string;
  finished?: true;
  languageCode?: string;
  speakerLabel?: string;
  words?: TranscribedWord[];
  startOffset?: string;
  endOffset?: string;
}

/** `serverContent.interactionStatus` (3.8 models): only IDLE ends the interaction; REQUIRES_ACTION is IDLE's old name. */
export type InteractionStatus = 'IN_PROGRESS' | 'IDLE';

export interface ServerContent {
  modelTurn?: { parts: ServerPart[] };
  turnComplete?: true;
  interrupted?: true;
  generationComplete?: true;
  inputTranscription?: Transcription;
  outputTranscription?: Transcription;
  waitingForInput?: true;
  turnCompleteReason?: string;
  interimInputTranscription?: Transcription;
  interactionStatus?: InteractionStatus;
}

export interface ModalityTokenCount {
  modality: 'TEXT' | 'IMAGE' | 'VIDEO' | 'AUDIO' | 'DOCUMENT';
  tokenCount: number;
}

export interface UsageMetadata {
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  responseTokenCount?: number;
  toolUsePromptTokenCount?: number;
  thoughtsTokenCount?: number;
  totalTokenCount?: number;
  promptTokensDetails?: ModalityTokenCount[];
  responseTokensDetails?: ModalityTokenCount[];
}

export interface ServerFunctionCall {
  name: string;
  args?: Record<string, unknown>;
  id: string;
}

export type ServerMessage =
  | { setupComplete: { sessionId?: string } }
  | { serverContent: ServerContent; usageMetadata?: UsageMetadata }
  | { toolCall: { functionCalls: ServerFunctionCall[] } }
  | { toolCallCancellation: { ids: string[] } }
  | { goAway: { timeLeft: string } }
  | {
      sessionResumptionUpdate: { newHandle?: string; resumable?: true; lastConsumedClientMessageIndex?: string };
      usageMetadata?: UsageMetadata;
    };

export type ServerMessageKind =
  | 'setupComplete'
  | 'serverContent'
  | 'toolCall'
  | 'toolCallCancellation'
  | 'goAway'
  | 'sessionResumptionUpdate';

export function kindOf(message: ServerMessage): ServerMessageKind {
  return Object.keys(message).find((k) => k !== 'usageMetadata') as ServerMessageKind;
}

export const OUTPUT_AUDIO_MIME = 'audio/pcm;rate=24000';

export const msg = {
  setupComplete(sessionId?: string): ServerMessage {
    return { setupComplete: sessionId ? { sessionId } : {} };
  },
  text(text: string, thought = false): ServerMessage {
    const part: ServerPart = thought ? { text, thought: true } : { text };
    return { serverContent: { modelTurn: { parts: [part] } } };
  },
  /** `mimeType` other than relive's own output format only for a model's own speech relayed as it came. */
  audio(pcmBase64: string, mimeType = OUTPUT_AUDIO_MIME): ServerMessage {
    return { serverContent: { modelTurn: { parts: [{ inlineData: { mimeType, data: pcmBase64 } }] } } };
  },
  /** An audio chunk and the transcript of it in one event (a model that bundles parts: 3.1). */
  audioWithTranscript(pcmBase64: string, text: string, detail: Omit<Transcription, 'text'> = {}, mimeType = OUTPUT_AUDIO_MIME): ServerMessage {
    return { serverContent: { modelTurn: { parts: [{ inlineData: { mimeType, data: pcmBase64 } }] }, outputTranscription: { text, ...detail } } };
  },
  /** `detail`: what the client's transcription config asked for (language, word timing). */
  outputTranscription(text: string, detail: Omit<Transcription, 'text'> = {}): ServerMessage {
    return { serverContent: { outputTranscription: text ? { text, ...detail } : { ...detail } } };
  },
  inputTranscription(text: string, finished = false, detail: Omit<Transcription, 'text' | 'finished'> = {}): ServerMessage {
    const t: Transcription = text ? { text, ...detail } : { ...detail };
    if (finished) t.finished = true;
    return { serverContent: { inputTranscription: t } };
  },
  /** Words heard while the user is still speaking (a transcription model): the final transcript follows. */
  interimInputTranscription(text: string, detail: Omit<Transcription, 'text'> = {}): ServerMessage {
    return { serverContent: { interimInputTranscription: { text, ...detail } } };
  },
  generationComplete(): ServerMessage {
    return { serverContent: { generationComplete: true } };
  },
  /** `interactionStatus` only on models whose profile sends it (3.8): IDLE on the last turn of a request. */
  turnComplete(usage?: UsageMetadata, interactionStatus?: InteractionStatus): ServerMessage {
    const serverContent: ServerContent = interactionStatus ? { turnComplete: true, interactionStatus } : { turnComplete: true };
    return usage ? { serverContent, usageMetadata: usage } : { serverContent };
  },
  interrupted(): ServerMessage {
    return { serverContent: { interrupted: true } };
  },
  toolCall(functionCalls: ServerFunctionCall[]): ServerMessage {
    return { toolCall: { functionCalls } };
  },
  toolCallCancellation(ids: string[]): ServerMessage {
    return { toolCallCancellation: { ids } };
  },
  goAway(timeLeftMs: number): ServerMessage {
    return { goAway: { timeLeft: formatDuration(timeLeftMs) } };
  },
  resumptionUpdate(handle?: string, lastConsumedClientMessageIndex?: number): ServerMessage {
    const update: { newHandle?: string; resumable?: true; lastConsumedClientMessageIndex?: string } = {};
    if (handle) {
      update.newHandle = handle;
      update.resumable = true;
    }
    if (lastConsumedClientMessageIndex) update.lastConsumedClientMessageIndex = String(lastConsumedClientMessageIndex);
    return { sessionResumptionUpdate: update };
  },
};
