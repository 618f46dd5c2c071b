import { z } from 'zod';

/**
 * The contract of the MCP tools that wrap the sandbox 一网通办 service API. The agent (an
 * MCP client of this project's own server) and any outside MCP client rely on these names
 * and shapes. The acting citizen is never an argument: it is the authenticated connection.
 * Inputs are strict (an unknown argument is refused) and every parameter is described for a
 * model or a developer to read.
 */
export const TOOL = {
  searchServices: 'search_services',
  getServiceGuide: 'get_service_guide',
  getMyProfile: 'get_my_profile',
  listMyLicences: 'list_my_licences',
  prefillApplication: 'prefill_application',
  submitApplication: 'submit_application',
  getApplicationStatus: 'get_application_status',
  listMyApplications: 'list_my_applications',
  withdrawApplication: 'withdraw_application',
  createHandoff: 'create_handoff',
  messageHandoff: 'message_handoff',
  listMyOffers: 'list_my_offers',
  answerOffer: 'answer_offer',
  prefillBundle: 'prefill_bundle',
  submitBundle: 'submit_bundle',
  getBundleStatus: 'get_bundle_status',
} as const;

export const ApplicationStatus = z.enum(['draft', 'submitted', 'issued', 'under_review', 'rejected', 'returned', 'withdrawn']);
export type ApplicationStatus = z.infer<typeof ApplicationStatus>;

const ServiceId = z.string().min(1).max(64).describe('事项编号（serviceId），如 criminal_record_certificate；可先用 search_services 检索');
export const FieldValues = z
  .record(z.string().regex(/^[a-z_]{1,40}$/), z.string().max(200))
  .describe('字段值，键为 prefill_application 返回的字段 key：需询问的字段（source 为 ask，取 options 中的规范值），以及可修改的预填字段（editable 为 true，如邮寄地址、银行账户）');

// ---- inputs -------------------------------------------------------------------------------
export const SearchServicesInput = z.strictObject({
  query: z.string().min(1).max(500).describe('事项名称、别名或一句话描述，如“开无犯罪证明”'),
  limit: z.number().int().min(1).max(30).optional().describe('最多返回几项，默认 5'),
});
export const GetServiceGuideInput = z.strictObject({ serviceId: ServiceId });
export const PrefillInput = z.strictObject({
  serviceId: ServiceId,
  values: FieldValues.optional(),
});
export const SubmitInput = z.strictObject({
  serviceId: ServiceId,
  values: FieldValues,
  idempotencyKey: z
    .string().min(8).max(128)
    .describe('幂等键：由调用方为“这一次确认”生成（如 UUID）。同一键重复提交返回同一申请；同一键配不同内容会被拒绝（409）'),
  sessionId: z.string().max(128).optional().describe('发起申请的会话编号（须为本人会话），仅用于关联记录'),
});
export const ApplicationStatusInput = z.strictObject({
  applicationId: z.string().min(1).max(64).describe('申请编号，如 SA20261201000001'),
});
export const WithdrawInput = z.strictObject({
  applicationId: z.string().min(1).max(64).describe('要撤回的本人申请编号；仅“已提交，待受理”的申请可以撤回'),
  reason: z.string().max(200).optional().describe('撤回原因（可选，记入审计）'),
});
/**
 * A transcript line. `client` marks lines supplied by an outside client: staff see them as the
 * client's account, never as the agent's or staff's words (the server writes those itself).
 */
export const TranscriptEntry = z.strictObject({
  role: z.enum(['citizen', 'agent', 'staff', 'client']).describe('说话人；外部客户端提供的记录一律按 client 保存'),
  text: z.string().max(20_000).describe('这一句说的话'),
  at: z.string().max(40).optional().describe('说话时间（ISO 8601，可选）'),
});
export const HANDOFF_REASONS = ['citizen_request', 'review', 'ineligible', 'not_understood', 'no_answer', 'other'] as const;
export const CreateHandoffInput = z.strictObject({
  reason: z.enum(HANDOFF_REASONS).describe('转人工原因：citizen_request 市民要求、review 需人工审核、ineligible 不符合条件、not_understood 未理解、no_answer 无答案、other 其他'),
  reasonText: z.string().max(500).optional().describe('给工作人员看的简短说明'),
  serviceId: z.string().max(64).nullable().optional().describe('相关事项编号'),
  sessionId: z.string().max(128).optional().describe('相关会话编号（须为本人会话）；工作人员的回复会推送到该会话'),
  applicationId: z.string().max(64).optional().describe('相关的本人申请编号'),
  transcript: z.array(TranscriptEntry).max(200).default([]).describe('对话记录（可选）；由外部客户端提供时按 client 身份保存'),
  understanding: z.record(z.string(), z.unknown()).optional().describe('对市民诉求的理解（事项、已说明的信息等）'),
  form: z.record(z.string(), z.unknown()).optional().describe('已预填的表单'),
});
export const MessageHandoffInput = z.strictObject({
  handoffId: z.string().min(1).max(64).describe('本人的人工服务工单编号（create_handoff 或提交结果中的 handoff.id）'),
  text: z.string().min(1).max(2000).describe('市民对工作人员说的话，原样转给处理该工单的工作人员'),
});
export const ListOffersInput = z.strictObject({
  all: z.boolean().optional().describe('true：也列出市民说过“不需要”或“以后再说”的待遇（市民主动询问时）；默认只列出可以主动推送的'),
});
export const OfferAnswerInput = z.strictObject({
  offerId: z.string().min(1).max(64).describe('list_my_offers 返回的待遇编号'),
  answer: z.enum(['declined', 'later']).describe('declined：不需要（不再推送）；later：以后再说（本次不再推送）'),
});
export const BundleInput = z.strictObject({
  bundleId: z.string().min(1).max(64).describe('“一件事”编号，如 newborn_one_thing'),
  values: FieldValues.optional(),
});
export const SubmitBundleInput = z.strictObject({
  bundleId: z.string().min(1).max(64).describe('“一件事”编号'),
  values: FieldValues,
  idempotencyKey: z.string().min(8).max(128).describe('幂等键：一次确认一个键，各部门的申请由它派生，重复确认不会重复提交'),
  sessionId: z.string().max(128).optional().describe('发起申请的本人会话编号'),
});
export const BundleStatusInput = z.strictObject({ bundleApplicationId: z.string().min(1).max(64).describe('“一件事”申请编号') });

