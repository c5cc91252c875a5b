/** `relive-gemini/protocol`: the Gemini Live wire format — types, lenient parser, encoder, close codes. */
export * from './client-schema.js';
export * from './close-codes.js';
export * from './duration.js';
export * from './encode.js';
export * from './endpoint.js';
export * from './normalize.js';
export * from './parse.js';
export * from './server-messages.js';
export { toCamelCase, toSnakeCase } from './case.js';
