/**
 * The control plane beside the Live endpoint: health, and sessions to list, inspect, send a goAway
 * to, close with a chosen code, or delete; fault rules; the clock; the model profiles and a setup
 * check against them; a reset of everything. Guarded by the admin token when one is set.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { describeIssues } from '../input-errors.js';
import { isSendableCloseCode } from '../protocol/close-codes.js';
import { parseDuration } from '../protocol/duration.js';
import { ManualClock } from '../session/clock.js';
import { lintSetup } from '../session/setup-lint.js';
import { deleteSession, resetServer } from './clean-slate.js';
import type { ServerContext } from './context.js';
import { FaultRule } from './faults.js';
import type { SessionEntry } from './registry.js';
import type { SessionRecord } from '../session/store.js';
import type { RemoteAction } from '../cluster/messages.js';

const MAX_BODY = 64 * 1024;

const GoAwayBody = z.object({ timeLeft: z.string().optional() }).strict();
const CloseBody = z.object({ code: z.number().int(), reason: z.string().default('') }).strict();

export interface ControlApi {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export function createControlApi(ctx: ServerContext, adminToken: string | undefined, startedAt: number): ControlApi {
  return {
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://relive');
      const path = url.pathname;
      if (path === '/metrics' && req.method === 'GET') {
        const body = await ctx.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
        res.end(body);
        return;
      }
      if (path === '/healthz' && req.method === 'GET') {
        // 503 while draining: a load balancer's health check takes the node out before its connections end.
        return json(res, ctx.draining ? 503 : 200, {
          status: ctx.draining ? 'draining' : 'ok',
          sessions: ctx.registry.liveCount,
          uptimeSeconds: Math.round((ctx.clock.now() - startedAt) / 1000),
          node: ctx.nodeId,
        });
      }
      if (!path.startsWith('/relive/v1/') && path !== '/relive/v1:reset') return json(res, 404, { error: 'not found' });
      if (adminToken && !authorized(req, adminToken)) return json(res, 401, { error: 'admin token required' });

      if (path === '/relive/v1:reset') {
        if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
        return json(res, 200, { ok: true, deleted: await resetServer(ctx) });
      }

      if (path === '/relive/v1/clock' || path === '/relive/v1/clock:advance') return clockRoute(ctx, req, res, path);
      if (path === '/relive/v1/faults' || path.startsWith('/relive/v1/faults/')) return faultsRoute(ctx, req, res, path);
      if (path === '/relive/v1/models') {
        if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' });
        // The catalogue this server resolves setups against: its own profiles (modelProfiles, --model-profile) included.
        return json(res, 200, { profiles: ctx.models.listed });
      }
      if (path === '/relive/v1/setup:lint') return setupLintRoute(ctx, req, res, url);
      if (path === '/relive/v1/nodes') {
        if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' });
        return json(res, 200, { nodes: await listNodes(ctx, startedAt) });
      }
      if (path === '/relive/v1/sessions' && req.method === 'GET') {
        return json(res, 200, { sessions: await listSessions(ctx) });
      }
      const m = /^\/relive\/v1\/sessions\/([^/:]+)(?::(goAway|close))?$/.exec(path);
      if (!m) return json(res, 404, { error: 'not found' });
      const id = decodeURIComponent(m[1]!);
      const action = m[2];
      if (!action && req.method === 'DELETE') {
        const outcome = await deleteSession(ctx, id);
        if (!outcome.found) return json(res, 404, { error: 'session not found' });
        return json(res, 200, { ok: true, closedConnection: outcome.closedConnection, ...(outcome.node !== undefined ? { node: outcome.node } : {}) });
      }
      if (!action) {
        if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' });
        const body = await sessionDetail(ctx, id);
        return body ? json(res, 200, body) : json(res, 404, { error: 'session not found' });
      }
      const entry = ctx.registry.get(id);
      if (!entry && !(await ctx.store.get(id))) return json(res, 404, { error: 'session not found' });
      if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (err) {
        return json(res, 400, { error: err instanceof Error ? err.message : 'bad body' });
      }
      let remote: RemoteAction;
      if (action === 'goAway') {
        const parsed = GoAwayBody.safeParse(body ?? {});
        // Without timeLeft: this server's notice, as at a planned end of the connection.
        const ms = parsed.success ? (parsed.data.timeLeft === undefined ? ctx.lifetimes.goAwayNoticeMs : parseDuration(parsed.data.timeLeft)) : undefined;
        if (ms === undefined) return json(res, 400, { error: 'body must be {"timeLeft": "<seconds>s"}' });
        remote = { type: 'goAway', timeLeftMs: ms };
      } else {
        const parsed = CloseBody.safeParse(body ?? {});
        if (!parsed.success || !isSendableCloseCode(parsed.data.code)) {
          return json(res, 400, { error: 'body must be {"code": 1000|1007|1008|1011|3000-4999…, "reason": "…"}' });
        }
        remote = { type: 'close', code: parsed.data.code, reason: parsed.data.reason };
      }
      const done = remote.type === 'goAway' ? { ok: true, timeLeftMs: remote.timeLeftMs } : { ok: true };
      if (entry) {
        if (remote.type === 'goAway') entry.connection.goAway(remote.timeLeftMs);
        else entry.connection.close(remote, 'closed through the control API');
        return json(res, 200, done);
      }
      // Held on another node: that node does it to its connection, as its own control API would.
      const holder = (await ctx.store.get(id))?.holder;
      if (holder === undefined || holder === ctx.nodeId || !ctx.cluster) return json(res, 409, { error: 'session has no live connection' });
      const outcome = await ctx.cluster.requestAction(id, holder, remote);
      if (outcome === 'yielded') return json(res, 200, { ...done, node: holder });
      if (outcome === 'not-held') return json(res, 409, { error: `session has no live connection (node ${holder} no longer holds it)`, node: holder });
      return json(res, 503, { error: `node ${holder} holds the session and did not answer (${outcome})`, node: holder });
    },
  };
}

const AdvanceBody = z.object({ seconds: z.number().positive().max(10 * 365 * 24 * 3600) }).strict();

/**
 * The virtual clock (`--clock manual`): read it, or move it forward; every deadline due on the way
 * fires in order (goAway, lifetimes, handle expiry), as if that much time had passed.
 */
