/**
 * SessionStore on Redis (ioredis), for several nodes sharing sessions (`--store redis://HOST:PORT[/DB]`).
 *
 * Key layout. A session's keys share the hash tag `{<id>}`, so a Redis Cluster keeps them on one
 * slot and every per-session write is one Lua script over that slot's keys only:
 *   relive:{<id>}:session      hash: the SessionRecord fields, plus `order` (creation number)
 *   relive:{<id>}:turns        hash: log index → turn JSON (the append-only log)
 *   relive:{<id>}:checkpoints  hash: seq → checkpoint JSON
 *   relive:{<id>}:turncounts   hash: seq → turnCount (read by commit without parsing a checkpoint)
 *   relive:{<id>}:values       hash: key → engine state of the session (getSessionValue), written only
 *                              while the session key exists, with the same TTL as the session's keys
 * Outside any session's slot:
 *   relive:sessions            zset of `<order, 16 digits>:<id>` scored by createdAt (list, expire, releaseOrphans, deleteAll)
 *   relive:created             counter handing out creation numbers (list's tie-break, like SQLite's rowid)
 *   relive:meta                hash of meta values (store-wide, never deleted: nothing per session)
 *
 * Every write runs as one script that first checks the lease token and the log's continuity and
 * returns a marker instead of writing when a check fails, so a rejected write changes nothing and
 * a stale token raises FencedError exactly where the other stores do. The index is written apart
 * from the session (it lives on another slot): `create` indexes a session after creating it, and an
 * index entry names one incarnation of an id (its creation number), so an entry left behind by an
 * expired session is recognised as stale and skipped (`list`) or removed (`expire`).
 *
 * Expiry is Redis's too: when a session's last connection ends (detach, end, or a dead node's
 * session released), every key of the session gets a PEXPIRE of the handle validity plus a margin,
 * so Redis deletes sessions whose handles expired even if no node ever sweeps; taking the lease
 * again PERSISTs them. `expire` still deletes them on the sweep's schedule (on the server clock) and
 * drops index entries whose session Redis already deleted.
 *
 * Durability is Redis's: a resolved commit is in the server's memory; whether it survives a
 * server crash depends on the server's persistence settings (appendonly/appendfsync).
 *
 * While Redis is unreachable every operation fails within seconds instead of waiting for it (see
 * the connection options in `open`): the server answers a setup or resume it cannot serve with
 * 1011, and a commit that fails sends no handle. The connection reconnects by itself, and a
 * write whose outcome is unknown (sent, no reply) is never sent again by ioredis: the
 * lease token and the rewind on resume make whatever Redis did with it harmless.
 */
import { Redis } from 'ioredis';
import type { ContextTurn } from '../session/context.js';
import { FencedError, type Checkpoint, type CommitRequest, type NewSessionRecord, type SessionRecord, type SessionStore } from '../session/store.js';
import { DEFAULT_LIFETIMES } from '../session/lifetimes.js';
import { assertContinues, assertFirstCheckpoint } from './store-checks.js';
import { ReliveError } from '../errors.js';

const PREFIX = 'relive:';
const INDEX_KEY = `${PREFIX}sessions`;
const CREATED_KEY = `${PREFIX}created`;
const META_KEY = `${PREFIX}meta`;

/** Added to the handle validity for the keys' TTL: the server's own sweep (every 10 min) comes first. */
export const EXPIRY_MARGIN_MS = 10 * 60_000;

/** How long one connection attempt (the first, and each reconnect) waits for the server. */
const CONNECT_TIMEOUT_MS = 2_000;

/** Default bound on one command's wait for its reply (RedisStoreOptions.commandTimeoutMs). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/** Longest pause between reconnect attempts: relive serves again within about this long of Redis coming back. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/** KEYS of every per-session script: session, turns, checkpoints, turncounts, values. Scripts loop over #KEYS. */
function keysOf(sessionId: string): [string, string, string, string, string] {
  const base = `${PREFIX}{${sessionId}}:`;
  return [`${base}session`, `${base}turns`, `${base}checkpoints`, `${base}turncounts`, `${base}values`];
}

