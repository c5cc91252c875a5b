/**
 * One redis-server per test file, started by the first test that asks for its URL and stopped
 * after the file's last test. (Apart from redis-server.ts, which the benches import too: this one
 * hooks into node:test.)
 */
import { after } from 'node:test';
import { startRedisServer, type RedisServer } from './redis-server.js';

let shared: Promise<RedisServer> | undefined;
after(async () => {
  if (shared) await (await shared.catch(() => undefined))?.stop();
});

/** The shared server's URL, with database `db` when given. */
export async function sharedRedisUrl(db?: number): Promise<string> {
  shared ??= startRedisServer();
  const { url } = await shared;
  return db === undefined ? url : `${url}/${db}`;
}