async function clockRoute(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const clock = ctx.clock;
  const manual = clock instanceof ManualClock;
  if (path === '/relive/v1/clock') {
    if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' });
    return json(res, 200, { now: iso(clock.now()), kind: manual ? 'manual' : 'real' });
  }
  if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
  if (!manual) return json(res, 409, { error: 'the clock is not manual: start relive with --clock manual' });
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (err) {
    return json(res, 400, { error: err instanceof Error ? err.message : 'bad body' });
  }
  const parsed = AdvanceBody.safeParse(body ?? {});
  if (!parsed.success) return json(res, 400, { error: 'body must be {"seconds": <positive number>}' });
  await clock.advance(parsed.data.seconds * 1000);
  return json(res, 200, { now: iso(clock.now()) });
}

const LINT_API_VERSIONS = ['v1', 'v1beta', 'v1alpha'];

/**
 * What this server would do with a setup, without connecting: the verdict of the setup step
 * (session/setup-lint.ts), with this server's profiles and policies. `?strict=1|0` tries the other
 * mode; `?apiVersion=` the client's version (default v1beta, the SDK's).
 */
async function setupLintRoute(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
  const strictParam = url.searchParams.get('strict');
  if (strictParam !== null && !['1', 'true', '0', 'false'].includes(strictParam)) return json(res, 400, { error: 'strict must be 1, true, 0 or false' });
  const apiVersion = url.searchParams.get('apiVersion') ?? 'v1beta';
  if (!LINT_API_VERSIONS.includes(apiVersion)) return json(res, 400, { error: `apiVersion must be one of ${LINT_API_VERSIONS.join(', ')}` });
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (err) {
    return json(res, 400, { error: err instanceof Error ? err.message : 'bad body' });
  }
  const strict = strictParam === null ? ctx.strict : strictParam === '1' || strictParam === 'true';
  const verdict = lintSetup(body, { models: ctx.models, unknownModels: ctx.unknownModels, extraModels: ctx.extraModels, strict }, apiVersion);
  if (verdict.kind === 'malformed') return json(res, 400, { error: `not a setup: ${verdict.detail}` });
  if (verdict.kind === 'refused') return json(res, 200, { ok: false, model: verdict.model, profile: verdict.profile, close: verdict.close, detail: verdict.detail });
  return json(res, 200, { ok: true, model: verdict.model, profile: verdict.profile });
}

