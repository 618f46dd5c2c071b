import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { z } from 'zod';
import { loadCatalogue, type Service } from '../../core/catalogue.js';
import { withTransaction } from '../../core/db.js';
import { AppError, forbidden, notFound } from '../../core/errors.js';
import {
  ApplicationStatusInput, CreateHandoffInput, GetServiceGuideInput, PrefillInput, SearchServicesInput, SubmitInput,
  type Application, type ApplicationStatus, type Handoff, type Licence, type Prefill, type Profile, type ServiceGuide,
  type SubmitResult,
} from '../contract.js';
import { actorOf, type CitizenPrincipal, type Principal, type StaffPrincipal } from '../identity/principal.js';
import { parseInput } from '../validation.js';
import {
  findApplication, findByIdempotencyKey, insertDraft, listByStatus, listForCitizen, recordEvent, setStatus, toApplication,
  type ApplicationRow,
} from './applications.js';
import { audit } from './audit.js';
import { searchCatalogue, toSummary } from './catalogue-search.js';
import { findCitizen, toProfile, type CitizenRow } from './citizens.js';
import { checkEligibility } from './eligibility.js';
import { DEFAULT_GUIDES_DIR, readServiceGuide } from './guide-reader.js';
import {
  findHandoff, insertHandoff, insertMessage, listMessages, listQueue, maskDeep, setHandoffStatus, toSummary as toHandoffSummary,
  type HandoffRow,
} from './handoffs.js';
import { findIdCardLicence, issueLicence, listLicences } from './licences.js';
import { applicationValues, buildPrefill, cleanValues, validateValues, type ProfileSources } from './prefill.js';
import type { HandoffDetail, HandoffMessage, HandoffSummary, MyHandoff, ReviewItem } from './schemas.js';
import {
  DRAFT_MESSAGE, issuedMessage, rejectedMessage, returnedMessage, submittedMessage, UNDER_REVIEW_MESSAGE,
} from './status-messages.js';

export interface GovServiceOptions {
  catalogue?: Service[];
  /** Where service guides live (knowledge/guides). */
  guidesDir?: string;
  /** The clock, for ages and tests. */
  now?: () => Date;
}

/** Events for live delivery by the channels (staff replies, status changes). */
export interface GovEvents {
  'handoff.message': [{ handoffId: string; citizenId: string | null; sessionId: string | null; message: HandoffMessage }];
  'application.status': [{ applicationId: string; citizenId: string; status: ApplicationStatus; statusMessage: string }];
}

const Id = z.string().min(1).max(64);
const StaffNote = z.string().trim().min(1).max(1000);
const MessageText = z.string().trim().min(1).max(4000);

/**
 * The sandbox 一网通办 service API. Every method takes the acting principal; reads of
 * personal data and every write are audited (who, what, whose, when, why). A citizen only
 * ever reaches their own records; staff operations require a staff principal.
 */
export class GovService {
  readonly events = new EventEmitter<GovEvents>();
  private readonly catalogue: Service[];
  private readonly guidesDir: string;
  private readonly now: () => Date;

  constructor(private readonly pool: pg.Pool, opts: GovServiceOptions = {}) {
    this.catalogue = opts.catalogue ?? loadCatalogue();
    this.guidesDir = opts.guidesDir ?? DEFAULT_GUIDES_DIR;
    this.now = opts.now ?? (() => new Date());
  }

  /** True when the database answers (for health checks). */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  // ---- catalogue (public information: not audited) -------------------------------------

  listServices(): ReturnType<typeof toSummary>[] {
    return this.catalogue.map((s) => toSummary(s));
  }

  searchServices(_p: Principal | null, input: z.input<typeof SearchServicesInput>): ReturnType<typeof toSummary>[] {
    const { query, limit } = parseInput(SearchServicesInput, input);
    return searchCatalogue(this.catalogue, query, limit ?? 5);
  }

  getService(serviceId: string): Service {
    const s = this.catalogue.find((x) => x.id === serviceId);
    if (!s) throw notFound('办事事项');
    return s;
  }

