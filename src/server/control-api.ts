/**
 * The control plane beside the Live endpoint (DESIGN.md): health, and sessions to list, inspect,
 * send a goAway to, or close with a chosen code. Guarded by the admin token when one is set.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { isSendableCloseCode } from '../protocol/close-codes.js';
import { parseDuration } from '../protocol/duration.js';
import type { ServerContext } from './context.js';
import { DEFAULTS } from './options.js';
import type { SessionEntry } from './registry.js';

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
      if (path === '/healthz' && req.method === 'GET') {
        return json(res, 200, { status: 'ok', sessions: ctx.registry.liveCount, uptimeSeconds: Math.round((ctx.clock.now() - startedAt) / 1000) });
      }
      if (!path.startsWith('/relive/v1/')) return json(res, 404, { error: 'not found' });
      if (adminToken && !authorized(req, adminToken)) return json(res, 401, { error: 'admin token required' });

      if (path === '/relive/v1/sessions' && req.method === 'GET') {
        return json(res, 200, { sessions: ctx.registry.list().map(summary) });
      }
      const m = /^\/relive\/v1\/sessions\/([^/:]+)(?::(goAway|close))?$/.exec(path);
      if (!m) return json(res, 404, { error: 'not found' });
      const entry = ctx.registry.get(decodeURIComponent(m[1]!));
      if (!entry) return json(res, 404, { error: 'session not found' });
      const action = m[2];
      if (!action) {
        if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' });
        return json(res, 200, detail(entry));
      }
      if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (err) {
        return json(res, 400, { error: err instanceof Error ? err.message : 'bad body' });
      }
      if (!entry.connection) return json(res, 409, { error: 'session has no live connection' });
      if (action === 'goAway') {
        const parsed = GoAwayBody.safeParse(body ?? {});
        const ms = parsed.success ? (parsed.data.timeLeft === undefined ? DEFAULTS.goAwayNoticeMs : parseDuration(parsed.data.timeLeft)) : undefined;
        if (ms === undefined) return json(res, 400, { error: 'body must be {"timeLeft": "<seconds>s"}' });
        entry.connection.goAway(ms);
        return json(res, 200, { ok: true, timeLeftMs: ms });
      }
      const parsed = CloseBody.safeParse(body ?? {});
      if (!parsed.success || !isSendableCloseCode(parsed.data.code)) {
        return json(res, 400, { error: 'body must be {"code": 1000|1007|1008|1011|3000-4999…, "reason": "…"}' });
      }
      entry.connection.close(parsed.data, 'closed through the control API');
      return json(res, 200, { ok: true });
    },
  };
}

function summary(entry: SessionEntry) {
  const s = entry.session;
  return {
    id: s.id,
    model: s.config.model,
    status: s.status,
    createdAt: new Date(s.createdAt).toISOString(),
    turns: s.turnsCompleted,
    connected: entry.connection !== undefined,
  };
}

function detail(entry: SessionEntry) {
  const s = entry.session;
  const c = entry.connection;
  return {
    ...summary(entry),
    endedAt: entry.endedAt !== undefined ? new Date(entry.endedAt).toISOString() : undefined,
    config: s.config.setup,
    modality: s.config.modality,
    context: s.history,
    pendingFunctionCalls: s.pendingCallIds,
    connections: c
      ? [{ id: c.id, remoteAddress: c.remoteAddress, apiVersion: c.endpoint.apiVersion, openedAt: new Date(c.openedAt).toISOString() }]
      : [],
  };
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
