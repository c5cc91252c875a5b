/**
 * One relive node among several on one Redis (issue #9). It keeps the node's presence key alive,
 * listens for takeover requests from other nodes, asks other nodes to let sessions go, and sweeps
 * the sessions of nodes that died.
 *
 * The timers here run on wall-clock time, not the server's injectable clock: presence TTLs are
 * Redis's real time, and a manual clock that nobody advances must not make a node look dead.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { SessionStore } from '../session/store.js';
import { releaseDeadHolders } from './dead-holders.js';
import { presenceKey, takeoverChannel, yieldedChannel } from './keys.js';
import { parseTakeoverRequest, parseYieldedReply, type RemoteAction, type TakeoverRequest, type YieldedReply } from './messages.js';
import { readLiveNodes, type NodePresence } from './presence.js';
import { errorMessage } from '../errors.js';

export interface ClusterNodeOptions {
  readonly redisUrl: string;
  readonly nodeId: string;
  /** The shared store: the dead-holder sweep releases sessions in it. */
  readonly store: SessionStore;
  /** The server's clock, for the detach time of released sessions. */
  readonly now: () => number;
  /**
   * Lets this node's connection of `sessionId` go the way a local takeover does (close 1008, wait
   * for its last write). Resolves false when no connection here holds it.
   */
  readonly yieldSession: (sessionId: string) => Promise<boolean>;
  /** Does `action` to this node's connection of `sessionId` (the control API of another node asked). False when none holds it. */
  readonly actOnSession?: (sessionId: string, action: RemoteAction) => boolean;
  /** Sessions attached here, published in the presence key. */
  readonly liveSessions: () => number;
  readonly log: Logger;
  /** Presence key TTL; a node silent this long is dead. Default 5 s. */
  readonly presenceTtlMs?: number;
  /** Presence renewal period. Default 1 s. */
  readonly heartbeatMs?: number;
  /** Dead-holder sweep period. Default the presence TTL. */
  readonly sweepMs?: number;
  /** How long a takeover waits for the holder's answer before going ahead anyway. Default 3 s. */
  readonly takeoverTimeoutMs?: number;
}

/** How a takeover request ended. */
export type TakeoverOutcome =
  /** The holder closed its connection and finished its last write. */
  | 'yielded'
  /** The holder had no connection of the session (it just left). */
  | 'not-held'
  /** Nobody listens on the holder's channel: the node is dead. */
  | 'unreachable'
  /** The holder did not answer in time; the lease's fencing token keeps it from writing. */
  | 'timeout';

const CONNECT_TIMEOUT_MS = 2_000;
const COMMAND_TIMEOUT_MS = 2_000;

