/**
 * A HandleStore in a JSON file, for Node. Writes are atomic (temp file in the same directory,
 * fsync, rename), so a crash leaves either the old or the new session, never a torn file; the
 * file is 0600 because a handle lets its holder resume the session.
 *
 * Node-only (the one module in src/client that is).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseStoredSession, type HandleStore, type StoredSession } from './handle-store.js';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

const errCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

export function fileHandleStore(path: string): HandleStore {
  const dir = dirname(path);
  // One operation at a time, in call order: a save followed by a load reads what was saved, and
  // two saves land in the order they were made.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const run = queue.then(op, op);
    queue = run.catch(() => undefined);
    return run;
  };

  async function load(): Promise<StoredSession | undefined> {
    let raw: string;
    try {
      raw = await readFile(path, 'utf8');
    } catch (e) {
      if (errCode(e) === 'ENOENT') return undefined;
      throw e; // e.g. EACCES: a real problem the app should see, not "no session"
    }
    try {
      return parseStoredSession(JSON.parse(raw));
    } catch {
      return undefined;
    }
  }

  async function save(s: StoredSession): Promise<void> {
    const checked = parseStoredSession(s);
    if (!checked) throw new TypeError('fileHandleStore.save: not a StoredSession');
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    // Same directory as the target, so rename stays on one filesystem and is atomic.
    const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fh = await open(tmp, 'wx', FILE_MODE);
      try {
        // open's mode is filtered by the umask; set it explicitly.
        await fh.chmod(FILE_MODE);
        await fh.writeFile(JSON.stringify(checked), 'utf8');
        // Data on disk before the rename publishes it, or a crash could leave an empty file.
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  async function clear(): Promise<void> {
    try {
      await unlink(path);
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw e;
    }
  }

  return {
    load: () => serial(load),
    save: (s) => serial(() => save(s)),
    clear: () => serial(clear),
  };
}