/** Reads checkpoint ARGV[n] and its history [firstTurn, turnCount): false, or {checkpointJson, turn…}. */
const READ_CHECKPOINT_LUA = `
local function read_checkpoint(seq)
  local json = redis.call('HGET', KEYS[3], seq)
  if not json then return false end
  local cp = cjson.decode(json)
  local out = {json}
  local first = tonumber(cp.firstTurn) or 0
  for i = first, tonumber(cp.turnCount) - 1 do
    local turn = redis.call('HGET', KEYS[2], tostring(i))
    if turn then out[#out + 1] = turn end
  end
  return out
end
`;

/** Detached: no holder, and every key of the session expires after ARGV[n] ms (0: never). */
const DETACHED_LUA = `
local function detached(ttlArg)
  redis.call('HDEL', KEYS[1], 'holder')
  local ttl = tonumber(ttlArg)
  if ttl > 0 then for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end end
end
`;

const SCRIPTS = {
  // ARGV: order, principal, model, createdAt, connectedMs, videoSeen, seq, turnCount, checkpointJson, holder ('' for none), ttlMs
  reliveCreate: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'EXISTS' end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('HSET', KEYS[1], 'order', ARGV[1], 'principal', ARGV[2], 'model', ARGV[3], 'created_at', ARGV[4],
  'connected_ms', ARGV[5], 'video_seen', ARGV[6], 'status', 'open', 'lease_token', 1, 'latest_seq', ARGV[7], 'max_seq', ARGV[7])
if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'holder', ARGV[10]) end
redis.call('HSET', KEYS[3], ARGV[7], ARGV[9])
redis.call('HSET', KEYS[4], ARGV[7], ARGV[8])
-- Expires by itself unless the index entry written next lands (a process that dies in between
-- would otherwise leave a session no sweep finds): create PERSISTs the keys after indexing.
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[11]) end
return 'OK'
`,
  // ARGV: holder ('' for none). Attached again: the keys no longer expire.
  reliveAcquire: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'MISSING' end
redis.call('HDEL', KEYS[1], 'last_detached_at')
if ARGV[1] == '' then redis.call('HDEL', KEYS[1], 'holder') else redis.call('HSET', KEYS[1], 'holder', ARGV[1]) end
for i = 1, #KEYS do redis.call('PERSIST', KEYS[i]) end
return redis.call('HINCRBY', KEYS[1], 'lease_token', 1)
`,
  // ARGV: leaseToken, seq, turnCount, firstTurn, checkpointJson, turn…
  reliveCommit: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'MISSING' end
local s = redis.call('HMGET', KEYS[1], 'lease_token', 'latest_seq', 'max_seq')
local lease, latest, maxseq = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
if lease > tonumber(ARGV[1]) then return 'FENCED' end
local latestTurns = tonumber(redis.call('HGET', KEYS[4], s[2]) or '0')
local seq, turnCount, firstTurn = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = #ARGV - 5
local start = turnCount - n
local droppedGap = start > latestTurns and start == firstTurn
if seq <= math.max(latest, maxseq) or (start ~= latestTurns and not droppedGap) then
  return {'CONTINUITY', latest, latestTurns, maxseq}
