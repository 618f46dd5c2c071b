import type pg from 'pg';
import type { z } from 'zod';
import { AppError, notFound } from '../../core/errors.js';
import type { Bundle, Service } from '../../knowledge/catalogue.js';
import { holds, namesIn } from '../../knowledge/conditions.js';
import {
  BundleInput, BundleStatusInput, SubmitBundleInput,
  type BundleApplicationView, type BundleMember, type BundlePrefill, type Eligibility, type PrefilledField, type SubmitBundleResult,
} from '../contract.js';
import { actorOf, type Principal } from '../identity/principal.js';
import { parseInput } from '../validation.js';
import { fingerprint, type ApplicationService } from './application-service.js';
import { listForCitizen, toApplication } from './applications.js';
import { audit } from './audit.js';
import type { CitizenRow } from './citizens.js';
import { checkEligibility, checkRules } from './eligibility.js';
import { scopeOf } from './facts.js';
import { reviewHandoffOf } from './handoffs.js';
import { applicationValues, buildPrefill, cleanValues, validateValues, type ProfileSources, type Values } from './prefill.js';
import { findRepeat } from './repeats.js';
import type { ServiceContext } from './service-context.js';

interface BundleRow {
  id: string;
  citizen_id: string;
  bundle_id: string;
  bundle_name: string;
  idempotency_key: string;
  request_hash: string;
  fields: Values;
  outcome: { skipped: Part[]; failed: Part[] };
  created_at: Date;
}
interface Part { serviceId: string; serviceName: string; reason: string }

/**
 * 高效办成一件事: a life event as one transaction across departments, entirely from the
 * catalogue's bundle data. Pre-fill says which parts apply to this citizen and why (member
 * conditions, each service's eligibility and repeat policy), and asks the union of their
 * missing fields once. Submission files one application per part under one idempotency key
 * (each part's key derived from it), so a replayed confirmation submits nothing twice and a
 * submission cut short is completed by the replay; a part that needs review goes to staff with
 * the whole bundle as context while the others proceed; a part refused does not lose the others.
 */
export class BundleService {
  constructor(private readonly ctx: ServiceContext, private readonly applications: ApplicationService) {}

  bundle(id: string): Bundle {
    const b = this.ctx.catalogue.bundles.find((x) => x.id === id);
    if (!b) throw notFound('“一件事”');
    return b;
  }

  async prefill(p: Principal, input: z.input<typeof BundleInput>): Promise<BundlePrefill> {
    const { bundleId, values } = parseInput(BundleInput, input);
    const bundle = this.bundle(bundleId);
    const c = await this.ctx.citizenOf(p);
    const sources = await this.ctx.sourcesOf(c);
    const out = await this.work(c, bundle, cleanValues(values), sources);
    await audit(this.ctx.pool, {
      actor: actorOf(p), action: 'bundle.prefill', subjectCitizenId: c.id,
      what: { bundleId, members: out.members.map((m) => ({ serviceId: m.serviceId, applies: m.applies })) },
      why: '预填“一件事”联办表单（共享数据、电子证照免于提交）',
    });
    return out;
  }

  /** The bundle's form for this citizen and these values (no audit: callers audit). */
  private async work(c: CitizenRow, bundle: Bundle, given: Values, sources: ProfileSources): Promise<BundlePrefill> {
    const today = this.ctx.now();
    const catalogue = this.ctx.catalogue;
    const services = bundle.members.map((m) => ({ member: m, service: catalogue.get(m.service)! }));
    const known = new Set(services.flatMap(({ service }) => (service.fields ?? []).map((f) => f.key)));
    for (const key of Object.keys(given)) {
      if (!known.has(key)) throw new AppError('invalid_field', 400, `「${key}」不是「${bundle.name}」需要填写的内容。`, { field: key });
    }
    const existing = (await listForCitizen(this.ctx.pool, c.id)).map((r) => ({
      id: r.id, serviceId: r.service_id, status: r.status, fields: r.fields, createdAt: r.created_at,
    }));
    // Values known so far across the parts (what was said, then shared data), for member conditions.
    const merged: Values = {};
    for (const { service } of services) Object.assign(merged, applicationValues(service, onlyFor(service, given), sources), onlyFor(service, given));
    const members: (BundleMember & { pending: boolean })[] = [];
    for (const { member, service } of services) {
      const mine = validateValues(service, onlyFor(service, given), sources, false);
      const eligibility = checkEligibility(service, sources.facts, catalogue, today);
      const undecided = member.when ? namesIn(member.when).fields.some((k) => merged[k] === undefined) : false;
      const fits = member.when ? holds(member.when, scopeOf(sources.facts, merged, today)) : true;
      const repeat = findRepeat(service, applicationValues(service, mine, sources), existing, today);
      const pre = buildPrefill(service, mine, sources, eligibility);
      let reason: string | null = null;
      if (!undecided && !fits) reason = member.skip_reason ?? `「${service.name}」：您的情况不需要办理这一项。`;
      else if (!eligibility.eligible) reason = `「${service.name}」：${eligibility.reason ?? '暂不符合条件。'}`;
      else if (repeat) reason = `「${service.name}」：您已申请过（编号 ${repeat.id}，${catalogue.statusLabel(repeat.status)}），这次不再重复办理。`;
      const applies = !undecided && reason === null;
      members.push({
        serviceId: service.id, serviceName: service.name, department: service.department,
        applies, reason, fields: pre.fields, missing: applies || undecided ? pre.missing : [], pending: undecided && reason === null,
      });
    }
    const taking = members.filter((m) => m.applies || m.pending);
    const fields: PrefilledField[] = [];
    const missing: string[] = [];
    for (const m of taking) {
      for (const f of m.fields) if (!fields.some((x) => x.key === f.key)) fields.push(f);
      for (const k of m.missing) if (!missing.includes(k)) missing.push(k);
    }
    let eligibility: Eligibility = checkRules(bundle.requires, sources.facts, catalogue, today);
    if (eligibility.eligible && !taking.length) {
      eligibility = { eligible: false, code: 'ineligible', reason: `「${bundle.name}」的各项您都已办理或暂不需要办理：${members.map((m) => m.reason).filter(Boolean).join('；')}` };
    }
    return {
      serviceId: bundle.id, serviceName: bundle.name, bundleId: bundle.id,
      department: [...new Set(taking.map((m) => m.department))].join('、') || catalogue.get(bundle.service)?.department || '',
      fields, missing, eligibility, repeat: null,
      members: members.map(({ pending: _p, ...m }) => m),
    };
  }

