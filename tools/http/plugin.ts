import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { badRequest } from '../../core/errors.js';
import {
  Application, BundleApplicationView, BundleInput, BundlePrefill, Licence, OfferAnswer, OfferView, Prefill, PrefillInput, Profile,
  ServiceSummary, SubmitBundleResult, SubmitResult,
} from '../contract.js';
import type { IdentityProvider } from '../identity/provider.js';
import type { GovService } from '../sandbox/gov-service.js';
import { LicenceShare, LicenceVerification, originOf } from '../sandbox/licence-share.js';
import { HandoffDetail, HandoffMessage, HandoffSummary, MyHandoff, ReviewItem } from '../sandbox/schemas.js';
import { bearerAuth, bearerToken, citizenOf, requirePrincipal, staffOf } from './auth.js';
import { ErrorBody } from './errors.js';
import {
  FullViewBody, HandoffQueueQuery, Health, IdParams, KioskCardLoginBody, KioskHeaders, LoginResponse, MessagesQuery, NoteBody,
  OfferAnswerBody, OffersQuery, ReasonBody, ReviewQueueQuery, SandboxLoginBody, ServiceDetail, ServicesQuery, StaffLoginBody, SubmitBody,
  SubmitBundleBody, SubmitHeaders, TextBody, VerifyParams, WithdrawBody,
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
    schema: { tags: ['auth'], summary: '窗口工作人员登录（连续失败会暂时锁定）', body: StaffLoginBody, response: { 200: LoginResponse, ...errors, 429: ErrorBody } },
  }, async (req) => identity.login({ method: 'staff_password', ...req.body, clientIp: req.ip }));

  app.post('/api/auth/logout', {
    preValidation: anyone,
    schema: { tags: ['auth'], summary: '退出登录：本登录凭证立即失效', security: secured, response: { 204: z.null(), ...errors } },
  }, async (req, reply) => {
    await identity.revoke(bearerToken(req.headers.authorization)!, '退出登录');
    return reply.code(204).send(null);
  });

  app.post('/api/auth/kiosk-card-login', {
    schema: {
      tags: ['auth'], summary: '一体机身份证读卡登录（需设备密钥 X-Kiosk-Device-Key）',
      body: KioskCardLoginBody, headers: KioskHeaders, response: { 200: LoginResponse, ...errors },
    },
  }, async (req) => identity.login({ method: 'kiosk_card', ...req.body, deviceKey: req.headers['x-kiosk-device-key'] }));

  // ---- the caller's own data ----------------------------------------------------------
  app.get('/api/me', {
    preValidation: citizen, schema: { tags: ['me'], summary: '本人信息（脱敏）', security: secured, response: { 200: Profile, ...errors } },
  }, async (req) => gov.citizens.profile(citizenOf(req)));

  app.get('/api/me/licences', {
    preValidation: citizen, schema: { tags: ['me'], summary: '本人电子证照（卡包），含已出具的证明', security: secured, response: { 200: z.array(Licence), ...errors } },
  }, async (req) => gov.citizens.licences(citizenOf(req)));

  // 出示 and 核验 (issue #14): the holder's signed code and QR, the certificate card to keep,
  // and the no-login verification a scanned QR opens. None of it may be kept by a shared cache.
  const noStore = async (_req: unknown, reply: { header(k: string, v: string): unknown }) => void reply.header('cache-control', 'no-store');
  app.get('/api/me/licences/:id/share', {
    preValidation: citizen, onRequest: noStore,
    schema: { tags: ['me'], summary: '出示电子证照：核验二维码（仅持证人本人）', security: secured, params: IdParams, response: { 200: LicenceShare, ...errors } },
  }, async (req) => gov.licenceShare.share(citizenOf(req), req.params.id, verifyOrigin(req.headers, req.protocol)));

  app.get('/api/me/licences/:id/card', {
    preValidation: citizen, onRequest: noStore,
    schema: { tags: ['me'], summary: '下载电子证照卡面（SVG 图片，含核验二维码）', security: secured, params: IdParams, response: { 200: z.string().describe('SVG 图片（image/svg+xml，附件下载）'), ...errors } },
  }, async (req, reply) => {
    const card = await gov.licenceShare.card(citizenOf(req), req.params.id, verifyOrigin(req.headers, req.protocol));
    return reply
      .type('image/svg+xml; charset=utf-8')
      .header('content-disposition', `attachment; filename="licence.svg"; filename*=UTF-8''${encodeURIComponent(card.filename)}`)
      .send(card.svg);
  });

  app.get('/api/verify/:code', {
    onRequest: noStore,
    schema: {
      tags: ['verify'], summary: '核验电子证照（扫码，无需登录）：仅返回证照名称、签发机关、脱敏持证人、日期与是否有效',
      params: VerifyParams, response: { 200: LicenceVerification, ...errors },
    },
  }, async (req) => gov.licenceShare.verify(req.params.code));

  app.get('/api/me/applications', {
    preValidation: citizen, schema: { tags: ['me'], summary: '本人办件列表', security: secured, response: { 200: z.array(Application), ...errors } },
  }, async (req) => gov.applications.listMine(citizenOf(req)));

  app.get('/api/me/handoffs/:id', {
    preValidation: citizen,
    schema: { tags: ['me'], summary: '本人的人工服务及工作人员回复', security: secured, params: IdParams, querystring: MessagesQuery, response: { 200: MyHandoff, ...errors } },
  }, async (req) => gov.handoffs.getMine(citizenOf(req), req.params.id, req.query.after));

  app.post('/api/me/handoffs/:id/messages', {
    preValidation: citizen,
    schema: { tags: ['me'], summary: '在人工服务中留言', security: secured, params: IdParams, body: TextBody, response: { 200: HandoffMessage, ...errors } },
  }, async (req) => gov.handoffs.postCitizenMessage(citizenOf(req), req.params.id, req.body.text));

  app.get('/api/applications/:id', {
    preValidation: anyone,
    schema: { tags: ['applications'], summary: '办件详情（本人或工作人员）', security: secured, params: IdParams, response: { 200: Application, ...errors } },
  }, async (req) => gov.applications.get(requirePrincipal(req), { applicationId: req.params.id }));

  // ---- catalogue ----------------------------------------------------------------------
  app.get('/api/services', {
    schema: { tags: ['services'], summary: '办事事项目录；带 q 时按名称/别名检索', querystring: ServicesQuery, response: { 200: z.array(ServiceSummary), ...errors } },
  }, async (req) => (req.query.q ? gov.services.search(null, { query: req.query.q, limit: req.query.limit }) : gov.services.list()));

  app.get('/api/services/:id', {
    schema: { tags: ['services'], summary: '事项详情与办事指南', params: IdParams, response: { 200: ServiceDetail, ...errors } },
  }, async (req) => {
    const s = gov.services.get(req.params.id);
    return {
      id: s.id, name: s.name, department: s.department, transactable: s.transactable, aliases: s.aliases,
      fields: (s.fields ?? []).map((f) => ({
        key: f.key, label: f.label, source: f.source,
        ...(f.options ? { options: f.options } : {}),
        ...(typeof f.when === 'string' ? { when: f.when } : {}),
        ...(f.editable ? { editable: true } : {}),
        ...(f.optional ? { optional: true } : {}),
      })),
      guide: gov.services.guide(null, { serviceId: s.id }),
    };
  });

  // ---- applying -----------------------------------------------------------------------
  app.post('/api/applications/prefill', {
    preValidation: citizen,
    schema: { tags: ['applications'], summary: '预填申请表（共享数据、电子证照免于提交）', security: secured, body: PrefillInput, response: { 200: Prefill, ...errors } },
  }, async (req) => gov.applications.prefill(citizenOf(req), req.body));

  app.post('/api/applications', {
    preValidation: citizen,
    schema: {
      tags: ['applications'], summary: '提交申请（幂等：Idempotency-Key 请求头或 idempotencyKey 字段）', security: secured,
      body: SubmitBody, headers: SubmitHeaders, response: { 200: SubmitResult, 201: SubmitResult, ...errors },
    },
  }, async (req, reply) => {
    const result = await gov.applications.submit(citizenOf(req), { ...req.body, idempotencyKey: idempotencyKeyOf(req.headers['idempotency-key'], req.body.idempotencyKey) });
    return reply.status(result.duplicate ? 200 : 201).send(result);
  });

  // ---- 免申即享 and 一件事 --------------------------------------------------------------
  app.get('/api/me/offers', {
    preValidation: citizen,
    schema: { tags: ['me'], summary: '免申即享：根据共享数据本人可直接享受的待遇', security: secured, querystring: OffersQuery, response: { 200: z.array(OfferView), ...errors } },
  }, async (req) => gov.offers.list(citizenOf(req), { all: req.query.all === 'true' }));

  app.post('/api/me/offers/:id/answer', {
    preValidation: citizen,
    schema: { tags: ['me'], summary: '回复待遇推送：不需要（不再推送）或以后再说', security: secured, params: IdParams, body: OfferAnswerBody, response: { 200: OfferAnswer, ...errors } },
  }, async (req) => gov.offers.answer(citizenOf(req), { offerId: req.params.id, answer: req.body.answer }));

  app.post('/api/bundles/prefill', {
    preValidation: citizen,
    schema: { tags: ['bundles'], summary: '预填“一件事”联办表单：哪些事项适用及原因、需补充的信息', security: secured, body: BundleInput, response: { 200: BundlePrefill, ...errors } },
  }, async (req) => gov.bundles.prefill(citizenOf(req), req.body));

  app.post('/api/bundles', {
    preValidation: citizen,
    schema: {
      tags: ['bundles'], summary: '提交“一件事”：每个部门一份申请，同一幂等键重复确认不重复提交', security: secured,
      body: SubmitBundleBody, headers: SubmitHeaders, response: { 200: SubmitBundleResult, 201: SubmitBundleResult, ...errors },
    },
  }, async (req, reply) => {
    const result = await gov.bundles.submit(citizenOf(req), { ...req.body, idempotencyKey: idempotencyKeyOf(req.headers['idempotency-key'], req.body.idempotencyKey) });
    return reply.status(result.duplicate ? 200 : 201).send(result);
  });

  app.get('/api/me/bundles', {
    preValidation: citizen,
    schema: { tags: ['me'], summary: '本人“一件事”办件（各部门进度）', security: secured, response: { 200: z.array(BundleApplicationView), ...errors } },
  }, async (req) => gov.bundles.listMine(citizenOf(req)));

  app.get('/api/bundles/:id', {
    preValidation: anyone,
    schema: { tags: ['bundles'], summary: '“一件事”办件详情（本人或工作人员）', security: secured, params: IdParams, response: { 200: BundleApplicationView, ...errors } },
  }, async (req) => gov.bundles.get(requirePrincipal(req), { bundleApplicationId: req.params.id }));

  app.post('/api/applications/:id/withdraw', {
    preValidation: citizen,
    schema: {
      tags: ['applications'], summary: '撤回本人申请（仅限“已提交，待受理”）', security: secured, params: IdParams,
      body: WithdrawBody, response: { 200: Application, ...errors },
    },
  }, async (req) => gov.applications.withdraw(citizenOf(req), { applicationId: req.params.id, ...(req.body?.reason ? { reason: req.body.reason } : {}) }));

  // ---- staff console ------------------------------------------------------------------
  app.get('/api/staff/handoffs', {
    preValidation: staff,
    schema: { tags: ['staff'], summary: '转人工队列（含等待时长）', security: secured, querystring: HandoffQueueQuery, response: { 200: z.array(HandoffSummary), ...errors } },
  }, async (req) => gov.handoffs.queue(staffOf(req), { status: req.query.status }));

  app.get('/api/staff/handoffs/:id', {
    preValidation: staff,
    schema: { tags: ['staff'], summary: '转人工工单详情（身份证号、手机号已脱敏）', security: secured, params: IdParams, response: { 200: HandoffDetail, ...errors } },
  }, async (req) => gov.handoffs.detail(staffOf(req), req.params.id));

  app.post('/api/staff/handoffs/:id/full-view', {
    preValidation: staff,
    schema: { tags: ['staff'], summary: '查看完整表单（不脱敏，须填写理由并记入审计）', security: secured, params: IdParams, body: FullViewBody, response: { 200: HandoffDetail, ...errors } },
  }, async (req) => gov.handoffs.detail(staffOf(req), req.params.id, { full: true, why: req.body.why }));

  app.post('/api/staff/handoffs/:id/claim', {
    preValidation: staff,
    schema: { tags: ['staff'], summary: '认领工单', security: secured, params: IdParams, response: { 200: HandoffSummary, ...errors } },
  }, async (req) => gov.handoffs.claim(staffOf(req), req.params.id));

  app.post('/api/staff/handoffs/:id/reply', {
    preValidation: staff,
    schema: { tags: ['staff'], summary: '回复市民（实时推送到对话）', security: secured, params: IdParams, body: TextBody, response: { 200: HandoffMessage, ...errors } },
  }, async (req) => gov.handoffs.reply(staffOf(req), req.params.id, req.body.text));

  app.post('/api/staff/handoffs/:id/close', {
    preValidation: staff,
    schema: { tags: ['staff'], summary: '关闭工单', security: secured, params: IdParams, body: NoteBody, response: { 200: HandoffSummary, ...errors } },
  }, async (req) => gov.handoffs.close(staffOf(req), req.params.id, req.body?.note));

  app.get('/api/staff/applications', {
    preValidation: staff,
    schema: { tags: ['staff'], summary: '待处理办件（默认：人工审核中）', security: secured, querystring: ReviewQueueQuery, response: { 200: z.array(ReviewItem), ...errors } },
  }, async (req) => gov.review.queue(staffOf(req), req.query.status));

  app.post('/api/staff/applications/:id/approve', {
    preValidation: staff,
    schema: { tags: ['staff'], summary: '审核通过（证明类事项出具电子证明至卡包）', security: secured, params: IdParams, body: NoteBody, response: { 200: Application, ...errors } },
  }, async (req) => gov.review.approve(staffOf(req), req.params.id, req.body?.note));

  app.post('/api/staff/applications/:id/return', {
    preValidation: staff,
    schema: { tags: ['staff'], summary: '退回申请（须说明原因）', security: secured, params: IdParams, body: ReasonBody, response: { 200: Application, ...errors } },
  }, async (req) => gov.review.return(staffOf(req), req.params.id, req.body.reason));

  app.post('/api/staff/applications/:id/reject', {
    preValidation: staff,
    schema: { tags: ['staff'], summary: '不予通过（须说明原因）', security: secured, params: IdParams, body: ReasonBody, response: { 200: Application, ...errors } },
  }, async (req) => gov.review.reject(staffOf(req), req.params.id, req.body.reason));
};

/**
 * Where the verification page is, for the QR URL: the request's host, with the scheme a
 * TLS-terminating proxy reports (deploy/nginx.conf sets X-Forwarded-Proto). Trusting it is harmless here: it only shapes the caller's own QR URL.
 */
function verifyOrigin(headers: { host?: string; 'x-forwarded-proto'?: string | string[] }, protocol: string): string {
  const h = headers['x-forwarded-proto'];
  const forwarded = (Array.isArray(h) ? h[0] : h)?.split(',')[0]?.trim().toLowerCase();
  return originOf(forwarded === 'https' || forwarded === 'http' ? forwarded : protocol, headers.host);
}

/** The idempotency key of a submission: the Idempotency-Key header or the body's field, which must agree. */
function idempotencyKeyOf(header: string | undefined, field: string | undefined): string {
  const key = field ?? header;
  if (!key) throw badRequest('缺少幂等键：请在 Idempotency-Key 请求头或 idempotencyKey 字段中提供（8–128 个字符）。');
  if (header && field && header !== field) throw badRequest('Idempotency-Key 请求头与 idempotencyKey 字段不一致。');
  return key;
}
