import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError, badRequest } from '../../core/errors.js';
import type { AgentRuntime } from '../../agent/runtime.js';
import type { Principal } from '../../tools/identity/principal.js';
import type { SessionStore } from './store.js';
import { attachSessionSocket, type SessionSocketExtras } from './socket.js';

/** The longest message a citizen can send; more is almost certainly a paste by mistake. */
export const MAX_MESSAGE_CHARS = 2000;

export interface SessionRoutesOptions {
  /** The agent (or a wrapper of it, e.g. channels/metrics instrumentAgent). */
  agent: Pick<AgentRuntime, 'runTurn' | 'view'>;
  sessions: SessionStore;
  /** The caller's identity from the bearer token, or null when there is none. Throws 401 on a bad token. */
  principalOf: (req: FastifyRequest) => Promise<Principal | null>;
  maxSessionsPerCitizen?: number;
  /** Optional socket capabilities (voice, live delivery, streaming); see channels/sessions/socket.ts. */
  socket?: SessionSocketExtras;
  /**
   * Per-identity limit on what costs a turn (a new session, a message, a voice clip), over
   * HTTP and the WebSocket alike; throws a 429 AppError. See channels/security.
   */
  turnLimit?: (req: FastifyRequest, principal: Principal | null) => Promise<void>;
}

const CreateBody = z.object({ channel: z.enum(['app', 'kiosk']).default('app') }).default({ channel: 'app' });
const MessageBody = z.object({ text: z.string() });

export function parseMessageText(body: unknown): string {
  const parsed = MessageBody.safeParse(body);
  if (!parsed.success) throw badRequest('请求格式不正确：需要 {"text": "..."}。');
  const text = parsed.data.text.trim();
  if (!text) throw badRequest('消息不能为空，请说说您想办什么事。');
  if (text.length > MAX_MESSAGE_CHARS) {
    throw new AppError('message_too_long', 413, `消息太长了（最多 ${MAX_MESSAGE_CHARS} 字），请精简后再发。`);
  }
  return text;
}

const IdParams = z.object({ id: z.string().min(1).max(64) });
const CreateBodySchema = z.object({ channel: z.enum(['app', 'kiosk']).optional() }).strict().nullish();
const MessageBodySchema = z.object({ text: z.string() });

/** The session routes of shared/spec/API.md, and the WebSocket carrying the same turns. */
export const sessionRoutes: FastifyPluginAsync<SessionRoutesOptions> = async (app: FastifyInstance, opts) => {
  const { agent, sessions, principalOf } = opts;
  const maxSessions = opts.maxSessionsPerCitizen ?? 50;

  app.post('/api/sessions', {
    schema: {
      tags: ['sessions'],
      summary: '开始一个会话（无令牌时仅可咨询）',
      body: CreateBodySchema,
    },
  }, async (req, reply) => {
    const principal = await principalOf(req);
    const parsed = CreateBody.safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest('channel 只能是 app 或 kiosk。');
    await opts.turnLimit?.(req, principal);
    if (principal?.kind === 'citizen' && (await sessions.countActiveFor(principal.citizenId)) >= maxSessions) {
      throw new AppError('too_many_sessions', 429, '您同时打开的会话过多，请关闭不用的会话后再试。');
    }
    const session = await sessions.create(principal, parsed.data.channel);
    return reply.code(201).send({ sessionId: session.id });
  });

  app.post('/api/sessions/:id/messages', {
    schema: {
      tags: ['sessions'],
      summary: '发送一条消息，返回本轮 Turn',
      params: IdParams,
      body: MessageBodySchema,
    },
  }, async (req) => {
    const principal = await principalOf(req);
    const text = parseMessageText(req.body);
    await opts.turnLimit?.(req, principal);
    const session = await sessions.touchOwned((req.params as { id: string }).id, principal);
    if (session.endedAt) throw new AppError('session_ended', 409, '该会话已结束，请重新开始。');
    return agent.runTurn(session.id, session.citizenId, text);
  });

  app.get('/api/sessions/:id', {
    schema: { tags: ['sessions'], summary: '会话记录与当前状态', params: IdParams },
  }, async (req) => {
    const principal = await principalOf(req);
    const session = await sessions.getOwned((req.params as { id: string }).id, principal);
    const view = await agent.view(session.id);
    return { sessionId: session.id, channel: session.channel, endedAt: session.endedAt, ...view };
  });

  app.delete('/api/sessions/:id', {
    schema: { tags: ['sessions'], summary: '结束会话（自助终端空闲超时或用户退出）', params: IdParams },
  }, async (req, reply) => {
    const principal = await principalOf(req);
    const session = await sessions.getOwned((req.params as { id: string }).id, principal);
    await sessions.end(session.id);
    return reply.code(204).send();
  });

  attachSessionSocket(app, opts);
};
