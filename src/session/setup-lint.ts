/**
 * A setup message judged without a connection: would the server (and so, as far as relive's
 * profiles know, the real service) take it, and if not, with which close. It runs the same steps a
 * connection runs for its first frame: the protocol parser (strict or loose, as the server is),
 * then checkSetup. Used by `relive lint-setup` and by `POST /relive/v1/setup:lint`.
 */
import { ClientMessageKinds } from '../protocol/client-schema.js';
import { toCamelCase } from '../protocol/case.js';
import { truncateCloseReason, type CloseSpec } from '../protocol/close-codes.js';
import type { UnknownField } from '../protocol/normalize.js';
import { parseClientJson } from '../protocol/parse.js';
import { checkSetup, type SetupPolicy } from './config.js';

export type SetupLint =
  /** Not a setup at all (not an object, another message kind, a wrong type): nothing to judge. */
  | { readonly kind: 'malformed'; readonly detail: string }
  | {
      readonly kind: 'accepted';
      readonly model: string;
      readonly profile: string;
      /** False: no profile names the model, and the default profile stands in. */
      readonly knownModel: boolean;
      /** Fields relive does not know, taken and ignored (loose mode; strict refuses them). */
      readonly ignoredFields: readonly UnknownField[];
    }
  | {
      readonly kind: 'refused';
      readonly model: string;
      readonly profile: string;
      /** The close as it goes on the wire (the reason cut to 123 bytes, as the connection sends it). */
      readonly close: CloseSpec;
      /** Which rule refused it, and why the model has it. */
      readonly detail: string;
    };

const kinds = Object.keys(ClientMessageKinds);

/**
 * `message` is a setup as a client sends it, `{"setup": {...}}`, or the bare setup object.
 * `model`, when given, replaces the setup's own (to try one setup on several models).
 */
export function lintSetup(message: unknown, policy: SetupPolicy, apiVersion: string, model?: string): SetupLint {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    return { kind: 'malformed', detail: 'not a JSON object: give {"setup": {...}} or the setup object itself' };
  }
  const record = message as Record<string, unknown>;
  // A bare setup has none of the message kinds among its keys (model, generationConfig, …).
  const envelope = Object.keys(record).some((k) => kinds.includes(toCamelCase(k))) ? record : { setup: record };
  const setupValue = envelope.setup;
  const withModel =
    model !== undefined && setupValue !== null && typeof setupValue === 'object' && !Array.isArray(setupValue)
      ? { ...envelope, setup: { ...setupValue, model } }
      : envelope;
  const setupObject = withModel.setup;
  if (setupObject !== null && typeof setupObject === 'object' && !('model' in setupObject)) {
    return { kind: 'malformed', detail: 'the setup names no model: add "model", or say which model to check against' };
  }
  const text = JSON.stringify(withModel);
  // Loose first: whether this is a setup at all, apart from what strict mode refuses in it.
  const loose = parseClientJson(text, { strict: false });
  if (loose.ok === false) return { kind: 'malformed', detail: loose.detail };
  if (loose.ok === 'foreign') return { kind: 'malformed', detail: `a non-protocol message (type ${loose.type}), not a setup` };
  if (loose.message.kind !== 'setup') return { kind: 'malformed', detail: `a ${loose.message.kind} message, not a setup` };
  const given = loose.message.setup;
  const refused = (close: CloseSpec, detail: string): SetupLint => ({
    kind: 'refused',
    model: given.model,
    profile: policy.models.lookup(given.model).profile.name,
    close: { code: close.code, reason: truncateCloseReason(close.reason) },
    detail,
  });
  let setup = given;
  if (policy.strict) {
    // What the connection's parser refuses under --strict: unknown fields, a scalar for a list.
    const strict = parseClientJson(text, { strict: true });
    if (strict.ok === false) return refused(strict.close, strict.detail);
    if (strict.ok === true && strict.message.kind === 'setup') setup = strict.message.setup;
  }
  const checked = checkSetup(setup, policy, apiVersion);
  if (!checked.ok) return refused(checked.close, checked.detail);
  return {
    kind: 'accepted',
    model: setup.model,
    profile: checked.config.profile.name,
    knownModel: checked.config.knownModel,
    ignoredFields: loose.unknownFields,
  };
}