  async submit(p: Principal, input: z.input<typeof SubmitBundleInput>): Promise<SubmitBundleResult> {
    const req = parseInput(SubmitBundleInput, input);
    const { citizenId } = this.ctx.requireCitizen(p);
    const bundle = this.bundle(req.bundleId);
    const given = cleanValues(req.values);
    const requestHash = fingerprint(`bundle:${bundle.id}`, given);
    let row = await this.byKey(citizenId, req.idempotencyKey);
    if (row && row.request_hash !== requestHash) {
      throw new AppError('idempotency_conflict', 409, `该幂等键已用于另一份内容不同的“一件事”申请（编号 ${row.id}）。如需重新申请，请使用新的幂等键。`);
    }
    // The parts as they stand for this citizen: checked before a first filing, and what is filed.
    const c = await this.ctx.citizenOf(p);
    const sources = await this.ctx.sourcesOf(c);
    const pre = await this.work(c, bundle, given, sources);
    let duplicate = row !== undefined;
    if (!row) {
      if (!pre.eligibility.eligible) throw new AppError('not_eligible', 422, pre.eligibility.reason ?? '经核验，您暂不符合办理条件。', { eligibility: pre.eligibility });
      if (pre.missing.length) {
        const labels = pre.missing.map((k) => `「${pre.fields.find((f) => f.key === k)?.label ?? k}」`).join('、');
        throw new AppError('missing_fields', 400, `请先填写${labels}。`, { fields: pre.missing });
      }
      const skipped = pre.members.filter((m) => !m.applies).map((m) => ({ serviceId: m.serviceId, serviceName: m.serviceName, reason: m.reason ?? '' }));
      const inserted = await this.ctx.pool.query<{ id: string }>(
        `INSERT INTO bundle_applications (id, citizen_id, bundle_id, bundle_name, idempotency_key, request_hash, fields, session_id, outcome)
         VALUES ('BA' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(nextval('bundle_number_seq')::text, 6, '0'),
                 $1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (citizen_id, idempotency_key) DO NOTHING RETURNING id`,
        [citizenId, bundle.id, bundle.name, req.idempotencyKey, requestHash, JSON.stringify(given), req.sessionId ?? null, JSON.stringify({ skipped, failed: [] })],
      );
      duplicate = inserted.rowCount === 0;
      row = (await this.byKey(citizenId, req.idempotencyKey))!;
    }
    const before = new Set((await this.partsOf(row.id)).map((a) => a.service_id));
    // File every part not filed yet (all of them the first time; the rest on a replay after an interruption).
    const failed: Part[] = [...row.outcome.failed];
    const skippedIds = new Set(row.outcome.skipped.map((s) => s.serviceId));
    for (const m of pre.members) {
      if (before.has(m.serviceId) || skippedIds.has(m.serviceId) || failed.some((f) => f.serviceId === m.serviceId)) continue;
      if (!m.applies) continue;
      const service = this.ctx.catalogue.get(m.serviceId)!;
      try {
        await this.applications.submit(p, {
          serviceId: m.serviceId, values: onlyFor(service, given), idempotencyKey: `${req.idempotencyKey}:${m.serviceId}`,
          ...(req.sessionId ? { sessionId: req.sessionId } : {}),
        }, { bundleApplicationId: row.id, bundleContext: { id: row.id, bundleId: bundle.id, name: bundle.name, parts: pre.members.map((x) => x.serviceName) } });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        failed.push({ serviceId: m.serviceId, serviceName: m.serviceName, reason: err.message });
      }
    }
    if (failed.length !== row.outcome.failed.length) {
      await this.ctx.pool.query(`UPDATE bundle_applications SET outcome = jsonb_set(outcome, '{failed}', $2::jsonb) WHERE id = $1`, [row.id, JSON.stringify(failed)]);
      row = { ...row, outcome: { ...row.outcome, failed } };
    }
    const view = await this.view(row);
    const filedNow = view.applications.some((a) => !before.has(a.serviceId));
    await audit(this.ctx.pool, {
      actor: actorOf(p), action: duplicate && !filedNow ? 'bundle.submit_duplicate' : 'bundle.submit', subjectCitizenId: citizenId,
      what: { bundleApplicationId: row.id, bundleId: bundle.id, applications: view.applications.map((a) => a.id), failed: failed.map((f) => f.serviceId) },
      why: duplicate && !filedNow ? '重复确认（同一幂等键），返回原“一件事”申请' : '市民确认“一件事”联办申请',
    });
    const handoffs: SubmitBundleResult['handoffs'] = [];
    for (const a of view.applications) {
      const h = await reviewHandoffOf(this.ctx.pool, a.id);
      if (h) handoffs.push({ ...h, applicationId: a.id });
    }
    return { bundle: view, duplicate: duplicate && !filedNow, handoffs };
  }

