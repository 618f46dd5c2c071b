import type pg from 'pg';
import { z } from 'zod';
import { withTransaction } from '../../core/db.js';
import { AppError, notFound } from '../../core/errors.js';
import type { ApplicationStatus, Application } from '../contract.js';
import { actorOf, type Principal } from '../identity/principal.js';
import { parseInput } from '../validation.js';
import { findApplication, listByStatus, setStatus, toApplication } from './applications.js';
import { audit } from './audit.js';
import { insertMessage, reviewHandoffOf } from './handoffs.js';
import { issueLicence } from './licences.js';
import { approvalLicence, rejectedMessage, returnedMessage, statusMessage } from './outcome.js';
import type { ReviewItem } from './schemas.js';
import type { ServiceContext } from './service-context.js';

const Id = z.string().min(1).max(64);
const StaffNote = z.string().trim().min(1).max(1000);
const DECISION_LABEL = { issued: '审核通过', returned: '退回', rejected: '驳回' } as const;

/**
 * Staff review of applications: the queue, and approve / return / reject. A case that came
 * with a review handoff must be claimed by the deciding staff member first; approving a
 * certificate issues it into the citizen's card wallet, as the catalogue's outcome says.
 */
export class ReviewService {
  constructor(private readonly ctx: ServiceContext) {}

  private get pool(): pg.Pool {
    return this.ctx.pool;
  }

  /** Applications waiting for staff (under review by default). Fields are masked. */
  async queue(p: Principal, status: ApplicationStatus = 'under_review'): Promise<ReviewItem[]> {
    const staff = this.ctx.requireStaff(p);
    const rows = await listByStatus(this.pool, [status]);
    await audit(this.pool, { actor: actorOf(staff), action: 'applications.queue', subjectCitizenId: null, what: { status, count: rows.length }, why: '查看待审核办件' });
    return rows.map((r) => ({ application: toApplication(r, this.ctx.catalogue), citizen: { id: r.citizen_id, name: r.citizen_name }, staffNote: r.review_check }));
  }

  approve(p: Principal, applicationId: string, note?: string): Promise<Application> {
    return this.decide(p, applicationId, 'issued', note === undefined ? null : parseInput(StaffNote, note));
  }

  return(p: Principal, applicationId: string, reason: string): Promise<Application> {
    return this.decide(p, applicationId, 'returned', parseInput(StaffNote, reason));
  }

  reject(p: Principal, applicationId: string, reason: string): Promise<Application> {
    return this.decide(p, applicationId, 'rejected', parseInput(StaffNote, reason));
  }

  private async decide(p: Principal, applicationId: string, to: 'issued' | 'returned' | 'rejected', note: string | null): Promise<Application> {
    const staff = this.ctx.requireStaff(p);
    const actor = { kind: 'staff' as const, id: staff.staffId };
    const { row, handoff, message } = await withTransaction(this.pool, async (tx) => {
      const locked = await tx.query('SELECT 1 FROM applications WHERE id = $1 FOR UPDATE', [parseInput(Id, applicationId)]);
      const app = locked.rowCount ? await findApplication(tx, applicationId) : undefined;
      if (!app) throw notFound('办件');
      if (app.status !== 'submitted' && app.status !== 'under_review') {
        throw new AppError('invalid_transition', 409, `该办件当前状态为“${this.ctx.catalogue.statusLabel(app.status)}”，不能再${DECISION_LABEL[to]}。`);
      }
      const handoff = await reviewHandoffOf(tx, app.id);
      if (handoff) {
        const h = await tx.query<{ status: string; claimed_by: string | null }>('SELECT status, claimed_by FROM handoffs WHERE id = $1 FOR UPDATE', [handoff.id]);
        const claim = h.rows[0];
        if (claim?.status !== 'claimed' || claim.claimed_by !== staff.staffId) {
          throw new AppError('claim_required', 409, '请先认领该工单，再审核通过或退回。');
        }
      }
      const service = this.ctx.catalogue.get(app.service_id);
      let licenceId: string | null = null;
      const licence = to === 'issued' ? approvalLicence(service, app.id) : null;
      if (licence) licenceId = (await issueLicence(tx, { citizenId: app.citizen_id, applicationId: app.id, ...licence })).id;
      const message = to === 'issued' ? statusMessage(service, this.ctx.catalogue, 'issued', app.fields) : to === 'returned' ? returnedMessage(note!) : rejectedMessage(note!);
      await setStatus(tx, app.id, app.status, to, message, actor, note, licenceId);
      // The outcome is also a line of the live handoff conversation, for the citizen and the record.
      const line = handoff ? await insertMessage(tx, handoff.id, 'system', staff.staffId, `办理结果：${this.ctx.catalogue.statusLabel(to)}。${message}`) : null;
      await audit(tx, {
        actor, action: `application.${to === 'issued' ? 'approve' : to === 'returned' ? 'return' : 'reject'}`,
        subjectCitizenId: app.citizen_id, what: { applicationId: app.id, from: app.status, to, licenceId },
        why: note ?? '工作人员审核通过',
      });
      return { row: (await findApplication(tx, app.id))!, handoff, message: line };
    });
    const a = toApplication(row, this.ctx.catalogue);
    this.ctx.events.emit('application.status', { applicationId: a.id, citizenId: row.citizen_id, status: a.status, statusLabel: a.statusLabel, statusMessage: a.statusMessage });
    if (handoff && message) {
      const sessionId = (await this.pool.query<{ session_id: string | null }>('SELECT session_id FROM handoffs WHERE id = $1', [handoff.id])).rows[0]?.session_id ?? null;
      this.ctx.events.emit('handoff.message', { handoffId: handoff.id, citizenId: row.citizen_id, sessionId, message });
    }
    return a;
  }
}
