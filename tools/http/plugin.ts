import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { badRequest } from '../../core/errors.js';
import {
  Application, Licence, Prefill, PrefillInput, Profile, ServiceSummary, SubmitResult,
} from '../contract.js';
import type { IdentityProvider } from '../identity/provider.js';
import type { GovService } from '../sandbox/gov-service.js';
import { HandoffDetail, HandoffMessage, HandoffSummary, MyHandoff, ReviewItem } from '../sandbox/schemas.js';
import { bearerAuth, citizenOf, requirePrincipal, staffOf } from './auth.js';
import { ErrorBody } from './errors.js';
import {
  FullViewBody, HandoffQueueQuery, Health, IdParams, KioskCardLoginBody, KioskHeaders, LoginResponse, MessagesQuery, NoteBody,
  ReasonBody, ReviewQueueQuery, SandboxLoginBody, ServiceDetail, ServicesQuery, StaffLoginBody, SubmitBody, SubmitHeaders, TextBody,
} from './schemas.js';

export interface GovApiOptions {
  gov: GovService;
  identity: IdentityProvider;
  /** Shown by /api/health. */
  dbKind?: string;
  version?: string;
}

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody };
const secured = [{ bearerAuth: [] }];

/**
 * The sandbox 一网通办 HTTP API (shared/spec/API.md, all but the session routes): login,
 * the caller's own data, the catalogue, pre-fill and submit, and the staff console.
 * Needs the zod validator/serializer compilers and the global error handler of createApiServer (app.ts).
 */