/** GET lists the fault rules, POST adds one (or a list), DELETE removes all or one by id. */
async function faultsRoute(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const id = path.startsWith('/relive/v1/faults/') ? decodeURIComponent(path.slice('/relive/v1/faults/'.length)) : undefined;
  if (req.method === 'GET' && id === undefined) return json(res, 200, { faults: ctx.faults.list() });
  if (req.method === 'DELETE') {
    const removed = ctx.faults.remove(id);
    return id !== undefined && removed === 0 ? json(res, 404, { error: 'no such fault rule' }) : json(res, 200, { removed });
  }
  if (req.method !== 'POST' || id !== undefined) return json(res, 405, { error: 'method not allowed' });
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (err) {
    return json(res, 400, { error: err instanceof Error ? err.message : 'bad body' });
  }
  try {
    const rules = Array.isArray(body) ? body : [body];
    // All or none: a list with one bad rule adds nothing, and the error names the rule and field.
    const checked = FaultRule.array().safeParse(rules);
    if (!checked.success) return json(res, 400, { error: describeIssues(checked.error, rules) });
    return json(res, 200, { faults: rules.map((rule) => ctx.faults.add(rule)) });
  } catch (err) {
    return json(res, 400, { error: err instanceof Error ? err.message : 'invalid fault rule' });
  }
}

async function listSessions(ctx: ServerContext) {
  const stored = await ctx.store.list(1000);
  const seen = new Set<string>();
  const out = [];
  for (const entry of ctx.registry.list()) {
    seen.add(entry.session.id);
    out.push(liveSummary(ctx, entry));
  }
  for (const record of stored) if (!seen.has(record.id)) out.push(storedSummary(ctx, record));
  return out;
}

function liveSummary(ctx: ServerContext, entry: SessionEntry) {
  const s = entry.session;
  return { id: s.id, model: s.config.model, status: s.status, createdAt: iso(s.createdAt), turns: s.turnsCompleted, connected: true, node: ctx.nodeId };
}

/**
 * A session as the store has it. One held by another node is attached to a connection there (only
 * that node knows its live state); `node` is null when detached. This node's own live sessions are
 * in the registry: one of them missing from it is between its connection's close and its detach.
 */
function storedSummary(ctx: ServerContext, record: SessionRecord, turns?: number) {
  const attached = record.status === 'open' && record.holder !== undefined && record.holder !== ctx.nodeId;
  return {
    id: record.id,
    model: record.model,
    status: record.status === 'ended' ? 'ended' : attached ? 'attached' : 'detached',
    createdAt: iso(record.createdAt),
    ...(turns !== undefined ? { turns } : {}),
    connected: attached,
    node: attached ? record.holder! : null,
  };
}

/** Live nodes with their session counts: the cluster's presence keys, or this node alone. */
async function listNodes(ctx: ServerContext, startedAt: number) {
  if (!ctx.cluster) {
    return [{ id: ctx.nodeId, url: null, startedAt: iso(startedAt), liveSessions: ctx.registry.liveCount, self: true }];
  }
  return (await ctx.cluster.nodes()).map((n) => ({
    id: n.id,
    url: n.url ?? null,
    startedAt: n.startedAt,
    // This node's own count is current; the others' are as of their last heartbeat.
    liveSessions: n.id === ctx.nodeId ? ctx.registry.liveCount : n.liveSessions,
    self: n.id === ctx.nodeId,
  }));
}

/** A live session as it is now; a detached or ended one as its newest checkpoint left it. */
async function sessionDetail(ctx: ServerContext, id: string) {
  const entry = ctx.registry.get(id);
  if (entry) {
    const s = entry.session;
    const c = entry.connection;
    return {
      ...liveSummary(ctx, entry),
      config: s.config.setup,
      modality: s.config.modality,
      context: s.history,
      tokens: {
        context: s.contextTokens,
        trigger: s.compression?.triggerTokens,
        target: s.compression?.targetTokens,
        promptTotal: s.totals.promptTokens,
        responseTotal: s.totals.responseTokens,
        turnsDropped: s.firstTurn,
      },
      compressions: s.compressionEvents.map((e) => ({ ...e, at: iso(e.at) })),
      pendingFunctionCalls: s.pendingCallIds,
      engine: s.describeEngine(),
      connections: [{ id: c.id, remoteAddress: c.remoteAddress, apiVersion: c.endpoint.apiVersion, openedAt: iso(c.openedAt) }],
    };
  }
  const record = await ctx.store.get(id);
  if (!record) return undefined;
  const latest = await ctx.store.load(id, record.latestSeq);
  return {
    ...storedSummary(ctx, record, latest?.checkpoint.turnsCompleted),
    detachedAt: record.lastDetachedAt !== undefined ? iso(record.lastDetachedAt) : undefined,
    connectedSeconds: record.connectedMs / 1000,
    config: latest?.checkpoint.setup,
    context: latest?.history ?? [],
    pendingFunctionCalls: [],
    connections: [],
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('body is not JSON');
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
