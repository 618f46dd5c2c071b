import type pg from 'pg';
import { z } from 'zod';
import { withTransaction } from '../../core/db.js';
import { AppError, notFound } from '../../core/errors.js';
import { maskSensitiveText } from '../../core/mask.js';
import { CreateHandoffInput, type Handoff, type HandoffMessageSent } from '../contract.js';
import { actorOf, type Principal } from '../identity/principal.js';
import { parseInput } from '../validation.js';
import { findApplication, toApplication } from './applications.js';
import { audit } from './audit.js';
import { findCitizen } from './citizens.js';
import {
  findHandoff, insertHandoff, insertMessage, listMessages, listQueue, maskDeep, openHandoffOfSession, setHandoffStatus,
  toSummary, type HandoffRow,
} from './handoffs.js';
import type { HandoffDetail, HandoffMessage, HandoffSummary, MyHandoff } from './schemas.js';
import type { BundleService } from './bundle-service.js';
import type { ServiceContext, TranscriptLine } from './service-context.js';

const Id = z.string().min(1).max(64);
const StaffNote = z.string().trim().min(1).max(1000);
const MessageText = z.string().trim().min(1).max(4000);

/**
 * Handoffs to service-centre staff, as a live conversation: the citizen side (create, read,
 * write into an open one) and the staff side (queue, detail, claim, reply, close). The
 * transcript staff see is built by the server from the session; lines an outside client
 * supplies are kept and shown as that client's account, never as the agent's or staff's words.
 */
export class HandoffService {
  constructor(private readonly ctx: ServiceContext, private readonly bundles?: BundleService) {}

  private get pool(): pg.Pool {
    return this.ctx.pool;
  }

  /**
   * `trusted`: the caller is this server's own agent, which records the transcript itself;
   * any other client's lines are stored with the role `client`.
   */
  async create(p: Principal, input: z.input<typeof CreateHandoffInput>, opts: { trusted?: boolean } = {}): Promise<Handoff> {
    const req = parseInput(CreateHandoffInput, input);
    const { citizenId } = this.ctx.requireCitizen(p);
    if (req.serviceId && !this.ctx.catalogue.has(req.serviceId)) throw notFound('办事事项');
    if (req.applicationId) {
      const app = await findApplication(this.pool, req.applicationId);
      if (!app || app.citizen_id !== citizenId) throw notFound('办件');
    }
    const sessionId = await this.ctx.checkSession(citizenId, req.sessionId);
    const transcript = req.transcript.map((l) => ({
      role: opts.trusted ? l.role : 'client' as const,
      text: maskSensitiveText(l.text),
      at: l.at ?? this.ctx.now().toISOString(),
    }));
    const id = await withTransaction(this.pool, async (tx) => {
      const hid = await insertHandoff(tx, {
        citizenId, reason: req.reason, reasonText: req.reasonText ?? null, serviceId: req.serviceId ?? null,
        sessionId, applicationId: req.applicationId ?? null, transcript,
        understanding: req.understanding ?? {}, form: req.form ?? {},
      });
      await audit(tx, {
        actor: actorOf(p), action: 'handoff.create', subjectCitizenId: citizenId,
        what: { handoffId: hid, reason: req.reason, serviceId: req.serviceId ?? null, clientLines: opts.trusted ? 0 : transcript.length },
        why: '转人工：将对话记录、理解结果和已填表单交给窗口工作人员',
      });
      return hid;
    });
    return { id, status: 'waiting', reason: req.reason };
  }

  /** A citizen's own handoff with its messages (optionally only those after `afterMessageId`). */
  async getMine(p: Principal, handoffId: string, afterMessageId?: string): Promise<MyHandoff> {
    const h = await this.own(p, handoffId);
    await audit(this.pool, { actor: actorOf(p), action: 'handoff.read_own', subjectCitizenId: h.citizen_id, what: { handoffId: h.id }, why: '查看本人人工服务消息' });
    return this.mine(h, await listMessages(this.pool, h.id, afterId(afterMessageId), false));
  }

  /** The open handoff of one of the citizen's own sessions, or null. */
  async openForSession(p: Principal, sessionId: string): Promise<MyHandoff | null> {
    const { citizenId } = this.ctx.requireCitizen(p);
    await this.ctx.checkSession(citizenId, parseInput(Id, sessionId));
    const h = await openHandoffOfSession(this.pool, sessionId);
    if (!h || h.citizen_id !== citizenId) return null;
    return this.mine(h, []);
  }