export const govApiPlugin: FastifyPluginAsyncZod<GovApiOptions> = async (app, { gov, identity, dbKind = 'unknown', version = '0.1.0' }) => {
  const citizen = bearerAuth(identity, 'citizen');
  const staff = bearerAuth(identity, 'staff');
  const anyone = bearerAuth(identity, 'any');

  // ---- health and login ---------------------------------------------------------------
  app.get('/api/health', { schema: { tags: ['system'], summary: '健康检查', response: { 200: Health, 503: Health } } }, async (_req, reply) => {
    const ok = await gov.ping();
    return reply.status(ok ? 200 : 503).send({ ok, db: dbKind, time: new Date().toISOString(), version });
  });

  app.post('/api/auth/sandbox-login', {
    schema: { tags: ['auth'], summary: '沙箱实名登录（代替随申办登录；生产环境不可用）', body: SandboxLoginBody, response: { 200: LoginResponse, ...errors } },
  }, async (req) => identity.login({ method: 'sandbox', citizenId: req.body.citizenId }));

  app.post('/api/auth/staff-login', {
    schema: { tags: ['auth'], summary: '窗口工作人员登录', body: StaffLoginBody, response: { 200: LoginResponse, ...errors } },
  }, async (req) => identity.login({ method: 'staff_password', ...req.body }));

  app.post('/api/auth/kiosk-card-login', {
    schema: {
      tags: ['auth'], summary: '一体机身份证读卡登录（需设备密钥 X-Kiosk-Device-Key）',
      body: KioskCardLoginBody, headers: KioskHeaders, response: { 200: LoginResponse, ...errors },
    },
  }, async (req) => identity.login({ method: 'kiosk_card', ...req.body, deviceKey: req.headers['x-kiosk-device-key'] }));

  // ---- the caller's own data ----------------------------------------------------------
  app.get('/api/me', {
    preHandler: citizen, schema: { tags: ['me'], summary: '本人信息（脱敏）', security: secured, response: { 200: Profile, ...errors } },
  }, async (req) => gov.getProfile(citizenOf(req)));

  app.get('/api/me/licences', {
    preHandler: citizen, schema: { tags: ['me'], summary: '本人电子证照（卡包），含已出具的证明', security: secured, response: { 200: z.array(Licence), ...errors } },
  }, async (req) => gov.listLicences(citizenOf(req)));

  app.get('/api/me/applications', {
    preHandler: citizen, schema: { tags: ['me'], summary: '本人办件列表', security: secured, response: { 200: z.array(Application), ...errors } },
  }, async (req) => gov.listMyApplications(citizenOf(req)));

  app.get('/api/me/handoffs/:id', {
    preHandler: citizen,
    schema: { tags: ['me'], summary: '本人的人工服务及工作人员回复', security: secured, params: IdParams, querystring: MessagesQuery, response: { 200: MyHandoff, ...errors } },
  }, async (req) => gov.getMyHandoff(citizenOf(req), req.params.id, req.query.after));

  app.post('/api/me/handoffs/:id/messages', {
    preHandler: citizen,
    schema: { tags: ['me'], summary: '在人工服务中留言', security: secured, params: IdParams, body: TextBody, response: { 200: HandoffMessage, ...errors } },
  }, async (req) => gov.postCitizenMessage(citizenOf(req), req.params.id, req.body.text));

  app.get('/api/applications/:id', {
    preHandler: anyone,
    schema: { tags: ['applications'], summary: '办件详情（本人或工作人员）', security: secured, params: IdParams, response: { 200: Application, ...errors } },
  }, async (req) => gov.getApplication(requirePrincipal(req), { applicationId: req.params.id }));

  // ---- catalogue ----------------------------------------------------------------------
  app.get('/api/services', {
    schema: { tags: ['services'], summary: '办事事项目录；带 q 时按名称/别名检索', querystring: ServicesQuery, response: { 200: z.array(ServiceSummary), ...errors } },
  }, async (req) => (req.query.q ? gov.searchServices(null, { query: req.query.q, limit: req.query.limit }) : gov.listServices()));

  app.get('/api/services/:id', {
    schema: { tags: ['services'], summary: '事项详情与办事指南', params: IdParams, response: { 200: ServiceDetail, ...errors } },
  }, async (req) => {
    const s = gov.getService(req.params.id);
    return {
      id: s.id, name: s.name, department: s.department, transactable: s.transactable, aliases: s.aliases,
      fields: s.fields ?? [], guide: gov.getServiceGuide(null, { serviceId: s.id }),
    };
  });

  // ---- applying -----------------------------------------------------------------------
  app.post('/api/applications/prefill', {
    preHandler: citizen,
    schema: { tags: ['applications'], summary: '预填申请表（共享数据、电子证照免于提交）', security: secured, body: PrefillInput, response: { 200: Prefill, ...errors } },
  }, async (req) => gov.prefill(citizenOf(req), req.body));

  app.post('/api/applications', {
    preHandler: citizen,
    schema: {
      tags: ['applications'], summary: '提交申请（幂等：Idempotency-Key 请求头或 idempotencyKey 字段）', security: secured,
      body: SubmitBody, headers: SubmitHeaders, response: { 200: SubmitResult, 201: SubmitResult, ...errors },
    },
  }, async (req, reply) => {
    const header = req.headers['idempotency-key'];
    const key = req.body.idempotencyKey ?? header;
    if (!key) throw badRequest('缺少幂等键：请在 Idempotency-Key 请求头或 idempotencyKey 字段中提供（8–128 个字符）。');
    if (header && req.body.idempotencyKey && header !== req.body.idempotencyKey) {
      throw badRequest('Idempotency-Key 请求头与 idempotencyKey 字段不一致。');
    }
    const result = await gov.submit(citizenOf(req), { ...req.body, idempotencyKey: key });
    return reply.status(result.duplicate ? 200 : 201).send(result);
  });

  // ---- staff console ------------------------------------------------------------------
  app.get('/api/staff/handoffs', {
    preHandler: staff,
    schema: { tags: ['staff'], summary: '转人工队列（含等待时长）', security: secured, querystring: HandoffQueueQuery, response: { 200: z.array(HandoffSummary), ...errors } },
  }, async (req) => gov.listHandoffQueue(staffOf(req), { status: req.query.status }));

  app.get('/api/staff/handoffs/:id', {
    preHandler: staff,
    schema: { tags: ['staff'], summary: '转人工工单详情（身份证号、手机号已脱敏）', security: secured, params: IdParams, response: { 200: HandoffDetail, ...errors } },
  }, async (req) => gov.getHandoff(staffOf(req), req.params.id));

  app.post('/api/staff/handoffs/:id/full-view', {
    preHandler: staff,
    schema: { tags: ['staff'], summary: '查看完整表单（不脱敏，须填写理由并记入审计）', security: secured, params: IdParams, body: FullViewBody, response: { 200: HandoffDetail, ...errors } },
  }, async (req) => gov.getHandoff(staffOf(req), req.params.id, { full: true, why: req.body.why }));

  app.post('/api/staff/handoffs/:id/claim', {
    preHandler: staff,
    schema: { tags: ['staff'], summary: '认领工单', security: secured, params: IdParams, response: { 200: HandoffSummary, ...errors } },
  }, async (req) => gov.claimHandoff(staffOf(req), req.params.id));

  app.post('/api/staff/handoffs/:id/reply', {
    preHandler: staff,
    schema: { tags: ['staff'], summary: '回复市民（实时推送到对话）', security: secured, params: IdParams, body: TextBody, response: { 200: HandoffMessage, ...errors } },
  }, async (req) => gov.replyHandoff(staffOf(req), req.params.id, req.body.text));

  app.post('/api/staff/handoffs/:id/close', {
    preHandler: staff,
    schema: { tags: ['staff'], summary: '关闭工单', security: secured, params: IdParams, body: NoteBody, response: { 200: HandoffSummary, ...errors } },
  }, async (req) => gov.closeHandoff(staffOf(req), req.params.id, req.body?.note));

  app.get('/api/staff/applications', {
    preHandler: staff,
    schema: { tags: ['staff'], summary: '待处理办件（默认：人工审核中）', security: secured, querystring: ReviewQueueQuery, response: { 200: z.array(ReviewItem), ...errors } },
  }, async (req) => gov.listReviewQueue(staffOf(req), req.query.status));

  app.post('/api/staff/applications/:id/approve', {
    preHandler: staff,
    schema: { tags: ['staff'], summary: '审核通过（证明类事项出具电子证明至卡包）', security: secured, params: IdParams, body: NoteBody, response: { 200: Application, ...errors } },
  }, async (req) => gov.approveApplication(staffOf(req), req.params.id, req.body?.note));

  app.post('/api/staff/applications/:id/return', {
    preHandler: staff,
    schema: { tags: ['staff'], summary: '退回申请（须说明原因）', security: secured, params: IdParams, body: ReasonBody, response: { 200: Application, ...errors } },
  }, async (req) => gov.returnApplication(staffOf(req), req.params.id, req.body.reason));

  app.post('/api/staff/applications/:id/reject', {
    preHandler: staff,
    schema: { tags: ['staff'], summary: '不予通过（须说明原因）', security: secured, params: IdParams, body: ReasonBody, response: { 200: Application, ...errors } },
  }, async (req) => gov.rejectApplication(staffOf(req), req.params.id, req.body.reason));
};