  getServiceGuide(_p: Principal | null, input: z.input<typeof GetServiceGuideInput>): ServiceGuide {
    const { serviceId } = parseInput(GetServiceGuideInput, input);
    return readServiceGuide(this.getService(serviceId), this.guidesDir);
  }

  // ---- the citizen's own data --------------------------------------------------------

  async getProfile(p: Principal): Promise<Profile> {
    const c = await this.citizenOf(p);
    await audit(this.pool, { actor: actorOf(p), action: 'profile.read', subjectCitizenId: c.id, why: '查看本人信息' });
    return toProfile(c, this.now());
  }

  async listLicences(p: Principal): Promise<Licence[]> {
    const c = await this.citizenOf(p);
    await audit(this.pool, { actor: actorOf(p), action: 'licences.read', subjectCitizenId: c.id, why: '查看本人电子证照（卡包）' });
    return listLicences(this.pool, c.id);
  }

  async prefill(p: Principal, input: z.input<typeof PrefillInput>): Promise<Prefill> {
    const { serviceId, values } = parseInput(PrefillInput, input);
    const service = this.getService(serviceId);
    const c = await this.citizenOf(p);
    const sources = await this.sourcesOf(c);
    const given = cleanValues(values);
    validateValues(service, given, sources, false);
    const eligibility = checkEligibility(service, c, this.now());
    await audit(this.pool, {
      actor: actorOf(p), action: 'application.prefill', subjectCitizenId: c.id,
      what: { serviceId, fields: (service.fields ?? []).filter((f) => f.source === 'profile').map((f) => f.key) },
      why: '预填办事表单（共享数据、电子证照免于提交）',
    });
    return buildPrefill(service, given, sources, eligibility);
  }

  async submit(p: Principal, input: z.input<typeof SubmitInput>): Promise<SubmitResult> {
    const req = parseInput(SubmitInput, input);
    const citizenId = this.requireCitizen(p).citizenId;
    const service = this.getService(req.serviceId);
    const earlier = await findByIdempotencyKey(this.pool, citizenId, req.idempotencyKey);
    if (earlier) return this.duplicateOf(p, earlier);
    if (!service.transactable) {
      throw new AppError('not_transactable', 422, `「${service.name}」暂不支持在线直接办理，请查看办事指南或转人工。`);
    }
    const c = await this.citizenOf(p);
    const sources = await this.sourcesOf(c);
    const given = cleanValues(req.values);
    validateValues(service, given, sources, true);
    const eligibility = checkEligibility(service, c, this.now());
    if (!eligibility.eligible) {
      throw new AppError('not_eligible', 422, eligibility.reason ?? '经核验，您暂不符合该事项的申请条件。', { eligibility });
    }
    const fields = applicationValues(service, given, sources);
    const actor = actorOf(p) as { kind: 'citizen'; id: string };
    const outcome = await withTransaction(this.pool, async (tx) => {
      const id = await insertDraft(tx, {
        citizenId: c.id, serviceId: service.id, serviceName: service.name, fields, idempotencyKey: req.idempotencyKey,
        sessionId: req.sessionId ?? null, statusMessage: DRAFT_MESSAGE,
      });
      if (!id) return { duplicate: true as const };
      await recordEvent(tx, id, null, 'draft', actor);
      await setStatus(tx, id, 'draft', 'submitted', submittedMessage(service.id, fields), actor);
      let licence: { id: string; name: string } | null = null;
      const system = { kind: 'system' as const, id: 'auto-review' };
      if (service.id === 'criminal_record_certificate') {
        if (c.record_on_file) {
          await setStatus(tx, id, 'submitted', 'under_review', UNDER_REVIEW_MESSAGE, system);
        } else {
          licence = await this.issueCertificate(tx, c.id, id);
          await setStatus(tx, id, 'submitted', 'issued', issuedMessage(service.id), system, null, licence.id);
        }
      }
      await audit(tx, {
        actor, action: 'application.submit', subjectCitizenId: c.id,
        what: { applicationId: id, serviceId: service.id, fields: Object.keys(fields), licenceId: licence?.id ?? null },
        why: '市民提交办事申请',
      });
      return { duplicate: false as const, id, licence };
    });
    if (outcome.duplicate) {
      // A concurrent submit with the same key won the race: answer with its application.
      const row = await findByIdempotencyKey(this.pool, citizenId, req.idempotencyKey);
      if (!row) throw new AppError('conflict', 409, '申请正在处理中，请稍后查询办件进度。');
      return this.duplicateOf(p, row);
    }
    const row = (await findApplication(this.pool, outcome.id))!;
    return { application: toApplication(row), duplicate: false, licence: outcome.licence };
  }

