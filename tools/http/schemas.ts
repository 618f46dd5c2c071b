import { z } from 'zod';
import { ApplicationStatus, FieldValues, ServiceGuide, ServiceSummary } from '../contract.js';
import { Principal } from '../identity/principal.js';

/** Request and response shapes of the HTTP routes that are not in the tool contract. */
export const LoginResponse = z.object({ token: z.string(), expiresAt: z.string(), principal: Principal });

export const SandboxLoginBody = z.object({ citizenId: z.string().min(1).max(64) });
export const StaffLoginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
export const KioskCardLoginBody = z.object({
  idNumber: z.string().min(15).max(18).describe('身份证读卡器读取的公民身份号码'),
  name: z.string().min(1).max(64).describe('身份证读卡器读取的姓名'),
});
export const KioskHeaders = z.looseObject({ 'x-kiosk-device-key': z.string().max(256).optional() });

export const IdParams = z.object({ id: z.string().min(1).max(64) });
/** A licence's 出示 code as scanned: checked by its signature, not by shape, so any malformed code gets the same refusal. */
export const VerifyParams = z.object({ code: z.string().max(512) });

export const ServicesQuery = z.object({
  q: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(30).optional(),
});

export const ServiceDetail = ServiceSummary.extend({
  aliases: z.array(z.string()),
  fields: z.array(z.object({
    key: z.string(), label: z.string(), source: z.enum(['profile', 'ask', 'derived']),
    options: z.array(z.string()).optional(), when: z.string().optional(), editable: z.boolean().optional(), optional: z.boolean().optional(),
  })),
  guide: ServiceGuide,
});

export const SubmitBody = z.object({
  serviceId: z.string().min(1).max(64),
  values: FieldValues,
  /** Or the Idempotency-Key header. */
  idempotencyKey: z.string().min(8).max(128).optional(),
  sessionId: z.string().max(128).optional(),
});
export const SubmitBundleBody = z.object({
  bundleId: z.string().min(1).max(64),
  values: FieldValues,
  /** Or the Idempotency-Key header. */
  idempotencyKey: z.string().min(8).max(128).optional(),
  sessionId: z.string().max(128).optional(),
});
export const OffersQuery = z.object({ all: z.enum(['true', 'false']).optional().describe('true：也列出已回复“不需要/以后再说”的待遇') });
export const OfferAnswerBody = z.object({ answer: z.enum(['declined', 'later']) });
export const SubmitHeaders = z.looseObject({ 'idempotency-key': z.string().min(8).max(128).optional() });

export const HandoffQueueQuery = z.object({ status: z.enum(['waiting', 'claimed', 'closed', 'open']).optional() });
export const ReviewQueueQuery = z.object({ status: ApplicationStatus.optional() });
export const WithdrawBody = z.object({ reason: z.string().trim().max(200).optional() }).nullish();
export const FullViewBody = z.object({ why: z.string().trim().min(2).max(500).describe('查看完整表单的理由（记入审计日志）') });
export const TextBody = z.object({ text: z.string().trim().min(1).max(4000) });
export const NoteBody = z.object({ note: z.string().trim().min(1).max(1000).optional() }).optional();
export const ReasonBody = z.object({ reason: z.string().trim().min(1).max(1000) });
export const MessagesQuery = z.object({ after: z.string().regex(/^\d+$/).optional() });

export const Health = z.object({ ok: z.boolean(), db: z.string(), time: z.string(), version: z.string() });