  private mine(h: HandoffRow, messages: HandoffMessage[]): MyHandoff {
    return {
      id: h.id, status: h.status, reason: h.reason, sessionId: h.session_id, createdAt: h.created_at.toISOString(),
      claimedBy: h.claimed_by_name ?? null, messages,
    };
  }

  async postCitizenMessage(p: Principal, handoffId: string, text: string): Promise<HandoffMessage> {
    return (await this.citizenMessage(p, handoffId, text)).message;
  }

  /** The same, as the MCP tool answers it: where the message went and the handoff's state. */
  async messageFromCitizen(p: Principal, handoffId: string, text: string): Promise<HandoffMessageSent> {
    const { handoff, message } = await this.citizenMessage(p, handoffId, text);
    return { handoffId: handoff.id, messageId: message.id, status: handoff.status };
  }

  private async citizenMessage(p: Principal, handoffId: string, text: string): Promise<{ handoff: HandoffRow; message: HandoffMessage }> {
    const body = parseInput(MessageText, text);
    const h = await this.own(p, handoffId);
    if (h.status === 'closed') throw new AppError('handoff_closed', 409, '该人工服务已结束，如需继续咨询请重新发起。');
    const message = await withTransaction(this.pool, async (tx) => {
      const m = await insertMessage(tx, h.id, 'citizen', h.citizen_id, body);
      await audit(tx, { actor: actorOf(p), action: 'handoff.citizen_message', subjectCitizenId: h.citizen_id, what: { handoffId: h.id, messageId: m.id }, why: '市民在人工服务中留言' });
      return m;
    });
    this.ctx.events.emit('handoff.message', { handoffId: h.id, citizenId: h.citizen_id, sessionId: h.session_id, message });
    return { handoff: h, message };
  }

  private async own(p: Principal, handoffId: string): Promise<HandoffRow> {
    const { citizenId } = this.ctx.requireCitizen(p);
    const h = await findHandoff(this.pool, parseInput(Id, handoffId));
    if (!h || h.citizen_id !== citizenId) throw notFound('人工服务记录');
    return h;
  }

  // ---- staff ---------------------------------------------------------------------------

  async queue(p: Principal, opts: { status?: 'waiting' | 'claimed' | 'closed' | 'open' } = {}): Promise<HandoffSummary[]> {
    const staff = this.ctx.requireStaff(p);
    const status = opts.status ?? 'open';
    const rows = await listQueue(this.pool, status === 'open' ? ['waiting', 'claimed'] : [status]);
    await audit(this.pool, { actor: actorOf(staff), action: 'handoff.queue', subjectCitizenId: null, what: { status, count: rows.length }, why: '查看转人工队列' });
    return rows.map((h) => toSummary(h, this.ctx.serviceName(h.service_id)));
  }

  /**
   * A handoff in full: the conversation before and after the handoff (built by the server from
   * the session), messages, the form, and the staff-only note of what to check. Identifiers
   * masked by default; `full` with a reason shows the form as given, and that reason is audited.
   */
  async detail(p: Principal, handoffId: string, opts: { full?: boolean; why?: string } = {}): Promise<HandoffDetail> {
    const staff = this.ctx.requireStaff(p);
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
    const session = h.session_id && this.ctx.sessions ? await this.ctx.sessions.transcript(h.session_id) : [];
    const transcript: TranscriptLine[] = [...session, ...h.transcript.map((l) => ({ ...l, at: l.at ?? h.created_at.toISOString() }))];
    return {
      ...toSummary(h, this.ctx.serviceName(h.service_id)),
      unmasked: full,
      staffNote: h.staff_note,
      citizenContact: citizen
        ? { idNumber: mask(citizen.id_number), phone: citizen.phone === null ? null : mask(citizen.phone) }
        : null,
      transcript: mask(transcript),
      understanding: mask(h.understanding),
      form: mask(h.form),
      messages: await listMessages(this.pool, h.id, null, !full),
      application: appRow ? toApplication(appRow, this.ctx.catalogue, { unmasked: full }) : null,
      // Its applications carry masked values already (toApplication), like `application` above.
      bundle: appRow?.bundle_application_id && this.bundles ? await this.bundles.ofApplication(this.pool, appRow.id) : null,
    };
  }

