import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { z } from 'zod';
import { withTransaction } from '../../core/db.js';
import { AppError, notFound } from '../../core/errors.js';
import type { Service } from '../../knowledge/catalogue.js';
import {
  ApplicationStatusInput, PrefillInput, SubmitInput, WithdrawInput,
  type Application, type Prefill, type SubmitResult,
} from '../contract.js';
import { actorOf, type Principal } from '../identity/principal.js';
import { parseInput } from '../validation.js';
import {
  findApplication, findByIdempotencyKey, insertDraft, listForCitizen, recordEvent, setStatus, toApplication,
  type ApplicationRow,
} from './applications.js';
import { audit } from './audit.js';
import type { CitizenRow } from './citizens.js';
import { checkEligibility } from './eligibility.js';
import { insertReviewHandoff, reviewHandoffOf } from './handoffs.js';
import { issueLicence } from './licences.js';
import { decideOutcome, DRAFT_MESSAGE, WITHDRAWN_MESSAGE } from './outcome.js';
import { applicationValues, buildPrefill, cleanValues, displayFields, validateValues, type Values } from './prefill.js';
import { findRepeat } from './repeats.js';
import type { ServiceContext } from './service-context.js';

/**
 * Applications: pre-fill, submit (idempotent, with the catalogue's eligibility, repeat policy
 * and outcome), status, the citizen's list, and withdrawal while unprocessed. Every read of
 * personal data and every write is audited.
 */
export class ApplicationService {
  constructor(private readonly ctx: ServiceContext) {}

  private get pool(): pg.Pool {
    return this.ctx.pool;
  }

  service(serviceId: string): Service {
    const s = this.ctx.catalogue.get(serviceId);
    if (!s) throw notFound('办事事项');
    return s;
  }

  async prefill(p: Principal, input: z.input<typeof PrefillInput>): Promise<Prefill> {
    const { serviceId, values } = parseInput(PrefillInput, input);
    const service = this.service(serviceId);
    const c = await this.ctx.citizenOf(p);
    const sources = await this.ctx.sourcesOf(c);
    const given = validateValues(service, cleanValues(values), sources, false);
    const today = this.ctx.now();
    const eligibility = checkEligibility(service, sources.facts, this.ctx.catalogue, today);
    const repeatRow = await this.repeatOf(c, service, applicationValues(service, given, sources), today);
    await audit(this.pool, {
      actor: actorOf(p), action: 'application.prefill', subjectCitizenId: c.id,
      what: { serviceId, fields: (service.fields ?? []).filter((f) => f.source === 'profile').map((f) => f.key) },
      why: '预填办事表单（共享数据、电子证照免于提交）',
    });
    return {
      ...buildPrefill(service, given, sources, eligibility),
      department: service.department,
      repeat: repeatRow ? toApplication(repeatRow, this.ctx.catalogue) : null,
    };
  }

  private async repeatOf(c: CitizenRow, service: Service, values: Values, today: Date): Promise<ApplicationRow | null> {
    if (!service.repeat || service.repeat.policy === 'any') return null;
    const rows = await listForCitizen(this.pool, c.id);
    const hit = findRepeat(service, values, rows.map((r) => ({
      id: r.id, serviceId: r.service_id, status: r.status, fields: r.fields, createdAt: r.created_at,
    })), today);
    return hit ? rows.find((r) => r.id === hit.id) ?? null : null;
  }