end
for i = 1, n do redis.call('HSET', KEYS[2], tostring(start + i - 1), ARGV[5 + i]) end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[5])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[1], 'latest_seq', ARGV[2], 'max_seq', tostring(math.max(maxseq, seq)))
-- A commit comes from a live holder: keys a sweep gave a TTL (its node looked dead) must not expire under it.
for i = 1, #KEYS do redis.call('PERSIST', KEYS[i]) end
return 'OK'
`,
  // ARGV: leaseToken, seq
  reliveRewind: `${READ_CHECKPOINT_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local s = redis.call('HMGET', KEYS[1], 'lease_token', 'latest_seq')
if tonumber(s[1]) > tonumber(ARGV[1]) then return 'FENCED' end
local target = redis.call('HGET', KEYS[4], ARGV[2])
if not target then return false end
if ARGV[2] ~= s[2] then
  local seq, keep = tonumber(ARGV[2]), tonumber(target)
  local logLength = tonumber(redis.call('HGET', KEYS[4], s[2]) or '0')
  for _, later in ipairs(redis.call('HKEYS', KEYS[4])) do
    if tonumber(later) > seq then redis.call('HDEL', KEYS[3], later); redis.call('HDEL', KEYS[4], later) end
  end
  for i = keep, logLength - 1 do redis.call('HDEL', KEYS[2], tostring(i)) end
  redis.call('HSET', KEYS[1], 'latest_seq', ARGV[2])
end
return read_checkpoint(ARGV[2])
`,
  // ARGV: seq
  reliveLoad: `${READ_CHECKPOINT_LUA}
return read_checkpoint(ARGV[1])
`,
  // ARGV: leaseToken, at, connectedMsAdded, videoSeen, ttlMs
  reliveDetach: `${DETACHED_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'MISSING' end
if tonumber(redis.call('HGET', KEYS[1], 'lease_token')) > tonumber(ARGV[1]) then return 'FENCED' end
-- The same detach again (a retry after a reply that was lost): done already, count the time once.
if redis.call('HGET', KEYS[1], 'last_detached_at') == ARGV[2] then return 'OK' end
redis.call('HSET', KEYS[1], 'last_detached_at', ARGV[2])
redis.call('HINCRBYFLOAT', KEYS[1], 'connected_ms', ARGV[3])
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'video_seen', 1) end
detached(ARGV[5])
return 'OK'
`,
  // ARGV: leaseToken, at, ttlMs
  reliveEnd: `${DETACHED_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'MISSING' end
if tonumber(redis.call('HGET', KEYS[1], 'lease_token')) > tonumber(ARGV[1]) then return 'FENCED' end
redis.call('HSET', KEYS[1], 'status', 'ended', 'last_detached_at', ARGV[2])
detached(ARGV[3])
return 'OK'
`,
  // ARGV: order, at, ttlMs
  reliveReleaseOrphan: `${DETACHED_LUA}
if redis.call('HGET', KEYS[1], 'order') ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'last_detached_at') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'last_detached_at', ARGV[2])
detached(ARGV[3])
return 1
`,
  // ARGV: order, detachedBefore
  reliveExpireOne: `
if redis.call('HGET', KEYS[1], 'order') ~= ARGV[1] then return 'STALE' end
local detached = redis.call('HGET', KEYS[1], 'last_detached_at')
if not detached or tonumber(detached) >= tonumber(ARGV[2]) then return 'KEEP' end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 'DELETED'
`,
  // ARGV: order ('' for whichever incarnation exists). Returns the deleted incarnation's order, or false.
  reliveDeleteOne: `
local order = redis.call('HGET', KEYS[1], 'order')
if not order or (ARGV[1] ~= '' and order ~= ARGV[1]) then return false end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return order
`,
  // ARGV: key. A value outlives no session: none once the session key is gone.
  reliveGetValue: `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('HGET', KEYS[5], ARGV[1])
`,
  // ARGV: key, '1' to set or '0' to delete, value. Not fenced; nothing for a session that is gone.
  reliveSetValue: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == '1' then redis.call('HSET', KEYS[5], ARGV[1], ARGV[3]) else redis.call('HDEL', KEYS[5], ARGV[1]) end
-- The values key may be new: it expires with the session's keys (a detached session's have a TTL).
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[5], ttl) else redis.call('PERSIST', KEYS[5]) end
return 1
`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** An index member: the creation number, zero-padded so ties on createdAt sort by it, then the id. */
function memberOf(order: string, sessionId: string): string {
  return `${order.padStart(16, '0')}:${sessionId}`;
}

function parseMember(member: string): { order: string; sessionId: string } {
  const colon = member.indexOf(':');
  return { order: String(Number(member.slice(0, colon))), sessionId: member.slice(colon + 1) };
}

export interface RedisStoreOptions {
  /**
   * How long a detached session's handles stay valid (the server's handleTtlMs; default 2 h): its
   * keys expire that long plus EXPIRY_MARGIN_MS after the detach. The server sets it to its own
   * handle validity.
   */
  detachedTtlMs?: number;
  /**
   * How long a command may wait for Redis's reply before it fails (default 5 s): the longest a
   * setup, resume or commit waits on a Redis that accepts connections but does not answer (stopped,
   * a network path that drops packets). A command that timed out may still be executed later; the
   * lease token fences it like any stale write.
   */
  commandTimeoutMs?: number;
}

