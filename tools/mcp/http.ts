import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { principalKey, type Principal } from '../identity/principal.js';
import type { IdentityProvider } from '../identity/provider.js';
import type { GovService } from '../sandbox/gov-service.js';
import { authenticateRequest } from '../http/auth.js';
import { createMcpServer } from './server.js';

/**
 * MCP over Streamable HTTP, mounted by createApiServer (tools/http/app.ts) at /mcp. Every request carries a bearer
 * token; a session is bound to the principal that initialised it, and a request with
 * another identity (or none) never reaches it. Sessions idle for `idleMs` are closed; each
 * identity holds at most `maxSessionsPerIdentity`, so no one can evict anyone else's.
 */
export interface McpHttpOptions {
  gov: GovService;
  identity: IdentityProvider;
  log?: Logger;
  path?: string;
  idleMs?: number;
  /** Open sessions over all identities. */
  maxSessions?: number;
  /** Open sessions one identity may hold; a new one replaces that identity's least recently used. */
  maxSessionsPerIdentity?: number;
}

interface Session { transport: StreamableHTTPServerTransport; server: McpServer; owner: string; lastSeen: number }

function rpcError(reply: FastifyReply, status: number, code: number, message: string, headers: Record<string, string> = {}) {
  return reply.status(status).headers(headers).send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

export const mcpHttpPlugin: FastifyPluginAsync<McpHttpOptions> = async (app, opts) => {
  const path = opts.path ?? '/mcp';
  const idleMs = opts.idleMs ?? 30 * 60_000;
  const maxSessions = opts.maxSessions ?? 1000;
  const perIdentity = opts.maxSessionsPerIdentity ?? 10;
  const sessions = new Map<string, Session>();
  const leastRecent = (list: [string, Session][]) => list.sort((a, b) => a[1].lastSeen - b[1].lastSeen)[0];

  const closeSession = async (id: string) => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  };

  const sweep = setInterval(() => {
    const cutoff = Date.now() - idleMs;
    for (const [id, s] of sessions) if (s.lastSeen < cutoff) void closeSession(id);
  }, Math.min(idleMs, 60_000));
  sweep.unref();

  app.addHook('onClose', async () => {
    clearInterval(sweep);
    await Promise.all([...sessions.keys()].map(closeSession));
  });

  async function principalFor(req: FastifyRequest, reply: FastifyReply): Promise<Principal | null> {
    try {
      const p = await authenticateRequest(opts.identity, req);
      if (p) return p;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
    }
    await rpcError(reply, 401, -32001, '请先登录：MCP 请求需要 Authorization: Bearer <token>。', { 'www-authenticate': 'Bearer' });
    return null;
  }

  async function handle(req: FastifyRequest, reply: FastifyReply, transport: StreamableHTTPServerTransport) {
    reply.hijack();
    try {
      await transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (err) {
      opts.log?.error({ err }, 'mcp request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: '系统繁忙，请稍后再试。' }, id: null }));
      }
    }
  }

  /** The caller's own session, or a JSON-RPC error reply (404 for unknown or someone else's). */
  async function existing(req: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<Session | null> {
    const raw = req.headers['mcp-session-id'];
    const id = Array.isArray(raw) ? raw[0] : raw;
    if (!id) {
      await rpcError(reply, 400, -32000, '缺少 Mcp-Session-Id：请先发送 initialize 请求建立会话。');
      return null;
    }
    const s = sessions.get(id);
    if (!s || s.owner !== principalKey(principal)) {
      await rpcError(reply, 404, -32001, 'MCP 会话不存在或已过期，请重新初始化。');
      return null;
    }
    s.lastSeen = Date.now();
    return s;
  }

  app.post(path, { bodyLimit: 4 * 1024 * 1024, schema: { hide: true } }, async (req, reply) => {
    const principal = await principalFor(req, reply);
    if (!principal) return reply;
    if (req.headers['mcp-session-id'] === undefined && isInitializeRequest(req.body)) {
      // One identity cannot crowd out another: past its own limit its least recently used session
      // makes room; at the global cap only a session of the same identity, or one idle past half
      // the idle timeout, is closed; otherwise the new session waits for room (503).
      const owner = principalKey(principal);
      const mine = [...sessions.entries()].filter(([, x]) => x.owner === owner);
      if (mine.length >= perIdentity) await closeSession(leastRecent(mine)![0]);
      else if (sessions.size >= maxSessions) {
        const stale = [...sessions.entries()].filter(([, x]) => x.lastSeen < Date.now() - idleMs / 2);
        const room = mine.length ? leastRecent(mine) : leastRecent(stale);
        if (!room) return rpcError(reply, 503, -32002, 'MCP 会话数已满，请稍后再试。', { 'retry-after': '60' });
        await closeSession(room[0]);
      }
      const server = createMcpServer(opts.gov, principal, { log: opts.log });
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, server, owner: principalKey(principal), lastSeen: Date.now() });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await server.connect(transport);
      await handle(req, reply, transport);
      return reply;
    }
    const s = await existing(req, reply, principal);
    if (s) await handle(req, reply, s.transport);
    return reply;
  });

  const streamOrClose = async (req: FastifyRequest, reply: FastifyReply) => {
    const principal = await principalFor(req, reply);
    if (!principal) return reply;
    const s = await existing(req, reply, principal);
    if (s) await handle(req, reply, s.transport);
    return reply;
  };
  app.get(path, { schema: { hide: true } }, streamOrClose);
  app.delete(path, { schema: { hide: true } }, streamOrClose);
};