  async claim(p: Principal, handoffId: string): Promise<HandoffSummary> {
    const staff = this.ctx.requireStaff(p);
    const { summary, changed, h } = await withTransaction(this.pool, async (tx) => {
      const h = await lockHandoff(tx, handoffId);
      if (h.status === 'closed') throw new AppError('handoff_closed', 409, '该工单已关闭，无法认领。');
      if (h.status === 'claimed' && h.claimed_by !== staff.staffId) {
        throw new AppError('handoff_claimed', 409, `该工单已由${h.claimed_by_name ?? '其他工作人员'}认领。`);
      }
      const changed = h.status === 'waiting';
      if (changed) {
        await setHandoffStatus(tx, h.id, 'claimed', staff.staffId);
        await audit(tx, { actor: actorOf(staff), action: 'handoff.claim', subjectCitizenId: h.citizen_id, what: { handoffId: h.id }, why: '认领转人工工单' });
      }
      const after = (await findHandoff(tx, h.id))!;
      return { summary: toSummary(after, this.ctx.serviceName(after.service_id)), changed, h: after };
    });
    if (changed) this.ctx.events.emit('handoff.status', { handoffId: h.id, citizenId: h.citizen_id, sessionId: h.session_id, status: 'claimed', staffName: h.claimed_by_name });
    return summary;
  }

  /** A staff reply, stored as a handoff message and emitted for live delivery. Claims a waiting handoff. */
  async reply(p: Principal, handoffId: string, text: string): Promise<HandoffMessage> {
    const staff = this.ctx.requireStaff(p);
    const body = parseInput(MessageText, text);
    const { h, message, claimed } = await withTransaction(this.pool, async (tx) => {
      const h = await lockHandoff(tx, handoffId);
      if (h.status === 'closed') throw new AppError('handoff_closed', 409, '该工单已关闭，无法回复。');
      if (h.status === 'claimed' && h.claimed_by !== staff.staffId) {
        throw new AppError('handoff_claimed', 409, `该工单已由${h.claimed_by_name ?? '其他工作人员'}认领。`);
      }
      const claimed = h.status === 'waiting';
      if (claimed) await setHandoffStatus(tx, h.id, 'claimed', staff.staffId);
      const message = await insertMessage(tx, h.id, 'staff', staff.staffId, body);
      await audit(tx, { actor: actorOf(staff), action: 'handoff.reply', subjectCitizenId: h.citizen_id, what: { handoffId: h.id, messageId: message.id }, why: '工作人员回复市民' });
      return { h, message, claimed };
    });
    if (claimed) this.ctx.events.emit('handoff.status', { handoffId: h.id, citizenId: h.citizen_id, sessionId: h.session_id, status: 'claimed', staffName: staff.name });
    this.ctx.events.emit('handoff.message', { handoffId: h.id, citizenId: h.citizen_id, sessionId: h.session_id, message });
    return message;
  }

  async close(p: Principal, handoffId: string, note?: string): Promise<HandoffSummary> {
    const staff = this.ctx.requireStaff(p);
    const text = note === undefined ? undefined : parseInput(StaffNote, note);
    const { summary, h, message, closed } = await withTransaction(this.pool, async (tx) => {
      const h = await lockHandoff(tx, handoffId);
      let message: HandoffMessage | null = null;
      const closed = h.status !== 'closed';
      if (closed) {
        if (h.status === 'claimed' && h.claimed_by !== staff.staffId) {
          throw new AppError('handoff_claimed', 409, `该工单已由${h.claimed_by_name ?? '其他工作人员'}认领，只能由认领人关闭。`);
        }
        if (text) message = await insertMessage(tx, h.id, 'system', staff.staffId, text);
        await setHandoffStatus(tx, h.id, 'closed', staff.staffId);
        await audit(tx, { actor: actorOf(staff), action: 'handoff.close', subjectCitizenId: h.citizen_id, what: { handoffId: h.id }, why: text ?? '人工服务结束' });
      }
      const after = (await findHandoff(tx, h.id))!;
      return { summary: toSummary(after, this.ctx.serviceName(after.service_id)), h, message, closed };
    });
    if (message) this.ctx.events.emit('handoff.message', { handoffId: h.id, citizenId: h.citizen_id, sessionId: h.session_id, message });
    if (closed) this.ctx.events.emit('handoff.status', { handoffId: h.id, citizenId: h.citizen_id, sessionId: h.session_id, status: 'closed', staffName: staff.name });
    return summary;
  }
}

export async function lockHandoff(tx: pg.PoolClient, handoffId: string): Promise<HandoffRow> {
  const id = parseInput(Id, handoffId);
  await tx.query('SELECT 1 FROM handoffs WHERE id = $1 FOR UPDATE', [id]);
  const h = await findHandoff(tx, id);
  if (!h) throw notFound('转人工工单');
  return h;
}

function afterId(id: string | undefined): number | null {
  if (id === undefined) return null;
  const n = Number(id);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}
