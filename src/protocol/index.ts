/**
 * `relive-gemini/protocol`: the Gemini Live wire format — the message types, the lenient parser,
 * the encoder, close codes, durations and the endpoint's paths and credentials. Listed by name:
 * what is not here (the zod schemas, the normalizer, the message builders) may change freely.
 */
export type {
  Blob,
  ClientContent,
  ClientMessage,
  ClientMessageKind,
  Content,
  ContextUpdate,
  FunctionCall,
  FunctionDeclaration,
  FunctionResponse,
  Part,
  RealtimeInput,
  Setup,
  Tool,
  ToolResponse,
} from './client-schema.js';
export type {
  ModalityTokenCount,
  ServerContent,
  ServerFunctionCall,
  ServerMessage,
  ServerMessageKind,
  ServerPart,
  Transcription,
  UsageMetadata,
} from './server-messages.js';
export { OUTPUT_AUDIO_MIME } from './server-messages.js';
export { decodeFrame, parseClientFrame, parseClientJson, type ParseOptions, type ParseResult } from './parse.js';
export type { UnknownField } from './normalize.js';
export { encodeServerMessage } from './encode.js';
export { CloseReasons, isSendableCloseCode, MAX_CLOSE_REASON_BYTES, truncateCloseReason, type CloseSpec } from './close-codes.js';
export { formatDuration, parseDuration } from './duration.js';
export { matchLiveEndpoint, readCredential, type Credential, type LiveEndpoint } from './endpoint.js';
export { toCamelCase, toSnakeCase } from './case.js';