  private async duplicateOf(p: Principal, row: ApplicationRow): Promise<SubmitResult> {
    await audit(this.pool, {
      actor: actorOf(p), action: 'application.submit_duplicate', subjectCitizenId: row.citizen_id,
      what: { applicationId: row.id }, why: '重复提交（同一幂等键），返回原申请',
    });
    return {
      application: toApplication(row),
      duplicate: true,
      licence: row.licence_id ? { id: row.licence_id, name: row.licence_name ?? '' } : null,
    };
  }

  private issueCertificate(tx: pg.PoolClient, citizenId: string, applicationId: string) {
    return issueLicence(tx, {
      citizenId, applicationId, name: '有无犯罪记录证明', issuer: '上海市公安局',
      // e.g. 沪公无犯证〔2026〕1122000001号, from the application number SA20261122000001.
      number: `沪公无犯证〔${applicationId.slice(2, 6)}〕${applicationId.slice(6)}号`,
    });
  }

  /** One application: its owner, or any staff member. Others get 404 (not 403: no existence leak). */
  async getApplication(p: Principal, input: z.input<typeof ApplicationStatusInput>): Promise<Application> {
    const { applicationId } = parseInput(ApplicationStatusInput, input);
    const row = await findApplication(this.pool, applicationId);
    if (!row || (p.kind === 'citizen' && row.citizen_id !== p.citizenId)) throw notFound('办件');
    await audit(this.pool, {
      actor: actorOf(p), action: 'application.read', subjectCitizenId: row.citizen_id, what: { applicationId },
      why: p.kind === 'citizen' ? '查询本人办件进度' : '工作人员查看办件',
    });
    return toApplication(row);
  }

  async listMyApplications(p: Principal): Promise<Application[]> {
    const { citizenId } = this.requireCitizen(p);
    await audit(this.pool, { actor: actorOf(p), action: 'applications.list', subjectCitizenId: citizenId, why: '查看本人办件列表' });
    return (await listForCitizen(this.pool, citizenId)).map((r) => toApplication(r));
  }

  // ---- handoffs: the citizen side ----------------------------------------------------

  async createHandoff(p: Principal, input: z.input<typeof CreateHandoffInput>): Promise<Handoff> {
    const req = parseInput(CreateHandoffInput, input);
    const { citizenId } = this.requireCitizen(p);
    if (req.serviceId) this.getService(req.serviceId);
    if (req.applicationId) {
      const app = await findApplication(this.pool, req.applicationId);
      if (!app || app.citizen_id !== citizenId) throw notFound('办件');
    }
    const id = await withTransaction(this.pool, async (tx) => {
      const hid = await insertHandoff(tx, {
        citizenId, reason: req.reason, reasonText: req.reasonText ?? null, serviceId: req.serviceId ?? null,
        sessionId: req.sessionId ?? null, applicationId: req.applicationId ?? null, transcript: req.transcript,
        understanding: req.understanding ?? {}, form: req.form ?? {},
      });
      await audit(tx, {
        actor: actorOf(p), action: 'handoff.create', subjectCitizenId: citizenId,
        what: { handoffId: hid, reason: req.reason, serviceId: req.serviceId ?? null, turns: req.transcript.length },
        why: '转人工：将对话记录、理解结果和已填表单交给窗口工作人员',
      });
      return hid;
    });
    return { id, status: 'waiting', reason: req.reason };
  }

