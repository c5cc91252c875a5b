/**
 * The official SDK (@google/genai) is an optional peer dependency of relive: an app brings its own
 * copy, and the emulator and self-host never need one. Two commands do: `relive chat` (built on the
 * SDK) and the gateway, `--engine gemini` (its upstream link is relive's resilient client, which
 * hands out the SDK's message class). Both load it only when they run and, when it is missing, say
 * how to install it instead of failing on an import with a stack trace.
 */
import type { runChat } from './chat.js';

export const SDK_RANGE = '>=2.0.0 <4';

/** The one line printed when `what` needs the SDK and it cannot be found. */
export function sdkMissingMessage(what: string): string {
  return `${what} needs the official Gemini SDK, which is not installed. Install it next to relive: npm install @google/genai (versions ${SDK_RANGE})`;
}

function isMissingSdk(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes("'@google/genai'");
}

/** Loads `load()`, or says why on `stderr` and gives undefined when the SDK it imports is missing. */
async function withSdk<T>(what: string, stderr: NodeJS.WritableStream, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    if (!isMissingSdk(err)) throw err;
    stderr.write(`${sdkMissingMessage(what)}\n`);
    return undefined;
  }
}

/** The chat entry point, or undefined (after saying why) when the SDK cannot be found. */
export async function loadChat(stderr: NodeJS.WritableStream): Promise<typeof runChat | undefined> {
  return withSdk('relive chat', stderr, async () => (await import('./chat.js')).runChat);
}

/** True when the SDK can be loaded; otherwise says why `what` cannot run. */
export async function sdkAvailable(what: string, stderr: NodeJS.WritableStream): Promise<boolean> {
  return (await withSdk(what, stderr, () => import('@google/genai'))) !== undefined;
}