  /**
   * `bundleApplicationId` files the application as a part of a 一件事 bundle; `bundleContext`
   * (the bundle and its parts) goes with a review handoff so staff see the whole life event.
   */
  async submit(
    p: Principal,
    input: z.input<typeof SubmitInput>,
    opts: { bundleApplicationId?: string; bundleContext?: Record<string, unknown>; tx?: pg.PoolClient } = {},
  ): Promise<SubmitResult> {
    const req = parseInput(SubmitInput, input);
    const citizenId = this.ctx.requireCitizen(p).citizenId;
    const service = this.service(req.serviceId);
    const sessionId = await this.ctx.checkSession(citizenId, req.sessionId);
    const requestHash = fingerprint(req.serviceId, cleanValues(req.values));
    const earlier = await findByIdempotencyKey(opts.tx ?? this.pool, citizenId, req.idempotencyKey);
    if (earlier) return this.replayOf(p, earlier, requestHash);
    if (!service.transactable) {
      throw new AppError('not_transactable', 422, `「${service.name}」暂不支持在线直接办理，请查看办事指南或转人工。`);
    }
    const c = await this.ctx.citizenOf(p);
    const sources = await this.ctx.sourcesOf(c);
    const given = validateValues(service, cleanValues(req.values), sources, true);
    const today = this.ctx.now();
    const eligibility = checkEligibility(service, sources.facts, this.ctx.catalogue, today);
    if (!eligibility.eligible) {
      throw new AppError('not_eligible', 422, eligibility.reason ?? '经核验，您暂不符合该事项的申请条件。', { eligibility });
    }
    const fields = applicationValues(service, given, sources);
    const repeat = await this.repeatOf(c, service, fields, today);
    if (repeat) {
      // The same submission sent twice at once (two replicas, a double click): the other one
      // may have committed since the lookup above, and is then this one's replay, not a repeat.
      const concurrent = await findByIdempotencyKey(opts.tx ?? this.pool, citizenId, req.idempotencyKey);
      if (concurrent) return this.replayOf(p, concurrent, requestHash);
      throw new AppError('repeat_application', 409,
        `您已申请过「${service.name}」（编号 ${repeat.id}，${this.ctx.catalogue.statusLabel(repeat.status)}），无需重复申请。`,
        { applicationId: repeat.id, status: repeat.status });
    }
    const actor = actorOf(p) as { kind: 'citizen'; id: string };
    const run = async (tx: pg.PoolClient) => {
      const id = await insertDraft(tx, {
        citizenId: c.id, serviceId: service.id, serviceName: service.name, fields, idempotencyKey: req.idempotencyKey,
        sessionId, statusMessage: DRAFT_MESSAGE, department: service.department, requestHash,
        bundleApplicationId: opts.bundleApplicationId ?? null,
      });
      if (!id) return { duplicate: true as const };
      const decision = decideOutcome(service, this.ctx.catalogue, sources.facts, fields, id, today);
      await recordEvent(tx, id, null, 'draft', actor);
      const system = { kind: 'system' as const, id: 'auto-review' };
      let licence: { id: string; name: string } | null = null;
      if (decision.status === 'issued') {
        await setStatus(tx, id, 'draft', 'submitted', this.ctx.catalogue.defaults.messages.submitted, actor);
        if (decision.licence) {
          licence = await issueLicence(tx, { citizenId: c.id, applicationId: id, ...decision.licence });
        }
        await setStatus(tx, id, 'submitted', 'issued', decision.message, system, null, licence?.id ?? null);
      } else if (decision.status === 'under_review') {
        await setStatus(tx, id, 'draft', 'submitted', this.ctx.catalogue.defaults.messages.submitted, actor);
        await setStatus(tx, id, 'submitted', 'under_review', decision.message, system, null, null, decision.check);
        await insertReviewHandoff(tx, {
          citizenId: c.id, serviceId: service.id, applicationId: id, sessionId, staffNote: decision.check,
          understanding: { service: service.id, values: displayFields(service, fields), ...(opts.bundleContext ? { bundle: opts.bundleContext } : {}) },
          form: reviewForm(service, fields),
        });
      } else {
        await setStatus(tx, id, 'draft', 'submitted', decision.message, actor);
      }
      await audit(tx, {
        actor, action: 'application.submit', subjectCitizenId: c.id,
        what: { applicationId: id, serviceId: service.id, fields: Object.keys(fields), licenceId: licence?.id ?? null },
        why: '市民提交办事申请',
      });
      return { duplicate: false as const, id, licence };
    };
    const outcome = opts.tx ? await run(opts.tx) : await withTransaction(this.pool, run);
    if (outcome.duplicate) {
      // A concurrent submit with the same key won the race: answer with its application.
      const row = await findByIdempotencyKey(opts.tx ?? this.pool, citizenId, req.idempotencyKey);
      if (!row) throw new AppError('conflict', 409, '申请正在处理中，请稍后查询办件进度。');
      return this.replayOf(p, row, requestHash);
    }
    const row = (await findApplication(opts.tx ?? this.pool, outcome.id))!;
    return this.result(row, false, outcome.licence, opts.tx);
  }

  private async result(row: ApplicationRow, duplicate: boolean, licence: { id: string; name: string } | null, db?: pg.PoolClient): Promise<SubmitResult> {
    const handoff = await reviewHandoffOf(db ?? this.pool, row.id);
    return { application: toApplication(row, this.ctx.catalogue), duplicate, licence, handoff };
  }