// ---- outputs ------------------------------------------------------------------------------
export const ServiceSummary = z.object({
  id: z.string(), name: z.string(), department: z.string(), transactable: z.boolean(), score: z.number().optional(),
});

export const Handoff = z.object({ id: z.string(), status: z.enum(['waiting', 'claimed', 'closed']), reason: z.string() });
export type Handoff = z.infer<typeof Handoff>;
/** A citizen's message delivered to the staff member of an open handoff. */
export const HandoffMessageSent = z.object({ handoffId: z.string(), messageId: z.string(), status: Handoff.shape.status });
export type HandoffMessageSent = z.infer<typeof HandoffMessageSent>;

export const PrefilledField = z.object({
  key: z.string(),
  label: z.string(),
  source: z.enum(['profile', 'ask', 'derived']),
  /** The value, or null when still open; identifiers come masked (as `display`). */
  value: z.string().nullable(),
  /** What a citizen or staff member is shown: ID numbers, phones and accounts masked. */
  display: z.string().nullable(),
  options: z.array(z.string()).optional(),
  /** A free-text field's common answers, offered to touch; any other valid value is accepted too. */
  suggestions: z.array(z.string()).optional(),
  /** The field applies given the values so far (its `when` condition holds). */
  applies: z.boolean(),
  /** The citizen may replace the pre-filled value (e.g. mailing address, bank account). */
  editable: z.boolean(),
  /** Never asked (a note in the citizen's own words). */
  optional: z.boolean().optional(),
});
export type PrefilledField = z.infer<typeof PrefilledField>;

export const Eligibility = z.object({
  eligible: z.boolean(),
  /** not_applicable: the service does not apply to this person; ineligible: a condition fails. */
  code: z.enum(['ok', 'not_applicable', 'ineligible']),
  /** Chinese reason a citizen can understand, in their own facts. */
  reason: z.string().optional(),
  /** A better-fitting service, where there is one. */
  alternative: z.object({ serviceId: z.string(), name: z.string() }).optional(),
});
export type Eligibility = z.infer<typeof Eligibility>;

