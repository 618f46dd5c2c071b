import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { TOOL } from '../contract.js';
import type { CitizenPrincipal, Principal, StaffPrincipal } from '../identity/principal.js';
import { createTestContext, type Backend, type TestContext } from '../../test/context.js';
import type { GovService } from './gov-service.js';

/**
 * The sandbox service end to end on the database, run twice: on in-memory PGlite and on a
 * PGlite served over TCP (pglite-socket) through a real node-postgres connection pool.
 */
const citizen = (citizenId: string, name: string): CitizenPrincipal => ({ kind: 'citizen', citizenId, name, via: 'sandbox' });
const SUN = citizen('c-sun-ming', '孙明');
const ZHAO = citizen('c-zhao-lei', '赵磊');
const LIU = citizen('c-liu-fang', '刘芳');
const WANG = citizen('c-wang-qiang', '王强');
const CHEN = citizen('c-chen-guiying', '陈桂英');
const LIN = citizen('c-lin-xiao', '林晓');
const STAFF: StaffPrincipal = { kind: 'staff', staffId: 'st-staff01', name: '窗口工作人员（staff01）' };

async function appError(p: Promise<unknown> | (() => unknown)): Promise<AppError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

const CERT = 'criminal_record_certificate';

describe.each<Backend>(['pglite', 'tcp'])('GovService on %s', (backend) => {
  let ctx: TestContext;
  let gov: GovService;
  beforeAll(async () => {
    ctx = await createTestContext(backend);
    gov = ctx.gov;
  });
  afterAll(async () => ctx?.close());

  const count = async (sql: string, params: unknown[] = []) => Number((await ctx.db.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

  describe('pre-fill (两个免于提交)', () => {
    it('fills 孙明\'s certificate form from shared data and leaves purpose open', async () => {
      const p = await gov.applications.prefill(SUN, { serviceId: CERT });
      const f = Object.fromEntries(p.fields.map((x) => [x.key, x]));
      expect(f.name?.value).toBe('孙明');
      expect(f.id_number?.value).toBe('310101********2038'); // identifiers leave the service API masked
      expect(f.id_number?.display).toBe('310101********2038');
      expect(f.household_address?.value).toBe('上海市黄浦区南京东路100弄1号');
      expect(f.purpose).toMatchObject({ value: null, source: 'ask', applies: true });
      expect(f.destination?.applies).toBe(false);
      expect(f.delivery?.value).toBe('电子证明发送至随申办卡包');
      expect(p.missing).toEqual(['purpose']);
      expect(p.eligibility).toEqual({ eligible: true, code: 'ok' });
    });

    it('recomputes missing from the values given and the `when` conditions', async () => {
      const abroad = await gov.applications.prefill(SUN, { serviceId: CERT, values: { purpose: '出国(境)' } });
      expect(abroad.missing).toEqual(['destination']);
      expect(abroad.fields.find((x) => x.key === 'destination')?.applies).toBe(true);
      const work = await gov.applications.prefill(SUN, { serviceId: CERT, values: { purpose: '就业' } });
      expect(work.missing).toEqual([]);
    });

    it('pre-fills mailing address (editable), phone and the ID-card photo for a social security card', async () => {
      const p = await gov.applications.prefill(LIN, { serviceId: 'social_security_card', values: { delivery_method: '邮寄到家' } });
      const f = Object.fromEntries(p.fields.map((x) => [x.key, x]));
      expect(f.mailing_address).toMatchObject({ value: '上海市徐汇区漕溪北路200号', editable: true, applies: true });
      expect(f.phone).toMatchObject({ value: '138****0006', display: '138****0006', editable: false });
      expect(f.photo?.value).toBe('居民身份证电子证照照片'); // the e-licence reference stays inside the service API
      expect(f.photo?.display).toBe('居民身份证电子证照照片');
      const own = await gov.applications.prefill(LIN, { serviceId: 'social_security_card', values: { delivery_method: '邮寄到家', mailing_address: '上海市徐汇区宜山路700号' } });
      expect(own.fields.find((x) => x.key === 'mailing_address')?.value).toBe('上海市徐汇区宜山路700号');
      const pickup = await gov.applications.prefill(LIN, { serviceId: 'social_security_card', values: { delivery_method: '网点自取' } });
      expect(pickup.fields.find((x) => x.key === 'mailing_address')?.applies).toBe(false);
      expect(pickup.missing).toEqual([]);
    });

    it('pre-fills the child\'s birth date, bank account (masked) and fund account', async () => {
      const m = await gov.applications.prefill(LIU, { serviceId: 'maternity_allowance' });
      const f = Object.fromEntries(m.fields.map((x) => [x.key, x]));
      expect(f.birth_date_of_child?.value).toBe('2026-10-02');
      expect(f.bank_account).toMatchObject({ value: '**** **** **** 0002', display: '**** **** **** 0002', editable: true });
      expect(m.missing).toEqual([]);
      const h = await gov.applications.prefill(WANG, { serviceId: 'housing_fund_rent_withdrawal' });
      expect(h.fields.find((x) => x.key === 'fund_account')?.value).toBe('SHGJJ-0003');
      expect(h.missing).toEqual(['rent_type']);
    });
  });

  describe('eligibility', () => {
    it('refuses a residence permit to a Shanghai hukou holder, with a reason', async () => {
      const p = await gov.applications.prefill(SUN, { serviceId: 'residence_permit' });
      expect(p.eligibility.eligible).toBe(false);
      expect(p.eligibility.code).toBe('not_applicable');
      expect(p.eligibility.reason).toMatch(/上海市户籍/);
      const err = await appError(gov.applications.submit(SUN, { serviceId: 'residence_permit', values: { basis: '合法稳定就业' }, idempotencyKey: 'sun-rp-0001' }));
      expect(err.code).toBe('not_eligible');
      expect(err.message).toMatch(/户籍/);
      expect(await count(`SELECT count(*) n FROM applications WHERE citizen_id = 'c-sun-ming' AND service_id = 'residence_permit'`)).toBe(0);
      expect((await gov.applications.prefill(WANG, { serviceId: 'residence_permit' })).eligibility.eligible).toBe(true);
    });

    it('checks senior allowance (hukou, age >= 65), maternity (insured, birth) and housing fund (account)', async () => {
      expect((await gov.applications.prefill(CHEN, { serviceId: 'senior_allowance' })).eligibility.eligible).toBe(true);
      const young = (await gov.applications.prefill(SUN, { serviceId: 'senior_allowance' })).eligibility;
      expect(young).toMatchObject({ eligible: false, code: 'ineligible' });
      expect(young.reason).toMatch(/65/);
      expect((await gov.applications.prefill(WANG, { serviceId: 'senior_allowance' })).eligibility.reason).toMatch(/户籍/);
      expect((await gov.applications.prefill(LIU, { serviceId: 'maternity_allowance' })).eligibility.eligible).toBe(true);
      expect((await gov.applications.prefill(SUN, { serviceId: 'maternity_allowance' })).eligibility.reason).toMatch(/生育保险/);
      expect((await gov.applications.prefill(WANG, { serviceId: 'housing_fund_rent_withdrawal' })).eligibility.eligible).toBe(true);
      expect((await gov.applications.prefill(SUN, { serviceId: 'housing_fund_rent_withdrawal' })).eligibility.reason).toMatch(/公积金账户/);
      expect((await gov.applications.prefill(ZHAO, { serviceId: CERT })).eligibility.eligible).toBe(true);
    });

    it('computes age from the birth date and today', async () => {
      const { GovService } = await import('./gov-service.js');
      const before = new GovService(ctx.db.pool, { now: () => new Date(2020, 7, 17) }); // 陈桂英 is 64 the day before her 65th birthday
      expect((await before.applications.prefill(CHEN, { serviceId: 'senior_allowance' })).eligibility.eligible).toBe(false);
      const on = new GovService(ctx.db.pool, { now: () => new Date(2020, 7, 18) });
      expect((await on.applications.prefill(CHEN, { serviceId: 'senior_allowance' })).eligibility.eligible).toBe(true);
    });
  });

  describe('validation', () => {
    it('rejects a wrong ID-number checksum, naming the field', async () => {
      const err = await appError(gov.applications.prefill(SUN, { serviceId: CERT, values: { id_number: '310101198803122039' } }));
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/「公民身份号码」/);
    });
    it('rejects an option outside the list, listing the options', async () => {
      const err = await appError(gov.applications.submit(SUN, { serviceId: CERT, values: { purpose: '旅游' }, idempotencyKey: 'sun-bad-0001' }));
      expect(err.message).toBe('「用途」只能选择：出国(境)、就业、入学、收养、其他。');
    });
    it('requires applicable ask fields and only those', async () => {
      const missing = await appError(gov.applications.submit(SUN, { serviceId: CERT, values: { purpose: '出国(境)' }, idempotencyKey: 'sun-bad-0002' }));
      expect(missing.code).toBe('missing_fields');
      expect(missing.message).toMatch(/「前往国家或地区」/);
      const none = await appError(gov.applications.submit(SUN, { serviceId: CERT, values: {}, idempotencyKey: 'sun-bad-0003' }));
      expect(none.message).toMatch(/「用途」/);
      const notApplicable = await appError(gov.applications.submit(SUN, { serviceId: CERT, values: { purpose: '就业', destination: '英国' }, idempotencyKey: 'sun-bad-0004' }));
      expect(notApplicable.message).toMatch(/「前往国家或地区」仅在「用途」为“出国\(境\)”时填写/);
    });
    it('keeps shared-data fields unchangeable and editable ones well-formed', async () => {
      const name = await appError(gov.applications.submit(SUN, { serviceId: CERT, values: { purpose: '就业', name: '李四' }, idempotencyKey: 'sun-bad-0005' }));
      expect(name.message).toMatch(/「姓名」由政务共享数据自动填写，不能在这里修改；.*户籍地公安派出所/);
      const other = await appError(gov.applications.prefill(SUN, { serviceId: CERT, values: { id_number: '310107198501010514' } }));
      expect(other.message).toMatch(/「公民身份号码」由政务共享数据自动填写/);
      const bank = await appError(gov.applications.prefill(LIU, { serviceId: 'maternity_allowance', values: { bank_account: '12ab' } }));
      expect(bank.message).toMatch(/「银行账户」格式不正确/);
      const unknown = await appError(gov.applications.prefill(SUN, { serviceId: CERT, values: { colour: 'red' } }));
      expect(unknown.message).toMatch(/不是「有无犯罪记录证明」需要填写的内容/);
      expect(await count(`SELECT count(*) n FROM applications WHERE idempotency_key LIKE 'sun-bad-%'`)).toBe(0);
    });
    it('answers unknown services and bad input shapes with Chinese 4xx errors', async () => {
      expect((await appError(gov.applications.prefill(SUN, { serviceId: 'no_such_service' }))).status).toBe(404);
      const shape = await appError(gov.applications.submit(SUN, { serviceId: CERT, values: {}, idempotencyKey: 'short' }));
      expect(shape.status).toBe(400);
      expect(shape.message).toMatch(/请求参数不正确：「idempotencyKey」/);
      const notTransactable = await appError(gov.applications.submit(SUN, { serviceId: 'passport', values: {}, idempotencyKey: 'sun-passport-1' }));
      expect(notTransactable.code).toBe('not_transactable');
    });
  });

  describe('submit', () => {
    it('stores 孙明\'s certificate application, issues it into his card wallet, and is idempotent', async () => {
      ctx.sessions.register('s-1', 'c-sun-ming');
      const input = { serviceId: CERT, values: { purpose: '出国(境)', destination: '英国' }, idempotencyKey: 'sun-cert-0001', sessionId: 's-1' };
      const first = await gov.applications.submit(SUN, input);
      expect(first.duplicate).toBe(false);
      expect(first.application.id).toMatch(/^SA20\d{6}\d{6}$/);
      expect(first.application.status).toBe('issued');
      expect(first.application.fields).toMatchObject({ name: '孙明', id_number: '310101********2038', purpose: '出国(境)', destination: '英国' });
      expect(first.licence?.name).toBe('有无犯罪记录证明');
      const wallet = await gov.citizens.licences(SUN);
      expect(wallet.find((l) => l.id === first.licence?.id)).toMatchObject({ source: 'issued', applicationId: first.application.id });
      const stored = await ctx.db.pool.query(`SELECT fields, status FROM applications WHERE id = $1`, [first.application.id]);
      expect(stored.rows[0].fields.id_number).toBe('310101198803122038'); // stored as given, masked only in views
      const events = await ctx.db.pool.query(`SELECT from_status, to_status FROM application_events WHERE application_id = $1 ORDER BY id`, [first.application.id]);
      expect(events.rows.map((e) => `${e.from_status}->${e.to_status}`)).toEqual(['null->draft', 'draft->submitted', 'submitted->issued']);

      const again = await gov.applications.submit(SUN, input);
      expect(again.duplicate).toBe(true);
      expect(again.application.id).toBe(first.application.id);
      expect(again.licence).toEqual(first.licence);
      expect(await count(`SELECT count(*) n FROM e_licences WHERE application_id = $1`, [first.application.id])).toBe(1);
      expect((await gov.applications.get(SUN, { applicationId: first.application.id })).status).toBe('issued');
    });

    it('makes one application of two concurrent submits with the same key', async () => {
      const input = { serviceId: CERT, values: { purpose: '就业' }, idempotencyKey: 'sun-cert-concurrent' };
      const results = await Promise.all([gov.applications.submit(SUN, input), gov.applications.submit(SUN, input), gov.applications.submit(SUN, input)]);
      expect(new Set(results.map((r) => r.application.id)).size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await count(`SELECT count(*) n FROM applications WHERE idempotency_key = 'sun-cert-concurrent'`)).toBe(1);
      expect(await count(`SELECT count(*) n FROM e_licences WHERE application_id = $1`, [results[0]!.application.id])).toBe(1);
    });

    it('sends 赵磊 (record on file) to manual review, never issues, and never mentions a record', async () => {
      const r = await gov.applications.submit(ZHAO, { serviceId: CERT, values: { purpose: '就业' }, idempotencyKey: 'zhao-cert-0001' });
      expect(r.application.status).toBe('under_review');
      expect(r.licence).toBeNull();
      expect(r.application.statusMessage).toMatch(/人工审核/);
      const texts = [JSON.stringify(r), JSON.stringify(await gov.applications.get(ZHAO, { applicationId: r.application.id })),
        JSON.stringify(await gov.applications.listMine(ZHAO)), JSON.stringify(await gov.citizens.profile(ZHAO)),
        JSON.stringify(await gov.applications.prefill(ZHAO, { serviceId: CERT }))].map((t) => t.replaceAll('有无犯罪记录证明', '').replaceAll(CERT, ''));
      for (const t of texts) {
        expect(t).not.toMatch(/记录|犯罪|record/i);
      }
      expect((await gov.citizens.licences(ZHAO)).some((l) => l.name === '有无犯罪记录证明')).toBe(false);
      const queue = await gov.review.queue(STAFF);
      expect(queue.map((q) => q.application.id)).toContain(r.application.id);
    });

    it('puts other services into `submitted` with a next-steps message', async () => {
      const r = await gov.applications.submit(LIN, { serviceId: 'social_security_card', values: { delivery_method: '邮寄到家' }, idempotencyKey: 'lin-ssc-0001' });
      expect(r.application.status).toBe('submitted');
      expect(r.application.statusMessage).toMatch(/邮寄/);
      expect(r.application.fields.mailing_address).toBe('上海市徐汇区漕溪北路200号');
      expect(r.application.fields.phone).toBe('138****0006');
      // A second card while the first is being made repeats it (the service's repeat policy).
      const repeat = await appError(gov.applications.submit(LIN, { serviceId: 'social_security_card', values: { delivery_method: '网点自取' }, idempotencyKey: 'lin-ssc-0002' }));
      expect(repeat).toMatchObject({ status: 409, code: 'repeat_application' });
      expect(repeat.message).toContain(r.application.id);
      // An editable profile value for a field that does not apply is dropped, not stored.
      const pickup = await gov.applications.submit(SUN, { serviceId: 'social_security_card', values: { delivery_method: '网点自取', mailing_address: '上海市徐汇区宜山路700号' }, idempotencyKey: 'sun-ssc-0002' });
      expect(pickup.application.fields.mailing_address).toBeUndefined();
      expect(pickup.application.statusMessage).toMatch(/网点/);
      const m = await gov.applications.submit(LIU, { serviceId: 'maternity_allowance', values: { bank_account: '6222 0000 0000 9999' }, idempotencyKey: 'liu-mat-0001' });
      expect(m.application.status).toBe('submitted');
      expect(m.application.fields.bank_account).toBe('**** **** **** 9999');
    });

    it('lists and shows only the caller\'s own applications', async () => {
      const zhaoApp = (await gov.applications.listMine(ZHAO))[0]!;
      const err = await appError(gov.applications.get(SUN, { applicationId: zhaoApp.id }));
      expect(err.status).toBe(404);
      expect((await gov.applications.listMine(SUN)).every((a) => a.id !== zhaoApp.id)).toBe(true);
      expect((await gov.applications.get(STAFF, { applicationId: zhaoApp.id })).id).toBe(zhaoApp.id);
      expect((await appError(gov.applications.listMine(STAFF))).status).toBe(403);
    });
  });

  describe('staff review', () => {
    it('approves a case under review: issued, certificate in the wallet, event and notification', async () => {
      const r = await gov.applications.submit(ZHAO, { serviceId: CERT, values: { purpose: '入学' }, idempotencyKey: 'zhao-cert-0002' });
      const seen: string[] = [];
      gov.events.on('application.status', (e) => seen.push(`${e.applicationId}:${e.status}`));
      expect((await appError(gov.review.approve(ZHAO, r.application.id))).status).toBe(403);
      // The case came with a review handoff, created with it: staff must claim it before deciding.
      expect(r.handoff).toMatchObject({ status: 'waiting', reason: 'review' });
      expect((await appError(gov.review.approve(STAFF, r.application.id, '已核查'))).code).toBe('claim_required');
      await gov.handoffs.claim(STAFF, r.handoff!.id);
      const approved = await gov.review.approve(STAFF, r.application.id, '已核查');
      expect(approved.status).toBe('issued');
      expect(seen).toContain(`${r.application.id}:issued`);
      expect((await gov.citizens.licences(ZHAO)).some((l) => l.applicationId === r.application.id)).toBe(true);
      const again = await appError(gov.review.approve(STAFF, r.application.id));
      expect(again.status).toBe(409);
    });
    it('returns an application with the staff reason', async () => {
      const r = await gov.applications.submit(WANG, { serviceId: 'housing_fund_rent_withdrawal', values: { rent_type: '已备案租赁合同' }, idempotencyKey: 'wang-hf-0001' });
      const returned = await gov.review.return(STAFF, r.application.id, '租赁合同备案信息与住址不一致');
      expect(returned.status).toBe('returned');
      expect(returned.statusMessage).toMatch(/租赁合同备案信息与住址不一致/);
      expect((await gov.applications.get(WANG, { applicationId: r.application.id })).status).toBe('returned');
    });
  });

  describe('handoffs', () => {
    let handoffId: string;
    it('creates a handoff with transcript, understanding, form and reason', async () => {
      ctx.sessions.register('sess-sun-1', 'c-sun-ming');
      const h = await gov.handoffs.create(SUN, {
        reason: 'citizen_request', serviceId: CERT, sessionId: 'sess-sun-1',
        transcript: [{ role: 'citizen', text: '我要开无犯罪证明，我手机13800000001，身份证310101198803122038' }, { role: 'agent', text: '好的' }],
        understanding: { act: 'apply', service: CERT },
        form: { id_number: '310101198803122038', phone: '13800000001', purpose: '出国(境)' },
      });
      expect(h).toMatchObject({ status: 'waiting', reason: 'citizen_request' });
      expect(h.id).toMatch(/^HO20\d{12}$/);
      handoffId = h.id;
      expect((await appError(gov.handoffs.create(STAFF, { reason: 'other', transcript: [] }))).status).toBe(403);
      // Another citizen's session is refused as if it did not exist (staff replies would reach it).
      expect((await appError(gov.handoffs.create(ZHAO, { reason: 'citizen_request', sessionId: 'sess-sun-1', transcript: [] }))).status).toBe(404);
      expect((await appError(gov.applications.submit(ZHAO, { serviceId: CERT, values: { purpose: '就业' }, idempotencyKey: 'zhao-other-session', sessionId: 'sess-sun-1' }))).status).toBe(404);
      // Lines a client supplies are kept as the client's account, never as the agent's words.
      expect((await gov.handoffs.detail(STAFF, h.id)).transcript.map((l) => l.role)).toEqual(['client', 'client']);
    });

    it('shows staff the queue with waiting time, masked by default', async () => {
      const queue = await gov.handoffs.queue(STAFF);
      const item = queue.find((q) => q.id === handoffId)!;
      expect(item).toMatchObject({ status: 'waiting', serviceName: '有无犯罪记录证明', citizen: { id: 'c-sun-ming', name: '孙明' } });
      expect(item.waitingSeconds).toBeGreaterThanOrEqual(0);
      const view = await gov.handoffs.detail(STAFF, handoffId);
      const text = JSON.stringify(view);
      expect(text).not.toContain('310101198803122038');
      expect(text).not.toContain('13800000001');
      expect(view.transcript[0]?.text).toContain('310101********2038');
      expect(view.form.phone).toBe('138****0001');
      expect(view.unmasked).toBe(false);
      expect((await appError(gov.handoffs.queue(SUN))).status).toBe(403);
    });

    it('opens the full form only with a reason, which is audited', async () => {
      expect((await appError(gov.handoffs.detail(STAFF, handoffId, { full: true }))).code).toBe('reason_required');
      const full = await gov.handoffs.detail(STAFF, handoffId, { full: true, why: '核对申请人身份信息' });
      expect(full.form.id_number).toBe('310101198803122038');
      expect(full.citizenContact?.phone).toBe('13800000001');
      const audit = await ctx.db.pool.query(`SELECT actor_kind, actor_id, why, subject_citizen_id FROM audit_log WHERE action = 'handoff.view_full' ORDER BY id DESC LIMIT 1`);
      expect(audit.rows[0]).toMatchObject({ actor_kind: 'staff', actor_id: 'st-staff01', why: '核对申请人身份信息', subject_citizen_id: 'c-sun-ming' });
    });

    it('claims, replies (stored and emitted live), takes citizen messages, and closes', async () => {
      const claimed = await gov.handoffs.claim(STAFF, handoffId);
      expect(claimed.status).toBe('claimed');
      expect(claimed.claimedBy?.staffId).toBe('st-staff01');
      const other: StaffPrincipal = { kind: 'staff', staffId: 'st-other', name: '其他' };
      expect((await appError(gov.handoffs.claim(other, handoffId))).status).toBe(409);
      const live: string[] = [];
      gov.events.on('handoff.message', (e) => live.push(`${e.sessionId}:${e.message.authorKind}:${e.message.text}`));
      const reply = await gov.handoffs.reply(STAFF, handoffId, '您好，我是窗口工作人员，请问还有什么需要帮助？');
      expect(reply.authorKind).toBe('staff');
      expect(live).toContain('sess-sun-1:staff:您好，我是窗口工作人员，请问还有什么需要帮助？');
      await gov.handoffs.postCitizenMessage(SUN, handoffId, '谢谢，没有了');
      const mine = await gov.handoffs.getMine(SUN, handoffId);
      expect(mine.messages.map((m) => m.authorKind)).toEqual(['staff', 'citizen']);
      const after = await gov.handoffs.getMine(SUN, handoffId, mine.messages[0]!.id);
      expect(after.messages.map((m) => m.text)).toEqual(['谢谢，没有了']);
      expect((await appError(gov.handoffs.getMine(ZHAO, handoffId))).status).toBe(404);
      const closed = await gov.handoffs.close(STAFF, handoffId, '问题已解决');
      expect(closed.status).toBe('closed');
      expect((await appError(gov.handoffs.reply(STAFF, handoffId, '还在吗'))).status).toBe(409);
      expect((await appError(gov.handoffs.postCitizenMessage(SUN, handoffId, '还在吗'))).status).toBe(409);
    });
  });

  describe('audit log', () => {
    it('records reads of personal data and writes: who, what, whose, when, why', async () => {
      await gov.citizens.profile(LIN);
      await gov.citizens.licences(LIN);
      const rows = (await ctx.db.pool.query(`SELECT actor_kind, actor_id, action, subject_citizen_id, why, at FROM audit_log WHERE subject_citizen_id = 'c-lin-xiao' ORDER BY id`)).rows;
      const actions = rows.map((r) => r.action);
      expect(actions).toEqual(expect.arrayContaining(['application.prefill', 'application.submit', 'profile.read', 'licences.read']));
      for (const r of rows) {
        expect(r.actor_kind).toBe('citizen');
        expect(r.actor_id).toBe('c-lin-xiao');
        expect(r.why).toMatch(/[\u4e00-\u9fff]/);
        expect(r.at).toBeInstanceOf(Date);
      }
    });
    it('rejects UPDATE, DELETE and TRUNCATE', async () => {
      // Each on its own connection, discarded afterwards: pglite-socket drops a connection
      // after any SQL error, so a pooled one must not be reused.
      const sqlError = async (sql: string) => {
        const c = await ctx.db.pool.connect();
        try {
          await c.query(sql);
          return null;
        } catch (err) {
          return (err as Error).message;
        } finally {
          c.release(true);
        }
      };
      const before = await count('SELECT count(*) n FROM audit_log');
      expect(await sqlError(`UPDATE audit_log SET why = 'x'`)).toMatch(/append-only: UPDATE/);
      expect(await sqlError(`DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log)`)).toMatch(/append-only: DELETE/);
      expect(await sqlError(`TRUNCATE audit_log`)).toMatch(/append-only: TRUNCATE/);
      expect(await count('SELECT count(*) n FROM audit_log')).toBe(before);
      expect(before).toBeGreaterThan(10);
    });
  });

  it('searches the catalogue and reads guides, tolerating a missing one', async () => {
    expect(gov.services.search(null, { query: '良民证' })[0]?.id).toBe(CERT);
    const { GovService } = await import('./gov-service.js');
    const empty = new GovService(ctx.db.pool, { guidesDir: '/nonexistent' });
    const g = empty.services.guide(null, { serviceId: 'passport' });
    expect(g).toMatchObject({ available: false, sections: [] });
    expect(g.message).toMatch(/办事指南/);
    expect(TOOL.getServiceGuide).toBe('get_service_guide');
  });
});

describe('pglite-socket over TCP', () => {
  it('carries concurrent queries and transactions correctly through one pooled connection', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const { openDatabase, withTransaction } = await import('../../core/db.js');
    const { TCP_POOL_MAX } = await import('../../test/context.js');
    const pglite = await PGlite.create('memory://');
    const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: TCP_POOL_MAX });
    await server.start();
    const db = await openDatabase({ url: `postgres://postgres@${server.getServerConn()}/postgres`, max: TCP_POOL_MAX });
    try {
      await db.pool.query('CREATE TABLE t (k int PRIMARY KEY, v text)');
      const work = Array.from({ length: 40 }, (_, i) => i % 2
        ? db.pool.query<{ v: string }>('SELECT $1::text AS v, $2::int AS k', [`v${i}`, i]).then((r) => r.rows[0]!.v)
        : withTransaction(db.pool, async (c) => {
          await c.query('INSERT INTO t (k, v) VALUES ($1, $2)', [i, `v${i}`]);
          if (i % 4 === 0) throw new Error('roll back');
          return (await c.query<{ v: string }>('SELECT v FROM t WHERE k = $1', [i])).rows[0]!.v;
        }).catch(() => `v${i}`));
      expect(await Promise.all(work)).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`));
      const kept = (await db.pool.query<{ k: number }>('SELECT k FROM t ORDER BY k')).rows.map((r) => r.k);
      expect(kept).toEqual(Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 2 === 0 && i % 4 !== 0));
    } finally {
      await db.close();
      await server.stop();
      await pglite.close();
    }
  });
});
