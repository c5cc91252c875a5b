/**
 * Backend failures → the close a Gemini Live client would get for the same trouble from Google
 * (PROTOCOL.md §7: the gRPC status each HTTP error stands for, and that status's close).
 */
import { CloseReasons, unknownModelClose, type CloseSpec } from '../../protocol/close-codes.js';

/** OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`; other servers send text or `{"error": "…"}`. */
export interface BackendError {
  readonly message: string;
  readonly type?: string;
  readonly code?: string;
}

export function parseErrorBody(text: string): BackendError {
  try {
    const body = JSON.parse(text) as unknown;
    if (isObject(body)) {
      const error = body.error;
      if (typeof error === 'string') return { message: error };
      if (isObject(error)) return errorFields(error);
      if (typeof body.message === 'string') return { message: body.message };
    }
  } catch {
    // Not JSON: a proxy's HTML page, a plain-text "404 page not found", …
  }
  return { message: text.trim().slice(0, 500) };
}

export function errorFields(error: Record<string, unknown>): BackendError {
  return {
    message: typeof error.message === 'string' ? error.message : JSON.stringify(error),
    ...(typeof error.type === 'string' ? { type: error.type } : {}),
    ...(typeof error.code === 'string' || typeof error.code === 'number' ? { code: String(error.code) } : {}),
  };
}

/**
 * 429 (rate limit or quota) → 1011 quota; 5xx → 1011 unavailable; 400 → 1007 invalid argument;
 * 401/403 → 1007 bad key; 404 naming the model → 1008 model not found, another 404 (a wrong base
 * URL, usually) → 1008 entity not found; 408 → 1011 deadline expired.
 */
export function closeForStatus(status: number, error: BackendError, model: string, apiVersion: string): CloseSpec {
  if (status === 429) return CloseReasons.quotaExceeded;
  if (status === 401 || status === 403) return CloseReasons.invalidApiKey;
  if (status === 404) return mentionsModel(error) ? modelNotFound(model, apiVersion) : CloseReasons.entityNotFound;
  if (status === 408) return CloseReasons.deadlineExpired;
  if (status >= 500) return CloseReasons.unavailable;
  if (status >= 400) return CloseReasons.invalidArgument;
  return CloseReasons.internal;
}

/** An `error` the server put into the stream after it had answered 200. */
export function closeForStreamError(error: BackendError, model: string, apiVersion: string): CloseSpec {
  const what = `${error.type ?? ''} ${error.code ?? ''}`.toLowerCase();
  if (/quota|rate_limit|resource_exhausted|\b429\b/.test(what)) return CloseReasons.quotaExceeded;
  if (/model_not_found/.test(what)) return modelNotFound(model, apiVersion);
  if (/invalid_request|context_length|\b400\b/.test(what)) return CloseReasons.invalidArgument;
  return CloseReasons.unavailable;
}

/** Google's unknown-model close, naming the backend's model and its API version (`v1` for OpenAI-compatible servers). */
export function modelNotFound(model: string, apiVersion: string): CloseSpec {
  return unknownModelClose(model.startsWith('models/') ? model : `models/${model}`, apiVersion);
}

function mentionsModel(error: BackendError): boolean {
  return /model/i.test(`${error.code ?? ''} ${error.message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