export class ClusterNode {
  /**
   * Connects (a command connection and a subscriber), subscribes, writes the presence key, sweeps
   * the sessions of dead nodes once and starts the heartbeat and the periodic sweep. A node is
   * visible before it serves anything: the sweep's safety depends on it (dead-holders.ts).
   */
  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const commands = connection(options.redisUrl);
    const subscriber = connection(options.redisUrl, true);
    const node = new ClusterNode(options, commands, subscriber);
    try {
      await Promise.all([commands.connect(), subscriber.connect()]);
      await subscriber.subscribe(takeoverChannel(options.nodeId), yieldedChannel(options.nodeId));
      await node.heartbeat();
      await node.sweep();
    } catch (err) {
      commands.disconnect();
      subscriber.disconnect();
      throw new Error(`cluster: cannot join through Redis: ${errorMessage(err)}`);
    }
    node.startTimers();
    return node;
  }

  readonly id: string;
  private readonly startedAt = new Date().toISOString();
  private url: string | undefined;
  private readonly pending = new Map<string, (reply: YieldedReply) => void>();
  private readonly timers: NodeJS.Timeout[] = [];
  private beating = false;
  private sweeping = false;
  /**
   * Nodes this node's sweeps found without presence, and since when. A Redis outage longer than
   * the presence TTL expires every node's presence at once, and live nodes write theirs back only at
   * their next heartbeat: a node is taken for dead only once it stayed missing a whole TTL.
   */
  private readonly missingSince = new Map<string, number>();
  /** The sweep at start releases at once: Redis is up and every live node's presence is current. */
  private firstSweep = true;
  private closed = false;

  private constructor(
    private readonly options: ClusterNodeOptions,
    private readonly commands: Redis,
    private readonly subscriber: Redis,
  ) {
    this.id = options.nodeId;
    subscriber.on('message', (channel: string, text: string) => this.onMessage(channel, text));
    // Errors surface on the commands that fail; ioredis reconnects by itself.
    const quiet = (err: Error) => {
      if (!this.closed) options.log.debug({ err: err.message }, 'cluster: Redis connection error');
    };
    commands.on('error', quiet);
    subscriber.on('error', quiet);
  }

  /** The address this node serves on, published in its presence from the next heartbeat. */
  setUrl(url: string): void {
    this.url = url;
    void this.heartbeat().catch(() => undefined);
  }

  /** Every live node, this one included. */
  nodes(): Promise<NodePresence[]> {
    return readLiveNodes(this.commands);
  }

  async isLive(nodeId: string): Promise<boolean> {
    if (nodeId === this.id) return true;
    return (await this.commands.exists(presenceKey(nodeId))) === 1;
  }

  /**
   * Asks `holderNode` to let `sessionId` go and waits until it has (its connection closed 1008 and
   * its last write done), it is found dead, or the timeout passes: the caller then takes the lease
   * in every case, so a wedged node cannot block a resume.
   */
  requestTakeover(sessionId: string, holderNode: string): Promise<TakeoverOutcome> {
    return this.ask(sessionId, holderNode, undefined);
  }

  /**
   * Asks `holderNode` to give its connection of `sessionId` a goAway or a close, as the control API
   * does on the node that holds it: 'yielded' when done, 'not-held' when that node has no such
   * connection, 'unreachable' or 'timeout' when the node does not answer.
   */
  requestAction(sessionId: string, holderNode: string, action: RemoteAction): Promise<TakeoverOutcome> {
    return this.ask(sessionId, holderNode, action);
  }

  private async ask(sessionId: string, holderNode: string, action: RemoteAction | undefined): Promise<TakeoverOutcome> {
    const requestId = randomUUID();
    const timeoutMs = this.options.takeoverTimeoutMs ?? 3_000;
    let timer: NodeJS.Timeout | undefined;
    // Listening before publishing: the answer can come back before PUBLISH returns.
    const answered = new Promise<YieldedReply>((resolve) => this.pending.set(requestId, resolve));
    try {
      const request: TakeoverRequest = action ? { requestId, sessionId, from: this.id, action } : { requestId, sessionId, from: this.id };
      // PUBLISH counts the subscribers that got it: 0 means the holder's subscriber connection died with it.
      const receivers = await this.commands.publish(takeoverChannel(holderNode), JSON.stringify(request));
      if (receivers === 0) return 'unreachable';
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([answered, timedOut]);
      return result === 'timeout' ? 'timeout' : result.yielded ? 'yielded' : 'not-held';
    } finally {
      clearTimeout(timer);
      this.pending.delete(requestId);
    }
  }

  /** Stops the timers, removes the presence key (others need not wait for its TTL) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    try {
      await this.commands.del(presenceKey(this.id));
    } catch {
      // Redis unreachable: the key expires by itself.
    }
    await Promise.all([quit(this.commands), quit(this.subscriber)]);
  }

  private startTimers(): void {
    const heartbeatMs = this.options.heartbeatMs ?? 1_000;
    const sweepMs = this.options.sweepMs ?? this.options.presenceTtlMs ?? 5_000;
    const beat = setInterval(() => {
      this.heartbeat().catch((err: unknown) => {
        // Cut off from Redis: what was seen missing meanwhile proves nothing; observe afresh.
        this.missingSince.clear();
        this.options.log.warn({ err: errorMessage(err) }, 'cluster: presence heartbeat failed');
      });
    }, heartbeatMs);
    const sweep = setInterval(() => {
      this.sweep().catch((err: unknown) => this.options.log.warn({ err: errorMessage(err) }, 'cluster: dead-node sweep failed'));
    }, sweepMs);
    // Infrastructure, not work: neither keeps the process alive.
    beat.unref();
    sweep.unref();
    this.timers.push(beat, sweep);
  }

  private async heartbeat(): Promise<void> {
    // One at a time: while Redis is slow, beats must not pile up behind each other.
    if (this.beating || this.closed) return;
    this.beating = true;
    try {
      const presence: NodePresence = {
        id: this.id,
        url: this.url,
        startedAt: this.startedAt,
        liveSessions: this.options.liveSessions(),
      };
      await this.commands.set(presenceKey(this.id), JSON.stringify(presence), 'PX', this.options.presenceTtlMs ?? 5_000);
    } finally {
      this.beating = false;
    }
  }

  /** Releases the sessions of nodes whose presence is gone (dead-holders.ts). */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.closed) return;
    this.sweeping = true;
    try {
      const immediate = this.firstSweep;
      this.firstSweep = false;
      const released = await releaseDeadHolders(this.options.store, () => this.deadNodes(immediate), this.options.now());
      if (released.length > 0) this.options.log.info({ released: released.length }, 'cluster: sessions of dead nodes released');
    } finally {
      this.sweeping = false;
    }
  }

  /** Which holders count as dead now (see missingSince). */
  private async deadNodes(immediate: boolean): Promise<(holder: string) => boolean> {
    const live = new Set((await this.nodes()).map((n) => n.id));
    const now = Date.now();
    const ttl = this.options.presenceTtlMs ?? 5_000;
    for (const id of this.missingSince.keys()) if (live.has(id)) this.missingSince.delete(id);
    return (holder) => {
      // At start this node holds nothing yet: sessions in its name are its previous life's (a
      // restart under the same --node-id), and would otherwise stay attached, never expiring.
      if (immediate && holder === this.id) return true;
      if (live.has(holder)) return false;
      if (immediate) return true;
      const since = this.missingSince.get(holder);
      if (since === undefined) this.missingSince.set(holder, now);
      return since !== undefined && now - since >= ttl;
    };
  }

  private onMessage(channel: string, text: string): void {
    if (channel === yieldedChannel(this.id)) {
      const reply = parseYieldedReply(text);
      if (reply) this.pending.get(reply.requestId)?.(reply);
      return;
    }
    if (channel !== takeoverChannel(this.id)) return;
    const request = parseTakeoverRequest(text);
    if (!request) {
      this.options.log.warn({ channel }, 'cluster: unreadable takeover request dropped');
      return;
    }
    void this.yieldFor(request);
  }

  private async yieldFor(request: TakeoverRequest): Promise<void> {
    let yielded = false;
    try {
      if (request.action) yielded = this.options.actOnSession?.(request.sessionId, request.action) ?? false;
      else yielded = await this.options.yieldSession(request.sessionId);
    } catch (err) {
      this.options.log.error({ err: errorMessage(err), session: request.sessionId }, 'cluster: yielding a session failed');
    }
    if (request.action) this.options.log.info({ session: request.sessionId, from: request.from, action: request.action.type, done: yielded }, 'cluster: control API action from another node');
    else this.options.log.info({ session: request.sessionId, to: request.from, yielded }, 'cluster: session handed to another node');
    const reply: YieldedReply = { requestId: request.requestId, sessionId: request.sessionId, yielded };
    await this.commands.publish(yieldedChannel(request.from), JSON.stringify(reply)).catch((err: unknown) => {
      this.options.log.warn({ err: errorMessage(err) }, 'cluster: takeover answer not sent');
    });
  }
}

/**
 * Fails fast while Redis is away, as the store does (redis-store.ts): no offline queue, no re-sent
 * commands, a command timeout; a takeover then goes ahead and a scrape answers without the cluster
 * gauges instead of waiting. Reconnects for ever, at most a second apart. The subscriber keeps the
 * offline queue: ioredis resubscribes through it after a reconnect.
 */
function connection(url: string, subscriber = false): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 100, 1_000),
    ...(subscriber ? {} : { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: COMMAND_TIMEOUT_MS }),
  });
}

async function quit(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