  /** A bundle application with each part's status: its owner, or any staff member. */
  async get(p: Principal, input: z.input<typeof BundleStatusInput>): Promise<BundleApplicationView> {
    const { bundleApplicationId } = parseInput(BundleStatusInput, input);
    const row = (await this.ctx.pool.query<BundleRow>('SELECT * FROM bundle_applications WHERE id = $1', [bundleApplicationId])).rows[0];
    if (!row || (p.kind === 'citizen' && row.citizen_id !== p.citizenId)) throw notFound('“一件事”申请');
    await audit(this.ctx.pool, {
      actor: actorOf(p), action: 'bundle.read', subjectCitizenId: row.citizen_id, what: { bundleApplicationId },
      why: p.kind === 'citizen' ? '查询本人“一件事”进度' : '工作人员查看“一件事”办件',
    });
    return this.view(row);
  }

  async listMine(p: Principal): Promise<BundleApplicationView[]> {
    const { citizenId } = this.ctx.requireCitizen(p);
    const rows = (await this.ctx.pool.query<BundleRow>('SELECT * FROM bundle_applications WHERE citizen_id = $1 ORDER BY created_at DESC, id DESC', [citizenId])).rows;
    await audit(this.ctx.pool, { actor: actorOf(p), action: 'bundles.list', subjectCitizenId: citizenId, why: '查看本人“一件事”办件' });
    return Promise.all(rows.map((r) => this.view(r)));
  }

  /** Staff: the bundle an application belongs to, as context for its review. */
  async ofApplication(db: Pick<pg.Pool, 'query'>, applicationId: string): Promise<BundleApplicationView | null> {
    const row = (await db.query<BundleRow>(
      'SELECT b.* FROM bundle_applications b JOIN applications a ON a.bundle_application_id = b.id WHERE a.id = $1', [applicationId])).rows[0];
    return row ? this.view(row) : null;
  }

  private async byKey(citizenId: string, key: string): Promise<BundleRow | undefined> {
    return (await this.ctx.pool.query<BundleRow>('SELECT * FROM bundle_applications WHERE citizen_id = $1 AND idempotency_key = $2', [citizenId, key])).rows[0];
  }

  private async partsOf(bundleApplicationId: string) {
    return (await this.ctx.pool.query<{ id: string; service_id: string }>(
      'SELECT id, service_id FROM applications WHERE bundle_application_id = $1 ORDER BY id', [bundleApplicationId])).rows;
  }

  private async view(row: BundleRow): Promise<BundleApplicationView> {
    const apps = (await listForCitizen(this.ctx.pool, row.citizen_id)).filter((a) => a.bundle_application_id === row.id);
    const order = new Map(this.ctx.catalogue.bundles.find((b) => b.id === row.bundle_id)?.members.map((m, i) => [m.service, i]) ?? []);
    apps.sort((a, b) => (order.get(a.service_id) ?? 99) - (order.get(b.service_id) ?? 99));
    return {
      id: row.id, bundleId: row.bundle_id, name: row.bundle_name, createdAt: row.created_at.toISOString(),
      applications: apps.map((a) => toApplication(a, this.ctx.catalogue)),
      skipped: row.outcome.skipped, failed: row.outcome.failed,
    };
  }
}

/** The values that belong to one part's form. */
function onlyFor(service: Service, values: Values): Values {
  const keys = new Set((service.fields ?? []).map((f) => f.key));
  return Object.fromEntries(Object.entries(values).filter(([k]) => keys.has(k)));
}
