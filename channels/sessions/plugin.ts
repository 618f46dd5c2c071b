import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { TurnSchema } from '../../agent/turn.js';
import { bearerToken } from '../../tools/http/auth.js';
import { ErrorBody } from '../../tools/http/errors.js';
import { MessageBody, parseMessageText, type SessionRoutesOptions } from './messages.js';
import { attachSessionSocket } from './socket.js';

export { MAX_MESSAGE_CHARS, parseMessageText, type SessionRoutesOptions } from './messages.js';

const IdParams = z.object({ id: z.string().min(1).max(64).describe('会话编号') });
const CreateBody = z.object({ channel: z.enum(['app', 'kiosk']).default('app').describe('渠道：app 手机端，kiosk 大厅自助终端') }).strict().nullish();
const Created = z.object({ sessionId: z.string() });
const SessionView = z.object({
  sessionId: z.string(),
  channel: z.enum(['app', 'kiosk']),
  endedAt: z.string().nullable(),
  turns: z.array(z.object({ n: z.number().int(), opening: z.boolean().optional(), text: z.string(), at: z.string(), turn: TurnSchema })),
  state: z.object({ service: z.string().nullable(), stage: z.string(), awaiting: z.string().nullable(), values: z.record(z.string(), z.string()) }),
});
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 429: ErrorBody };
const secured = [{ bearerAuth: [] }];

/**
 * The session routes of shared/spec/API.md, and the WebSocket carrying the same turns (one
 * fastify style with the service API: zod schemas for params, bodies and responses). The
 * caller is authenticated before the body is validated; a session belongs to the identity that
 * created it (anyone else gets 404).
 */
/** channels/sessions/PROTOCOL.md, served at /docs/websocket. */
const PROTOCOL = readFileSync(fileURLToPath(new URL('./PROTOCOL.md', import.meta.url)), 'utf8');

export const sessionRoutes: FastifyPluginAsyncZod<SessionRoutesOptions> = async (app, opts) => {
  const { agent, sessions, principalOf } = opts;
  const maxSessions = opts.maxSessionsPerCitizen ?? 50;
  const principals = new WeakMap<object, Awaited<ReturnType<typeof principalOf>>>();
  const authenticate = async (req: Parameters<typeof principalOf>[0]) => {
    principals.set(req, await principalOf(req));
  };
  const principal = (req: object) => principals.get(req) ?? null;

  // The WebSocket protocol, for clients outside these pages (linked from the OpenAPI description).
  app.get('/docs/websocket', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/markdown; charset=utf-8').send(PROTOCOL));

  app.post('/api/sessions', {
    preValidation: authenticate,
    schema: {
      tags: ['sessions'], summary: '开始一个会话（无令牌时仅可咨询）', security: secured,
      body: CreateBody, response: { 201: Created, ...errors },
    },
  }, async (req, reply) => {
    const p = principal(req);
    await opts.turnLimit?.(req, p);
    if (p?.kind === 'citizen' && (await sessions.countActiveFor(p.citizenId)) >= maxSessions) {
      throw new AppError('too_many_sessions', 429, '您同时打开的会话过多，请关闭不用的会话后再试。');
    }
    const token = bearerToken(req.headers.authorization);
    const tokenId = p && token && opts.tokens ? (await opts.tokens.tokenInfo(token)).tokenId : null;
    const session = await sessions.create(p, req.body?.channel ?? 'app', tokenId);
    return reply.code(201).send({ sessionId: session.id });
  });

  app.post('/api/sessions/:id/messages', {
    preValidation: authenticate,
    schema: {
      tags: ['sessions'], summary: '发送一条消息，返回本轮 Turn', security: secured,
      params: IdParams, body: MessageBody, response: { 200: TurnSchema, ...errors },
    },
  }, async (req) => {
    const p = principal(req);
    const text = parseMessageText(req.body);
    await opts.turnLimit?.(req, p);
    const session = await sessions.touchOwned(req.params.id, p);
    if (session.endedAt) throw new AppError('session_ended', 409, '该会话已结束，请重新开始。');
    return agent.runTurn(session.id, session.citizenId, text, req.body.cardToken ? { cardToken: req.body.cardToken } : {});
  });

  app.post('/api/sessions/:id/opening', {
    preValidation: authenticate,
    schema: {
      tags: ['sessions'], summary: '开场：小申先说话（问候；已登录市民可直接领取的免申即享待遇），每个会话一次', security: secured,
      params: IdParams, response: { 200: TurnSchema, ...errors },
    },
  }, async (req) => {
    const p = principal(req);
    await opts.turnLimit?.(req, p);
    const session = await sessions.touchOwned(req.params.id, p);
    if (session.endedAt) throw new AppError('session_ended', 409, '该会话已结束，请重新开始。');
    return agent.open(session.id, session.citizenId);
  });

  app.get('/api/sessions/:id', {
    preValidation: authenticate,
    schema: { tags: ['sessions'], summary: '会话记录与当前状态', security: secured, params: IdParams, response: { 200: SessionView, ...errors } },
  }, async (req) => {
    const session = await sessions.getOwned(req.params.id, principal(req));
    const view = await agent.view(session.id);
    return { sessionId: session.id, channel: session.channel, endedAt: session.endedAt, turns: view.turns, state: view.state };
  });

  app.delete('/api/sessions/:id', {
    preValidation: authenticate,
    schema: { tags: ['sessions'], summary: '结束会话（自助终端空闲超时或用户退出）', security: secured, params: IdParams },
  }, async (req, reply) => {
    const p = principal(req);
    const session = await sessions.getOwned(req.params.id, p);
    await sessions.end(session.id);
    // The end of a kiosk visit: the ID-card token is taken back at once (not left valid for its lifetime).
    const token = bearerToken(req.headers.authorization);
    if (p?.kind === 'citizen' && p.via === 'kiosk_card' && token && opts.tokens) await opts.tokens.revoke(token, '自助终端办事结束');
    return reply.code(204).send();
  });

  // The server's own idle timer for kiosk visits (the page's may never fire: a closed tab, a crash).
  if (opts.tokens && opts.kioskIdleSeconds) {
    const idle = opts.kioskIdleSeconds;
    const tokens = opts.tokens;
    const sweep = async () => {
      for (const s of await sessions.endIdleKiosk(idle)) {
        if (s.tokenId) await tokens.revokeId(s.tokenId, new Date(Date.now() + 86_400_000), '自助终端空闲超时');
      }
    };
    const timer = setInterval(() => void sweep().catch((err: unknown) => app.log.warn({ err }, 'kiosk idle sweep failed')), Math.max(1, Math.min(60, idle / 2)) * 1000);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }

  attachSessionSocket(app, opts);
};