  /** The same idempotency key again: the earlier application, provided the request is the same one. */
  private async replayOf(p: Principal, row: ApplicationRow, requestHash: string): Promise<SubmitResult> {
    if (row.request_hash && row.request_hash !== requestHash) {
      throw new AppError('idempotency_conflict', 409,
        `该幂等键已用于另一份内容不同的申请（编号 ${row.id}）。如需提交新的申请，请使用新的幂等键。`);
    }
    await audit(this.pool, {
      actor: actorOf(p), action: 'application.submit_duplicate', subjectCitizenId: row.citizen_id,
      what: { applicationId: row.id }, why: '重复提交（同一幂等键），返回原申请',
    });
    return this.result(row, true, row.licence_id ? { id: row.licence_id, name: row.licence_name ?? '' } : null);
  }

  /** One application: its owner, or any staff member. Others get 404 (not 403: no existence leak). */
  async get(p: Principal, input: z.input<typeof ApplicationStatusInput>): Promise<Application> {
    const { applicationId } = parseInput(ApplicationStatusInput, input);
    const row = await findApplication(this.pool, applicationId);
    if (!row || (p.kind === 'citizen' && row.citizen_id !== p.citizenId)) throw notFound('办件');
    await audit(this.pool, {
      actor: actorOf(p), action: 'application.read', subjectCitizenId: row.citizen_id, what: { applicationId },
      why: p.kind === 'citizen' ? '查询本人办件进度' : '工作人员查看办件',
    });
    return toApplication(row, this.ctx.catalogue);
  }

  async listMine(p: Principal): Promise<Application[]> {
    const { citizenId } = this.ctx.requireCitizen(p);
    await audit(this.pool, { actor: actorOf(p), action: 'applications.list', subjectCitizenId: citizenId, why: '查看本人办件列表' });
    return (await listForCitizen(this.pool, citizenId)).map((r) => toApplication(r, this.ctx.catalogue));
  }

  /** The owner withdraws an application the department has not started on; recorded in the audit log. */
  async withdraw(p: Principal, input: z.input<typeof WithdrawInput>): Promise<Application> {
    const { applicationId, reason } = parseInput(WithdrawInput, input);
    const { citizenId } = this.ctx.requireCitizen(p);
    const actor = { kind: 'citizen' as const, id: citizenId };
    const row = await withTransaction(this.pool, async (tx) => {
      await tx.query('SELECT 1 FROM applications WHERE id = $1 FOR UPDATE', [applicationId]);
      const app = await findApplication(tx, applicationId);
      if (!app || app.citizen_id !== citizenId) throw notFound('办件');
      if (!this.ctx.catalogue.defaults.withdrawable.includes(app.status)) {
        throw new AppError('not_withdrawable', 409,
          `该申请当前状态为“${this.ctx.catalogue.statusLabel(app.status)}”，已进入办理或已办结，不能撤回。如需帮助可转人工。`,
          { status: app.status });
      }
      await setStatus(tx, app.id, app.status, 'withdrawn', WITHDRAWN_MESSAGE, actor, reason ?? null);
      await audit(tx, {
        actor, action: 'application.withdraw', subjectCitizenId: citizenId,
        what: { applicationId: app.id, from: app.status }, why: reason ? `市民撤回申请：${reason}` : '市民撤回申请',
      });
      return (await findApplication(tx, app.id))!;
    });
    const a = toApplication(row, this.ctx.catalogue);
    this.ctx.events.emit('application.status', { applicationId: a.id, citizenId, status: a.status, statusLabel: a.statusLabel, statusMessage: a.statusMessage });
    return a;
  }
}

/** The request an idempotency key stands for: the service and the values, order-independent. */
export function fingerprint(serviceId: string, values: Values): string {
  const sorted = Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify([serviceId, sorted])).digest('hex');
}

/** The form of a review handoff as staff see it: each field with its label, identifiers masked. */
function reviewForm(service: Service, fields: Values): Record<string, unknown> {
  const shown = displayFields(service, fields);
  return {
    serviceId: service.id,
    serviceName: service.name,
    fields: (service.fields ?? []).filter((f) => shown[f.key] !== undefined).map((f) => ({ key: f.key, label: f.label, source: f.source, value: shown[f.key] })),
    missing: [],
  };
}