export const Application = z.object({
  id: z.string(),
  serviceId: z.string(),
  serviceName: z.string(),
  department: z.string(),
  status: ApplicationStatus,
  /** Chinese label of the status (the one place labels come from). */
  statusLabel: z.string(),
  /** Chinese: what happens next (never mentions why a case is under review). */
  statusMessage: z.string(),
  fields: z.record(z.string(), z.string()),
  /** Whether the citizen may still withdraw it. */
  withdrawable: z.boolean(),
  /** The 一件事 application it belongs to, if any. */
  bundleApplicationId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Application = z.infer<typeof Application>;

export const Prefill = z.object({
  serviceId: z.string(),
  serviceName: z.string(),
  department: z.string(),
  fields: z.array(PrefilledField),
  /** Asked fields that apply and are still open, in catalogue order. */
  missing: z.array(z.string()),
  eligibility: Eligibility,
  /** An application of the citizen's that a new one with these values would repeat (the service's repeat policy). */
  repeat: Application.nullable(),
});
export type Prefill = z.infer<typeof Prefill>;

export const SubmitResult = z.object({
  application: Application,
  /** True when the idempotency key had been used: the earlier application is returned. */
  duplicate: z.boolean(),
  /** An e-licence delivered to the citizen's card wallet (卡包), when one was issued. */
  licence: z.object({ id: z.string(), name: z.string() }).nullable(),
  /** The staff handoff opened with the application, when it went to review. */
  handoff: Handoff.nullable(),
});
export type SubmitResult = z.infer<typeof SubmitResult>;

/** A benefit the citizen is entitled to from shared data alone (免申即享), explained with their own facts. */
export const OfferView = z.object({
  id: z.string(),
  serviceId: z.string(),
  serviceName: z.string(),
  department: z.string(),
  title: z.string(),
  /** Why this citizen qualifies, in their own facts ("您于10月2日生育", "已参加本市生育保险"). */
  why: z.array(z.string()),
  /** How much, where it can be computed from shared data, and how it was worked out. */
  amount: z.object({ value: z.number(), unit: z.string(), per: z.string().nullable(), text: z.string(), explain: z.string() }).nullable(),
  /** The fields the citizen confirms on the one-tap card (e.g. the bank account), pre-filled and masked. */
  confirm: z.array(PrefilledField),
  /** new: not answered yet; later / declined: the citizen's earlier answer. */
  status: z.enum(['new', 'later', 'declined']),
});
export type OfferView = z.infer<typeof OfferView>;
export const OfferList = z.object({ offers: z.array(OfferView) });
export const OfferAnswer = z.object({ offerId: z.string(), answer: z.enum(['declined', 'later']), answeredAt: z.string() });

/** One member service of a 一件事 bundle, for this citizen. */
export const BundleMember = z.object({
  serviceId: z.string(),
  serviceName: z.string(),
  department: z.string(),
  /** Whether this part will be applied for (its condition holds, the citizen is eligible, nothing repeats). */
  applies: z.boolean(),
  /** Why a part does not apply, in the citizen's own facts. */
  reason: z.string().nullable(),
  fields: z.array(PrefilledField),
  missing: z.array(z.string()),
});
export type BundleMember = z.infer<typeof BundleMember>;

/**
 * A bundle's pre-filled form. It reads like a Prefill (serviceId is the bundle's id; `fields`
 * and `missing` are the union over the parts that apply, each shared field once) so a client
 * fills it like a single form; `members` gives each part with its department.
 */
export const BundlePrefill = Prefill.extend({
  bundleId: z.string(),
  members: z.array(BundleMember),
});
export type BundlePrefill = z.infer<typeof BundlePrefill>;

export const BundleApplicationView = z.object({
  id: z.string(),
  bundleId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  /** One application per part submitted, each with its own department and status. */
  applications: z.array(Application),
  /** Parts that did not apply to this citizen, with the reason. */
  skipped: z.array(z.object({ serviceId: z.string(), serviceName: z.string(), reason: z.string() })),
  /** Parts the service API refused at submission; the others went ahead. */
  failed: z.array(z.object({ serviceId: z.string(), serviceName: z.string(), reason: z.string() })),
});
export type BundleApplicationView = z.infer<typeof BundleApplicationView>;
export const SubmitBundleResult = z.object({
  bundle: BundleApplicationView,
  /** True when the idempotency key had been used: nothing new was submitted. */
  duplicate: z.boolean(),
  /** Staff handoffs opened for parts that went to review. */
  handoffs: z.array(Handoff.extend({ applicationId: z.string() })),
});
export type SubmitBundleResult = z.infer<typeof SubmitBundleResult>;
export const BundleApplicationList = z.object({ bundles: z.array(BundleApplicationView) });

/** The caller's own shared-data profile; identifiers are masked. */
export const Profile = z.object({
  citizenId: z.string(),
  name: z.string(),
  gender: z.string().nullable(),
  /** Masked, e.g. 310101********2038. */
  idNumber: z.string(),
  birthDate: z.string(),
  age: z.number().int(),
  /** Masked, e.g. 138****0001. */
  phone: z.string().nullable(),
  household: z.object({ shanghai: z.boolean(), address: z.string().nullable() }),
  residenceAddress: z.string().nullable(),
  /** Masked, e.g. **** **** **** 0001. */
  bankAccount: z.string().nullable(),
  fundAccount: z.string().nullable(),
});
export type Profile = z.infer<typeof Profile>;

/** An e-licence in the citizen's card wallet (卡包). */
export const Licence = z.object({
  id: z.string(),
  name: z.string(),
  issuer: z.string(),
  /** Licence number, masked where it is an identifier. */
  number: z.string(),
  /** shared: from the licence registry; issued: delivered by an application made here. */
  source: z.enum(['shared', 'issued']),
  applicationId: z.string().nullable(),
  issuedAt: z.string(),
  validUntil: z.string().nullable(),
});
export type Licence = z.infer<typeof Licence>;

export const GuideSection = z.object({ title: z.string(), content: z.string() });
export const ServiceGuide = z.object({
  serviceId: z.string(),
  name: z.string(),
  department: z.string(),
  transactable: z.boolean(),
  aliases: z.array(z.string()),
  /** False while the guide has not been written yet; `message` then says so in Chinese. */
  available: z.boolean(),
  message: z.string().optional(),
  updated: z.string().nullable(),
  references: z.array(z.string()),
  sections: z.array(GuideSection),
});
export type ServiceGuide = z.infer<typeof ServiceGuide>;

/** MCP structured content must be an object, so lists are wrapped. */
export const ServiceList = z.object({ services: z.array(ServiceSummary) });
export const LicenceList = z.object({ licences: z.array(Licence) });
export const ApplicationList = z.object({ applications: z.array(Application) });
