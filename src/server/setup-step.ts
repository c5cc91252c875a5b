/**
 * What a connection's `setup` does before the session is attached: the API key check, the config
 * resolution, and creating or resuming the session in the store. It returns an outcome and
 * changes nothing of the connection: the connection applies the outcome in one synchronous step,
 * after the awaits, and so sees its own state as it is then (a client may have left meanwhile).
 */
import type { Setup } from '../protocol/client-schema.js';
import { CloseReasons, type CloseSpec } from '../protocol/close-codes.js';
import type { Credential, LiveEndpoint } from '../protocol/endpoint.js';
import { errorMessage } from '../errors.js';
import { checkSetup, type SessionConfig } from '../session/config.js';
import type { LiveSessionDeps } from '../session/live-session.js';
import type { ServerContext } from './context.js';
import { createSession, resumeSession, type Holder, type OpenedSession, type OpeningContext } from './session-opening.js';

/** What the setup step uses of the server. */
export type SetupContext = OpeningContext &
  Pick<ServerContext, 'apiKeys' | 'unknownModels' | 'extraModels' | 'models' | 'unknownModelsLogged' | 'log' | 'engine' | 'speech' | 'audioChunkMs' | 'tokens' | 'metrics'>;

export type SetupOutcome =
  | { readonly ok: true; readonly opened: OpenedSession; readonly config: SessionConfig }
  | { readonly ok: false; readonly close: CloseSpec; readonly detail: string };

export interface SetupRequest {
  readonly setup: Setup;
  readonly credential: Credential | undefined;
  readonly principal: string;
  readonly apiVersion: LiveEndpoint['apiVersion'];
  /** Who holds a session on this node now, other than the asking connection. */
  readonly holder: (sessionId: string) => Holder | undefined;
  /** The connection's logger. */
  readonly log: { error(obj: object, message: string): void };
}

export async function openForSetup(ctx: SetupContext, request: SetupRequest): Promise<SetupOutcome> {
  const { credential } = request;
  if (ctx.apiKeys.size > 0 && (!credential || !ctx.apiKeys.has(credential.value))) {
    return { ok: false, close: CloseReasons.invalidApiKey, detail: 'key not in the allow-list' };
  }
  const resolved = checkSetup(request.setup, ctx, request.apiVersion);
  if (!resolved.ok) return { ok: false, close: resolved.close, detail: resolved.detail };
  const config = resolved.config;
  if (!config.knownModel && !ctx.unknownModelsLogged.has(config.model)) {
    // Next month's model must work at once, but the user should know it runs on guesses.
    ctx.unknownModelsLogged.add(config.model);
    ctx.log.warn(
      { model: config.model, profile: config.profile.name },
      'no model profile names this model: it runs with the default profile (docs/models.md says how to add one)',
    );
  }
  const deps: LiveSessionDeps = {
    engine: ctx.engine,
    speech: ctx.speech,
    audioChunkMs: ctx.audioChunkMs,
    clock: ctx.clock,
    strict: ctx.strict,
    log: ctx.log,
    ...ctx.tokens,
    onCompression: () => ctx.metrics.compressions.inc(),
  };
  const handle = config.setup.sessionResumption?.handle;
  try {
    const result = handle
      ? await resumeSession(ctx, handle, config, request.principal, deps, request.holder)
      : await createSession(ctx, config, request.principal, deps);
    return result.ok ? { ok: true, opened: result.opened, config } : result;
  } catch (err) {
    request.log.error({ err: errorMessage(err) }, 'opening the session failed');
    return { ok: false, close: CloseReasons.internal, detail: 'store failure while opening the session' };
  }
}
