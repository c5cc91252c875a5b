import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileHandleStore } from '../../src/client/file-handle-store.js';
import { localStorageHandleStore, memoryHandleStore, type HandleStore, type StorageLike, type StoredSession } from '../../src/client/handle-store.js';

const session = (handle = 'h1'): StoredSession => ({
  handle,
  model: 'models/gemini-live-2.5-flash-preview',
  savedAt: 1_700_000_000_000,
  transcript: [
    { role: 'user', text: 'Hello' },
    { role: 'model', text: 'Hi there.' },
  ],
});

/** The same contract for every store. */
function contract(name: string, make: () => HandleStore | Promise<HandleStore>): void {
  describe(`${name}: contract`, () => {
    test('empty, save, load, overwrite, clear', async () => {
      const store = await make();
      assert.equal(await store.load(), undefined);
      await store.save(session('h1'));
      assert.deepEqual(await store.load(), session('h1'));
      await store.save({ handle: 'h2', model: 'm', savedAt: 2 });
      assert.deepEqual(await store.load(), { handle: 'h2', model: 'm', savedAt: 2 });
      await store.clear();
      assert.equal(await store.load(), undefined);
      await store.clear(); // clearing twice is fine
    });

    test('loaded sessions are copies', async () => {
      const store = await make();
      const s = session();
      await store.save(s);
      s.transcript!.push({ role: 'user', text: 'changed after save' });
      const loaded = (await store.load())!;
      assert.equal(loaded.transcript!.length, 2);
      loaded.transcript!.length = 0;
      assert.equal((await store.load())!.transcript!.length, 2);
    });
  });
}

class MapStorage implements StorageLike {
  readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relive-handle-store-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
let n = 0;
const freshPath = () => join(dir, `case-${n++}`, 'nested', 'session.json');

contract('memoryHandleStore', () => memoryHandleStore());
contract('localStorageHandleStore', () => localStorageHandleStore('relive:test', new MapStorage()));
contract('fileHandleStore', () => fileHandleStore(freshPath()));

describe('localStorageHandleStore', () => {
  test('stores JSON under its key only', async () => {
    const storage = new MapStorage();
    storage.setItem('other', 'untouched');
    const store = localStorageHandleStore('relive:s', storage);
    await store.save(session());
    assert.deepEqual(JSON.parse(storage.getItem('relive:s')!), session());
    await store.clear();
    assert.deepEqual([...storage.map.keys()], ['other']);
  });

  test('a corrupt or wrongly shaped entry loads as undefined', async () => {
    const storage = new MapStorage();
    const store = localStorageHandleStore('k', storage);
    for (const raw of [
      '{not json',
      'null',
      '"a string"',
      '{"handle":"h","model":"m"}',
      '{"handle":"","model":"m","savedAt":1}',
      '{"handle":"h","model":"m","savedAt":"yesterday"}',
      '{"handle":"h","model":"m","savedAt":1,"transcript":"nope"}',
      '{"handle":"h","model":"m","savedAt":1,"transcript":[{"role":"system","text":"x"}]}',
    ]) {
      storage.setItem('k', raw);
      assert.equal(await store.load(), undefined, raw);
    }
  });

  test('extra stored fields are dropped', async () => {
    const storage = new MapStorage();
    storage.setItem('k', JSON.stringify({ ...session(), extra: 1, transcript: [{ role: 'user', text: 'x', extra: 2 }] }));
    assert.deepEqual(await localStorageHandleStore('k', storage).load(), { ...session(), transcript: [{ role: 'user', text: 'x' }] });
  });

  test('a storage that throws on read loads as undefined; a failing save rejects', async () => {
    const broken: StorageLike = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {},
    };
    const store = localStorageHandleStore('k', broken);
    assert.equal(await store.load(), undefined);
    await assert.rejects(store.save(session()), /QuotaExceededError/);
  });

  test('defaults to globalThis.localStorage, and says so when there is none', async () => {
    const g = globalThis as { localStorage?: StorageLike };
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
    try {
      const storage = new MapStorage();
      Object.defineProperty(globalThis, 'localStorage', { value: storage, configurable: true, writable: true });
      await localStorageHandleStore('k').save(session());
      assert.ok(storage.getItem('k'));
      Object.defineProperty(globalThis, 'localStorage', { value: undefined, configurable: true, writable: true });
      assert.throws(() => localStorageHandleStore('k'), /no localStorage/);
    } finally {
      if (saved) Object.defineProperty(globalThis, 'localStorage', saved);
      else delete g.localStorage;
    }
  });
});

describe('fileHandleStore', () => {
  test('creates the directory and writes a 0600 file, leaving no temp files', async () => {
    const path = freshPath();
    const store = fileHandleStore(path);
    await store.save(session('a'));
    await store.save(session('b'));
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), session('b'));
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(path, '..')), ['session.json']);
  });

  test('concurrent saves land in call order, atomically', async () => {
    const path = freshPath();
    const store = fileHandleStore(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save(session(`h${i}`))));
    assert.equal((await store.load())!.handle, 'h19');
    assert.deepEqual(await readdir(join(path, '..')), ['session.json']);
  });

  test('two stores on one file never see a torn write', async () => {
    const path = freshPath();
    const a = fileHandleStore(path);
    const b = fileHandleStore(path);
    const big = { ...session(), transcript: Array.from({ length: 2000 }, (_, i) => ({ role: 'user' as const, text: `turn ${i} `.repeat(10) })) };
    const reads: Promise<StoredSession | undefined>[] = [];
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      writes.push(a.save({ ...big, handle: `a${i}` }), b.save({ ...big, handle: `b${i}` }));
      reads.push(fileHandleStore(path).load());
    }
    await Promise.all(writes);
    for (const r of await Promise.all(reads)) {
      // Either not written yet or a whole session, never a corrupt one.
      if (r !== undefined) assert.equal(r.transcript!.length, 2000);
    }
    assert.ok((await a.load())!.handle.match(/^[ab]9$/));
    assert.deepEqual(await readdir(join(path, '..')), ['session.json']);
  });

  test('a missing file or directory loads as undefined', async () => {
    assert.equal(await fileHandleStore(join(dir, 'nowhere', 'x.json')).load(), undefined);
  });

  test('a corrupt file loads as undefined, and the next save replaces it', async () => {
    const path = freshPath();
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, '{"handle":"h", trunc');
    const store = fileHandleStore(path);
    assert.equal(await store.load(), undefined);
    await writeFile(path, '{"handle":42,"model":"m","savedAt":1}');
    assert.equal(await store.load(), undefined);
    await store.save(session());
    assert.deepEqual(await store.load(), session());
  });

  test('an invalid session is refused and the old file stays', async () => {
    const path = freshPath();
    const store = fileHandleStore(path);
    await store.save(session('old'));
    await assert.rejects(store.save({ handle: 'x' } as StoredSession), TypeError);
    assert.equal((await store.load())!.handle, 'old');
    assert.deepEqual(await readdir(join(path, '..')), ['session.json']);
  });

  test('clear removes the file; clearing a missing one is fine', async () => {
    const path = freshPath();
    const store = fileHandleStore(path);
    await store.clear();
    await store.save(session());
    await store.clear();
    assert.deepEqual(await readdir(join(path, '..')), []);
  });
});