  /** A citizen's own handoff with its messages (optionally only those after `afterMessageId`). */
  async getMyHandoff(p: Principal, handoffId: string, afterMessageId?: string): Promise<MyHandoff> {
    const h = await this.ownHandoff(p, handoffId);
    await audit(this.pool, { actor: actorOf(p), action: 'handoff.read_own', subjectCitizenId: h.citizen_id, what: { handoffId: h.id }, why: '查看本人人工服务消息' });
    return {
      id: h.id, status: h.status, reason: h.reason, sessionId: h.session_id, createdAt: h.created_at.toISOString(),
      messages: await listMessages(this.pool, h.id, afterId(afterMessageId), false),
    };
  }

  async postCitizenMessage(p: Principal, handoffId: string, text: string): Promise<HandoffMessage> {
    const body = parseInput(MessageText, text);
    const h = await this.ownHandoff(p, handoffId);
    if (h.status === 'closed') throw new AppError('handoff_closed', 409, '该人工服务已结束，如需继续咨询请重新发起。');
    const message = await withTransaction(this.pool, async (tx) => {
      const m = await insertMessage(tx, h.id, 'citizen', h.citizen_id, body);
      await audit(tx, { actor: actorOf(p), action: 'handoff.citizen_message', subjectCitizenId: h.citizen_id, what: { handoffId: h.id, messageId: m.id }, why: '市民在人工服务中留言' });
      return m;
    });
    this.events.emit('handoff.message', { handoffId: h.id, citizenId: h.citizen_id, sessionId: h.session_id, message });
    return message;
  }

  private async ownHandoff(p: Principal, handoffId: string): Promise<HandoffRow> {
    const { citizenId } = this.requireCitizen(p);
    const h = await findHandoff(this.pool, parseInput(Id, handoffId));
    if (!h || h.citizen_id !== citizenId) throw notFound('人工服务记录');
    return h;
  }

  // ---- staff operations --------------------------------------------------------------

  async listHandoffQueue(p: Principal, opts: { status?: 'waiting' | 'claimed' | 'closed' | 'open' } = {}): Promise<HandoffSummary[]> {
    const staff = this.requireStaff(p);
    const status = opts.status ?? 'open';
    const rows = await listQueue(this.pool, status === 'open' ? ['waiting', 'claimed'] : [status]);
    await audit(this.pool, { actor: actorOf(staff), action: 'handoff.queue', subjectCitizenId: null, what: { status, count: rows.length }, why: '查看转人工队列' });
    return rows.map((h) => toHandoffSummary(h, this.serviceName(h.service_id)));
  }

  /**
   * A handoff in full: identifiers masked by default; `full` with a reason shows the form as
   * given, and that reason is audited.
   */
  async getHandoff(p: Principal, handoffId: string, opts: { full?: boolean; why?: string } = {}): Promise<HandoffDetail> {
    const staff = this.requireStaff(p);
    const h = await findHandoff(this.pool, parseInput(Id, handoffId));
    if (!h) throw notFound('转人工工单');
    const full = opts.full === true;
    const why = opts.why?.trim();
    if (full && (!why || why.length < 2)) {
      throw new AppError('reason_required', 400, '查看完整表单（含未脱敏的身份证号、手机号）需要填写查看理由。');
    }
    const citizen = h.citizen_id ? await findCitizen(this.pool, h.citizen_id) : undefined;
    const appRow = h.application_id ? await findApplication(this.pool, h.application_id) : undefined;
    await audit(this.pool, {
      actor: actorOf(staff), action: full ? 'handoff.view_full' : 'handoff.view', subjectCitizenId: h.citizen_id,
      what: { handoffId: h.id, unmasked: full }, why: full ? why! : '处理转人工工单（脱敏视图）',
    });
    const mask = <T>(v: T): T => (full ? v : (maskDeep(v) as T));
    return {
      ...toHandoffSummary(h, this.serviceName(h.service_id)),
      unmasked: full,
      citizenContact: citizen
        ? { idNumber: mask(citizen.id_number), phone: citizen.phone === null ? null : mask(citizen.phone) }
        : null,
      transcript: mask(h.transcript),
      understanding: mask(h.understanding),
      form: mask(h.form),
      messages: await listMessages(this.pool, h.id, null, !full),
      application: appRow ? toApplication(appRow, { unmasked: full }) : null,
    };
  }