export class RedisStore implements SessionStore {
  /**
   * Connects to `url` (`redis://HOST:PORT[/DB]`). Fails within a few seconds, with the address in
   * the message, when the server cannot be reached.
   */
  static async open(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    let connected = false;
    let lastError: Error | undefined;
    // Chosen so that a client waits seconds, never indefinitely, while Redis is away, and so that
    // relive recovers by itself once it is back:
    const redis = new Redis(url, {
      lazyConnect: true,
      // One connection attempt (the first, and every reconnect) gives up after 2 s: an address
      // that drops packets does not stall the reconnect loop.
      connectTimeout: CONNECT_TIMEOUT_MS,
      // While opening, one attempt (the CLI fails at once with the address); once connected,
      // reconnect for ever, 100 ms, 200 ms, … at most MAX_RECONNECT_DELAY_MS apart.
      retryStrategy: (times) => (connected ? Math.min(times * 100, MAX_RECONNECT_DELAY_MS) : null),
      // No offline queue: a command issued while the connection is down fails at once instead of
      // waiting for a reconnect that may never come (the client gets 1011 and retries with its
      // own backoff). It also means no command is sent long after its caller gave up on it.
      enableOfflineQueue: false,
      // Commands in flight when the connection drops fail at once, on the first reconnect
      // attempt, rather than being sent again after the reconnect: their outcome is unknown, the
      // caller has to treat them as failed, and a write must not land behind the caller's back.
      maxRetriesPerRequest: 0,
      // A Redis that keeps the connection open but does not answer (SIGSTOP, a black-holed
      // network, a disk stalling fsync) is bounded too.
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    });
    redis.on('error', (error: Error) => {
      lastError = error;
    });
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: keysOf('').length, lua });
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      const reason = error instanceof Error ? error.message : String(lastError ?? error);
      throw new ReliveError('RELIVE_ERR_STORE_UNREACHABLE', `store: cannot reach Redis at ${redactUrl(url)}: ${reason}`, { cause: error });
    }
    connected = true;
    return new RedisStore(redis, url, options.detachedTtlMs ?? DEFAULT_LIFETIMES.handleTtlMs);
  }

  private closed = false;
  /** Meta values this process agreed on through initMeta (the handle secret): written again after a reconnect. */
  private readonly agreedMeta = new Map<string, string>();

  private constructor(
    private readonly redis: Redis,
    /** The server this store is on: the cluster layer opens its own connections to it. */
    readonly url: string,
    private detachedTtlMs: number,
  ) {
    // 'ready' after open: a reconnect. A Redis that came back without its data (no persistence)
    // lost the handle secret too; writing ours back (if nobody wrote one first) lets nodes that
    // start later agree with the ones still running, as they did before.
    redis.on('ready', () => {
      for (const [key, value] of this.agreedMeta) void redis.hsetnx(META_KEY, key, value).catch(() => undefined);
    });
  }

  /** Nodes on this store meet on its Redis. */
  get cluster(): { readonly redisUrl: string } {
    return { redisUrl: this.url };
  }

  expireDetachedAfter(ms: number): void {
    this.handleTtlMs = ms;
  }

  /** How long a detached session's handles stay valid; its keys expire that long plus EXPIRY_MARGIN_MS after. */
  get handleTtlMs(): number {
    return this.detachedTtlMs;
  }

  set handleTtlMs(ms: number) {
    if (!(ms > 0)) throw new ReliveError('RELIVE_ERR_INVALID_OPTION', `handleTtlMs must be positive, got ${ms}`);
    this.detachedTtlMs = ms;
  }

  /** The PEXPIRE a detached session's keys get. */
  private get keyTtlMs(): number {
    return Math.ceil(this.detachedTtlMs + EXPIRY_MARGIN_MS);
  }

  async create(record: NewSessionRecord, first: Checkpoint): Promise<void> {
    assertFirstCheckpoint(record.id, first);
    this.assertOpen();
    const order = String(await this.redis.incr(CREATED_KEY));
    const result = await this.script('reliveCreate', record.id, [
      order,
      record.principal,
      record.model,
      record.createdAt,
      record.connectedMs,
      record.videoSeen ? 1 : 0,
      first.seq,
      first.turnCount,
      JSON.stringify(first),
      record.holder ?? '',
      this.keyTtlMs,
    ]);
    if (result === 'EXISTS') throw new ReliveError('RELIVE_ERR_SESSION_EXISTS', `session ${record.id} already exists`);
    // Indexed after it exists: a session is never found in the index before it can be read. Then
    // it is attached, and attached sessions do not expire.
    const pipeline = this.redis.pipeline().zadd(INDEX_KEY, record.createdAt, memberOf(order, record.id));
    for (const key of keysOf(record.id)) pipeline.persist(key);
    await pipeline
      .exec()
      .then((results) => {
        const failed = results?.find(([err]) => err);
        if (failed) throw failed[0]!;
      });
  }

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    this.assertOpen();
    const fields = await this.redis.hgetall(keysOf(sessionId)[0]);
    return recordFrom(sessionId, fields);
  }

  async acquireLease(sessionId: string, holder?: string): Promise<number> {
    const result = await this.script('reliveAcquire', sessionId, [holder ?? '']);
    if (result === 'MISSING') throw new ReliveError('RELIVE_ERR_SESSION_NOT_FOUND', `session ${sessionId} does not exist`);
    return Number(result);
  }

  async commit(request: CommitRequest): Promise<void> {
    const { sessionId, checkpoint, newTurns } = request;
    const result = await this.script('reliveCommit', sessionId, [
      request.leaseToken,
      checkpoint.seq,
      checkpoint.turnCount,
      checkpoint.firstTurn ?? 0,
      JSON.stringify(checkpoint),
      ...newTurns.map((turn) => JSON.stringify(turn)),
    ]);
    if (result === 'OK') return;
    if (result === 'MISSING') throw new ReliveError('RELIVE_ERR_SESSION_NOT_FOUND', `session ${sessionId} does not exist`);
    if (result === 'FENCED') throw new FencedError(sessionId);
    if (Array.isArray(result) && result[0] === 'CONTINUITY') {
      // The same check the other stores run, on the values the script saw: it throws their message.
      assertContinues(request, Number(result[1]), Number(result[2]), Number(result[3]));
    }
    throw new ReliveError('RELIVE_ERR_STORE_UNUSABLE', `session ${sessionId}: unexpected reply from Redis to commit: ${JSON.stringify(result)}`);
  }

  async rewind(sessionId: string, seq: number, leaseToken: number): Promise<{ checkpoint: Checkpoint; history: ContextTurn[] } | undefined> {
    const result = await this.script('reliveRewind', sessionId, [leaseToken, seq]);
    if (result === 'FENCED') throw new FencedError(sessionId);
    return loadedFrom(result);
  }

  async load(sessionId: string, seq: number): Promise<{ checkpoint: Checkpoint; history: ContextTurn[] } | undefined> {
    return loadedFrom(await this.script('reliveLoad', sessionId, [seq]));
  }

  async detach(sessionId: string, leaseToken: number, at: number, connectedMsAdded: number, videoSeen: boolean): Promise<void> {
    this.fenced(sessionId, await this.script('reliveDetach', sessionId, [leaseToken, at, connectedMsAdded, videoSeen ? 1 : 0, this.keyTtlMs]));
  }

  async end(sessionId: string, leaseToken: number, at: number): Promise<void> {
    // An ended session is over even if its connection's detach never arrives (a crash): dating it
    // here lets expire() remove it like any detached session.
    this.fenced(sessionId, await this.script('reliveEnd', sessionId, [leaseToken, at, this.keyTtlMs]));
  }

  async list(limit: number): Promise<SessionRecord[]> {
    this.assertOpen();
    const wanted = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : limit > 0 ? Number.MAX_SAFE_INTEGER : 0;
    const out: SessionRecord[] = [];
    const page = 200;
    // Pages of the index, newest first; stale entries (an expired incarnation) are skipped.
    for (let start = 0; out.length < wanted; start += page) {
      const members = await this.redis.zrevrange(INDEX_KEY, start, start + page - 1);
      if (members.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const member of members) pipeline.hgetall(keysOf(parseMember(member).sessionId)[0]);
      const replies = (await pipeline.exec()) ?? [];
      members.forEach((member, i) => {
        const { order, sessionId } = parseMember(member);
        const [error, fields] = replies[i] ?? [null, {}];
        if (error) throw error;
        const data = fields as Record<string, string>;
        if (data.order !== order || out.length >= wanted) return;
        const record = recordFrom(sessionId, data);
        if (record) out.push(record);
      });
      if (members.length < page) break;
    }
    return out;
  }

  async releaseOrphans(at: number): Promise<number> {
    let released = 0;
    for (const member of await this.indexMembers()) {
      const { order, sessionId } = parseMember(member);
      released += Number(await this.script('reliveReleaseOrphan', sessionId, [order, at, this.keyTtlMs]));
    }
    return released;
  }

  async expire(detachedBefore: number): Promise<number> {
    let removed = 0;
    for (const member of await this.indexMembers()) {
      const { order, sessionId } = parseMember(member);
      const result = await this.script('reliveExpireOne', sessionId, [order, detachedBefore]);
      if (result === 'KEEP') continue;
      // Deleted now, or an entry of an incarnation deleted earlier: either way it names nothing.
      await this.redis.zrem(INDEX_KEY, member);
      if (result === 'DELETED') removed++;
    }
    return removed;
  }

  async delete(sessionId: string): Promise<boolean> {
    const order = await this.script('reliveDeleteOne', sessionId, ['']);
    if (typeof order !== 'string') return false;
    await this.redis.zrem(INDEX_KEY, memberOf(order, sessionId));
    return true;
  }

  async deleteAll(): Promise<number> {
    let removed = 0;
    // Through the index, one session's slot at a time (a Redis Cluster has no multi-slot DEL).
    // Entries of incarnations already gone are dropped as well.
    for (const member of await this.indexMembers()) {
      const { order, sessionId } = parseMember(member);
      const deleted = await this.script('reliveDeleteOne', sessionId, [order]);
      await this.redis.zrem(INDEX_KEY, member);
      if (typeof deleted === 'string') removed++;
    }
    return removed;
  }

  async getSessionValue(sessionId: string, key: string): Promise<string | undefined> {
    const value = await this.script('reliveGetValue', sessionId, [key]);
    return typeof value === 'string' ? value : undefined;
  }

  async setSessionValue(sessionId: string, key: string, value: string | undefined): Promise<void> {
    await this.script('reliveSetValue', sessionId, value === undefined ? [key, '0', ''] : [key, '1', value]);
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.assertOpen();
    return (await this.redis.hget(META_KEY, key)) ?? undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.assertOpen();
    await this.redis.hset(META_KEY, key, value);
  }

  async initMeta(key: string, value: string): Promise<string> {
    this.assertOpen();
    await this.redis.hsetnx(META_KEY, key, value);
    const agreed = (await this.redis.hget(META_KEY, key)) ?? value;
    this.agreedMeta.set(key, agreed);
    return agreed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private async indexMembers(): Promise<string[]> {
    this.assertOpen();
    return this.redis.zrange(INDEX_KEY, '0', '-1');
  }

  private async script(name: ScriptName, sessionId: string, args: (string | number)[]): Promise<unknown> {
    this.assertOpen();
    const fn = (this.redis as unknown as Record<ScriptName, ScriptFn>)[name];
    return fn.call(this.redis, ...keysOf(sessionId), ...args.map(String));
  }

  private fenced(sessionId: string, result: unknown): void {
    if (result === 'OK') return;
    if (result === 'MISSING') throw new ReliveError('RELIVE_ERR_SESSION_NOT_FOUND', `session ${sessionId} does not exist`);
    if (result === 'FENCED') throw new FencedError(sessionId);
    throw new ReliveError('RELIVE_ERR_STORE_UNUSABLE', `session ${sessionId}: unexpected reply from Redis: ${JSON.stringify(result)}`);
  }

  private assertOpen(): void {
    if (this.closed) throw new ReliveError('RELIVE_ERR_STORE_CLOSED', 'the store is closed');
  }
}

/** A script's checkpoint reply (false/null, or {checkpointJson, turn…}) as what load/rewind return. */
function loadedFrom(result: unknown): { checkpoint: Checkpoint; history: ContextTurn[] } | undefined {
  if (!Array.isArray(result) || result.length === 0) return undefined;
  const [checkpointJson, ...turns] = result as string[];
  return { checkpoint: JSON.parse(checkpointJson!) as Checkpoint, history: turns.map((json) => JSON.parse(json) as ContextTurn) };
}

function recordFrom(sessionId: string, fields: Record<string, string>): SessionRecord | undefined {
  if (fields.order === undefined) return undefined;
  return {
    id: sessionId,
    principal: fields.principal ?? '',
    model: fields.model ?? '',
    createdAt: Number(fields.created_at),
    lastDetachedAt: fields.last_detached_at === undefined ? undefined : Number(fields.last_detached_at),
    holder: fields.holder,
    connectedMs: Number(fields.connected_ms),
    videoSeen: fields.video_seen === '1',
    status: fields.status === 'ended' ? 'ended' : 'open',
    leaseToken: Number(fields.lease_token),
    latestSeq: Number(fields.latest_seq),
    maxSeq: Number(fields.max_seq),
  };
}

/** The URL without its password, for error messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
