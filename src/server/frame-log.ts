/**
 * Two log lines about what the client sent that are not about its traffic: the setup it opened
 * with (debug), and each unknown field non-strict mode accepted (warn, once per process).
 */
import type { Logger } from 'pino';
import type { Setup } from '../protocol/client-schema.js';

export function logSetup(log: Logger, setup: Setup, bytes: number): void {
  if (!log.isLevelEnabled('debug')) return;
  const resumption = setup.sessionResumption;
  log.debug(
    {
      model: setup.model,
      modalities: setup.generationConfig?.responseModalities,
      resumption: resumption === undefined ? 'not asked' : resumption.handle ? 'resume a handle' : 'asked',
      transparent: resumption?.transparent,
      compression: setup.contextWindowCompression !== undefined,
      tools: setup.tools?.length,
      bytes,
    },
    'setup received',
  );
}

/** `logged` is the server's set (ServerRuntime.unknownFieldsLogged): each field is told once per process. */
export function logUnknownFields(logged: Set<string>, log: () => Logger, fields: readonly { name: string; at: string }[]): void {
  for (const f of fields) {
    const key = `${f.at}.${f.name}`;
    // Bounded: a client inventing new names must not grow this set without limit.
    if (logged.has(key) || logged.size >= 1000) continue;
    logged.add(key);
    log().warn({ field: f.name, at: f.at }, 'unknown field accepted and ignored (strict mode refuses it)');
  }
}