  async claimHandoff(p: Principal, handoffId: string): Promise<HandoffSummary> {
    const staff = this.requireStaff(p);
    return withTransaction(this.pool, async (tx) => {
      const h = await this.lockHandoff(tx, handoffId);
      if (h.status === 'closed') throw new AppError('handoff_closed', 409, '该工单已关闭，无法认领。');
      if (h.status === 'claimed' && h.claimed_by !== staff.staffId) {
        throw new AppError('handoff_claimed', 409, `该工单已由${h.claimed_by_name ?? '其他工作人员'}认领。`);
      }
      if (h.status === 'waiting') {
        await setHandoffStatus(tx, h.id, 'claimed', staff.staffId);
        await audit(tx, { actor: actorOf(staff), action: 'handoff.claim', subjectCitizenId: h.citizen_id, what: { handoffId: h.id }, why: '认领转人工工单' });
      }
      const after = (await findHandoff(tx, h.id))!;
      return toHandoffSummary(after, this.serviceName(after.service_id));
    });
  }

  /** A staff reply, stored as a handoff message and emitted for live delivery. Claims a waiting handoff. */
  async replyHandoff(p: Principal, handoffId: string, text: string): Promise<HandoffMessage> {
    const staff = this.requireStaff(p);
    const body = parseInput(MessageText, text);
    const { h, message } = await withTransaction(this.pool, async (tx) => {
      const h = await this.lockHandoff(tx, handoffId);
      if (h.status === 'closed') throw new AppError('handoff_closed', 409, '该工单已关闭，无法回复。');
      if (h.status === 'claimed' && h.claimed_by !== staff.staffId) {
        throw new AppError('handoff_claimed', 409, `该工单已由${h.claimed_by_name ?? '其他工作人员'}认领。`);
      }
      if (h.status === 'waiting') await setHandoffStatus(tx, h.id, 'claimed', staff.staffId);
      const message = await insertMessage(tx, h.id, 'staff', staff.staffId, body);
      await audit(tx, { actor: actorOf(staff), action: 'handoff.reply', subjectCitizenId: h.citizen_id, what: { handoffId: h.id, messageId: message.id }, why: '工作人员回复市民' });
      return { h, message };
    });
    this.events.emit('handoff.message', { handoffId: h.id, citizenId: h.citizen_id, sessionId: h.session_id, message });
    return message;
  }

  async closeHandoff(p: Principal, handoffId: string, note?: string): Promise<HandoffSummary> {
    const staff = this.requireStaff(p);
    const text = note === undefined ? undefined : parseInput(StaffNote, note);
    const { summary, h, message } = await withTransaction(this.pool, async (tx) => {
      const h = await this.lockHandoff(tx, handoffId);
      let message: HandoffMessage | null = null;
      if (h.status !== 'closed') {
        if (text) message = await insertMessage(tx, h.id, 'system', staff.staffId, text);
        await setHandoffStatus(tx, h.id, 'closed', staff.staffId);
        await audit(tx, { actor: actorOf(staff), action: 'handoff.close', subjectCitizenId: h.citizen_id, what: { handoffId: h.id }, why: text ?? '人工服务结束' });
      }
      const after = (await findHandoff(tx, h.id))!;
      return { summary: toHandoffSummary(after, this.serviceName(after.service_id)), h, message };
    });
    if (message) this.events.emit('handoff.message', { handoffId: h.id, citizenId: h.citizen_id, sessionId: h.session_id, message });
    return summary;
  }

  /** Applications waiting for staff (under review by default). Fields are masked. */
  async listReviewQueue(p: Principal, status: ApplicationStatus = 'under_review'): Promise<ReviewItem[]> {
    const staff = this.requireStaff(p);
    const rows = await listByStatus(this.pool, [status]);
    await audit(this.pool, { actor: actorOf(staff), action: 'applications.queue', subjectCitizenId: null, what: { status, count: rows.length }, why: '查看待审核办件' });
    return rows.map((r) => ({ application: toApplication(r), citizen: { id: r.citizen_id, name: r.citizen_name } }));
  }

  async approveApplication(p: Principal, applicationId: string, note?: string): Promise<Application> {
    return this.decide(p, applicationId, 'issued', note === undefined ? null : parseInput(StaffNote, note));
  }

  async returnApplication(p: Principal, applicationId: string, reason: string): Promise<Application> {
    return this.decide(p, applicationId, 'returned', parseInput(StaffNote, reason));
  }

  async rejectApplication(p: Principal, applicationId: string, reason: string): Promise<Application> {
    return this.decide(p, applicationId, 'rejected', parseInput(StaffNote, reason));
  }

  private async decide(p: Principal, applicationId: string, to: 'issued' | 'returned' | 'rejected', note: string | null): Promise<Application> {
    const staff = this.requireStaff(p);
    const actor = { kind: 'staff' as const, id: staff.staffId };
    const row = await withTransaction(this.pool, async (tx) => {
      const locked = await tx.query<{ status: ApplicationStatus }>('SELECT status FROM applications WHERE id = $1 FOR UPDATE', [parseInput(Id, applicationId)]);
      const app = locked.rows[0] ? await findApplication(tx, applicationId) : undefined;
      if (!app) throw notFound('办件');
      if (app.status !== 'submitted' && app.status !== 'under_review') {
        throw new AppError('invalid_transition', 409, `该办件当前状态为“${STATUS_LABEL[app.status]}”，不能再${DECISION_LABEL[to]}。`);
      }
      let licenceId: string | null = null;
      if (to === 'issued' && app.service_id === 'criminal_record_certificate') {
        licenceId = (await this.issueCertificate(tx, app.citizen_id, app.id)).id;
      }
      const message = to === 'issued' ? issuedMessage(app.service_id) : to === 'returned' ? returnedMessage(note!) : rejectedMessage(note!);
      await setStatus(tx, app.id, app.status, to, message, actor, note, licenceId);
      await audit(tx, {
        actor, action: `application.${to === 'issued' ? 'approve' : to === 'returned' ? 'return' : 'reject'}`,
        subjectCitizenId: app.citizen_id, what: { applicationId: app.id, from: app.status, to, licenceId },
        why: note ?? '工作人员审核通过',
      });
      return (await findApplication(tx, app.id))!;
    });
    this.events.emit('application.status', { applicationId: row.id, citizenId: row.citizen_id, status: row.status, statusMessage: row.status_message });
    return toApplication(row);
  }

  // ---- helpers -----------------------------------------------------------------------

  private requireCitizen(p: Principal): CitizenPrincipal {
    if (p.kind !== 'citizen') throw forbidden('此操作需要市民本人登录。');
    return p;
  }

  private requireStaff(p: Principal): StaffPrincipal {
    if (p.kind !== 'staff') throw forbidden('此操作仅限窗口工作人员。');
    return p;
  }

  private async citizenOf(p: Principal): Promise<CitizenRow> {
    const { citizenId } = this.requireCitizen(p);
    const c = await findCitizen(this.pool, citizenId);
    if (!c) throw notFound('市民信息');
    return c;
  }

  private async sourcesOf(c: CitizenRow): Promise<ProfileSources> {
    return { citizen: c, idCardLicenceId: (await findIdCardLicence(this.pool, c.id))?.id ?? null };
  }

  private async lockHandoff(tx: pg.PoolClient, handoffId: string): Promise<HandoffRow> {
    const id = parseInput(Id, handoffId);
    await tx.query('SELECT 1 FROM handoffs WHERE id = $1 FOR UPDATE', [id]);
    const h = await findHandoff(tx, id);
    if (!h) throw notFound('转人工工单');
    return h;
  }

  private serviceName(id: string | null): string | null {
    return id ? (this.catalogue.find((s) => s.id === id)?.name ?? null) : null;
  }
}

const STATUS_LABEL: Record<ApplicationStatus, string> = {
  draft: '草稿', submitted: '已提交', issued: '已办结', under_review: '人工审核中', rejected: '未通过', returned: '已退回',
};
const DECISION_LABEL = { issued: '审核通过', returned: '退回', rejected: '驳回' } as const;

function afterId(id: string | undefined): number | null {
  if (id === undefined) return null;
  const n = Number(id);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}
