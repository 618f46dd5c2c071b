import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../identity/principal.js';
import { createTestContext, type TestContext } from '../../test/context.js';
import { resetCitizenHistory } from './reset.js';

/** 免申即享 and 一件事 through the sandbox service API, on the project catalogue and sandbox citizens. */
const TODAY = new Date('2026-12-01T10:00:00+08:00');
let clock = TODAY;
let ctx: TestContext;
const who: Record<string, Principal> = {};

beforeAll(async () => {
  ctx = await createTestContext('pglite', {}, { now: () => clock });
  for (const id of ['c-liu-fang', 'c-chen-guiying', 'c-sun-ming', 'c-zhou-jianguo', 'c-li-juan', 'c-lin-xiao', 'c-wang-qiang']) {
    who[id] = (await ctx.identity.login({ method: 'sandbox', citizenId: id })).principal;
  }
});
beforeEach(async () => {
  clock = TODAY;
  for (const id of Object.keys(who)) await resetCitizenHistory(ctx.db.pool, id);
});
afterAll(async () => ctx?.close());

const liu = () => who['c-liu-fang']!;
const BABY = { baby_name: '王小宝', hukou_with: '随母亲落户', delivery_method: '邮寄到家' };

describe('免申即享 offers', () => {
  it('offers 刘芳 the maternity allowance with her own reasons, the computed amount and only the account to confirm', async () => {
    const offers = await ctx.gov.offers.list(liu());
    const m = offers.find((o) => o.serviceId === 'maternity_allowance')!;
    expect(m).toMatchObject({ title: '生育津贴', status: 'new', department: '市医疗保障局' });
    expect(m.why).toEqual(['您于10月2日生育', '已参加本市生育保险']);
    expect(m.amount).toMatchObject({ value: 47400, unit: '元', text: '47,400元' });
    expect(m.amount!.explain).toContain('9000');
    expect(m.confirm.map((f) => [f.key, f.display])).toEqual([['bank_account', '**** **** **** 0002']]);
    // The 3-year childcare subsidy applies to her too.
    expect(offers.map((o) => o.serviceId)).toContain('childcare_subsidy');
    expect(JSON.stringify(offers)).not.toMatch(/310114199207154021|6222 0000 0000 0002/);
  });

  it('offers 陈桂英 the senior allowance at her age band, 周建国 the disability subsidies, 孙明 nothing', async () => {
    const chen = await ctx.gov.offers.list(who['c-chen-guiying']!);
    expect(chen.map((o) => o.serviceId)).toEqual(['senior_allowance']);
    expect(chen[0]!.why).toEqual(['您今年71周岁', '具有本市户籍']);
    expect(chen[0]!.amount).toMatchObject({ value: 150, unit: '元/月', per: '月' });
    expect((await ctx.gov.offers.list(who['c-zhou-jianguo']!)).map((o) => o.serviceId)).toEqual(['disability_two_subsidies']);
    expect(await ctx.gov.offers.list(who['c-sun-ming']!)).toEqual([]);
  });

  it('never offers what was applied for, and remembers "不需要" and "以后再说"', async () => {
    await ctx.gov.applications.submit(liu(), { serviceId: 'maternity_allowance', values: {}, idempotencyKey: 'liu-offer-0001' });
    expect((await ctx.gov.offers.list(liu())).map((o) => o.serviceId)).not.toContain('maternity_allowance');
    await ctx.gov.offers.answer(liu(), { offerId: 'childcare_subsidy_offer', answer: 'later' });
    expect(await ctx.gov.offers.list(liu())).toEqual([]);
    // Asked for, everything she may have is listed with her earlier answer.
    expect((await ctx.gov.offers.list(liu(), { all: true })).map((o) => [o.id, o.status])).toEqual([['childcare_subsidy_offer', 'later']]);
    clock = new Date(TODAY.getTime() + 8 * 86_400_000);
    expect((await ctx.gov.offers.list(liu())).map((o) => o.id)).toEqual(['childcare_subsidy_offer']);
    await ctx.gov.offers.answer(liu(), { offerId: 'childcare_subsidy_offer', answer: 'declined' });
    clock = new Date(TODAY.getTime() + 400 * 86_400_000);
    expect((await ctx.gov.offers.list(liu())).map((o) => o.id)).toEqual([]);
    const audit = await ctx.db.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'offer.answer' AND subject_citizen_id = 'c-liu-fang'`);
    expect(audit.rows[0].n).toBeGreaterThanOrEqual(2);
  });

  it('refuses an unknown offer, and staff cannot answer for a citizen', async () => {
    await expect(ctx.gov.offers.answer(liu(), { offerId: 'no_such_offer', answer: 'declined' })).rejects.toMatchObject({ status: 404 });
    const staff = (await ctx.identity.login({ method: 'staff_password', username: 'staff01', password: 'shanghai-staff-demo' })).principal;
    await expect(ctx.gov.offers.answer(staff, { offerId: 'maternity_allowance_offer', answer: 'declined' })).rejects.toMatchObject({ status: 403 });
  });
});

describe('出生“一件事”', () => {
  it('says which parts apply to 刘芳 and asks the union of missing fields once', async () => {
    const pre = await ctx.gov.bundles.prefill(liu(), { bundleId: 'newborn_one_thing' });
    expect(pre.eligibility.eligible).toBe(true);
    expect(pre.members.map((m) => [m.serviceId, m.applies])).toEqual([
      ['newborn_hukou', true], ['newborn_medical_insurance', true], ['newborn_social_security_card', true], ['maternity_allowance', true],
    ]);
    expect(pre.missing).toEqual(['baby_name', 'hukou_with', 'delivery_method']);
    expect(pre.fields.filter((f) => f.key === 'baby_name')).toHaveLength(1);
    // Three departments: 公安 (registration), 医保 (the baby's insurance and her allowance), 人社 (the card).
    expect([...new Set(pre.members.map((m) => m.department))]).toEqual(['市公安局', '市医疗保障局', '市人力资源社会保障局']);
  });

  it('files one application per department under one key; a replay files nothing; another content under the key is refused', async () => {
    const r = await ctx.gov.bundles.submit(liu(), { bundleId: 'newborn_one_thing', values: BABY, idempotencyKey: 'liu-birth-0001' });
    expect(r.duplicate).toBe(false);
    expect(r.bundle.applications.map((a) => a.serviceId)).toEqual(['newborn_hukou', 'newborn_medical_insurance', 'newborn_social_security_card', 'maternity_allowance']);
    expect(r.bundle.applications.every((a) => a.bundleApplicationId === r.bundle.id)).toBe(true);
    expect(r.bundle.applications.find((a) => a.serviceId === 'newborn_social_security_card')!.fields).toMatchObject({ baby_name: '王小宝', delivery_method: '邮寄到家' });
    const again = await ctx.gov.bundles.submit(liu(), { bundleId: 'newborn_one_thing', values: BABY, idempotencyKey: 'liu-birth-0001' });
    expect(again.duplicate).toBe(true);
    expect(again.bundle.applications.map((a) => a.id)).toEqual(r.bundle.applications.map((a) => a.id));
    expect(await ctx.gov.applications.listMine(liu())).toHaveLength(4);
    await expect(ctx.gov.bundles.submit(liu(), { bundleId: 'newborn_one_thing', values: { ...BABY, baby_name: '王大宝' }, idempotencyKey: 'liu-birth-0001' }))
      .rejects.toMatchObject({ status: 409, code: 'idempotency_conflict' });
    // A new key the next day: every part already applied for, nothing filed twice.
    await expect(ctx.gov.bundles.submit(liu(), { bundleId: 'newborn_one_thing', values: BABY, idempotencyKey: 'liu-birth-0002' }))
      .rejects.toMatchObject({ status: 422 });
    const status = await ctx.gov.bundles.get(liu(), { bundleApplicationId: r.bundle.id });
    expect(status.applications).toHaveLength(4);
    await expect(ctx.gov.bundles.get(who['c-sun-ming']!, { bundleApplicationId: r.bundle.id })).rejects.toMatchObject({ status: 404 });
  });

  it('sends a part that needs review to staff with the whole bundle, the others going ahead', async () => {
    const r = await ctx.gov.bundles.submit(liu(), { bundleId: 'newborn_one_thing', values: { ...BABY, hukou_with: '随父亲落户' }, idempotencyKey: 'liu-birth-0003' });
    const byService = Object.fromEntries(r.bundle.applications.map((a) => [a.serviceId, a.status]));
    expect(byService.newborn_hukou).toBe('under_review');
    expect(byService.newborn_medical_insurance).toBe('submitted');
    expect(r.handoffs).toHaveLength(1);
    const staff = (await ctx.identity.login({ method: 'staff_password', username: 'staff01', password: 'shanghai-staff-demo' })).principal;
    const detail = await ctx.gov.handoffs.detail(staff, r.handoffs[0]!.id);
    expect(detail.bundle).toMatchObject({ id: r.bundle.id, name: '出生“一件事”' });
    expect(detail.bundle!.applications.map((a) => [a.serviceId, a.status])).toEqual([
      ['newborn_hukou', 'under_review'], ['newborn_medical_insurance', 'submitted'], ['newborn_social_security_card', 'submitted'], ['maternity_allowance', 'submitted'],
    ]);
    expect(JSON.stringify(detail)).not.toMatch(/310114199207154021|6222 ?0000 ?0000 ?0002/);
  });

  it('leaves out a part the citizen does not qualify for, saying why in her own facts, and the bundle needs a birth on record', async () => {
    await ctx.gov.applications.submit(liu(), { serviceId: 'maternity_allowance', values: {}, idempotencyKey: 'liu-ma-0009' });
    const pre = await ctx.gov.bundles.prefill(liu(), { bundleId: 'newborn_one_thing' });
    const m = pre.members.find((x) => x.serviceId === 'maternity_allowance')!;
    expect(m.applies).toBe(false);
    expect(m.reason).toMatch(/已申请过/);
    const sun = await ctx.gov.bundles.prefill(who['c-sun-ming']!, { bundleId: 'newborn_one_thing' });
    expect(sun.eligibility).toMatchObject({ eligible: false });
    expect(sun.eligibility.reason).toMatch(/出生医学证明/);
    expect(JSON.stringify(sun)).not.toMatch(/刘芳|310114/);
  });
});

describe('开餐馆“一件事”', () => {
  it('decides the fire check from the seats, and refuses a citizen without a business licence', async () => {
    const li = who['c-li-juan']!;
    const open = await ctx.gov.bundles.prefill(li, { bundleId: 'restaurant_one_thing' });
    expect(open.missing).toEqual(expect.arrayContaining(['food_type', 'dining_scale', 'sign_area']));
    const small = await ctx.gov.bundles.prefill(li, { bundleId: 'restaurant_one_thing', values: { dining_scale: '50座以下' } });
    expect(small.members.find((m) => m.serviceId === 'restaurant_fire_check')).toMatchObject({ applies: false, reason: expect.stringMatching(/50座以下/) });
    const r = await ctx.gov.bundles.submit(li, {
      bundleId: 'restaurant_one_thing', values: { food_type: '热食类食品制售', dining_scale: '50至150座', sign_area: '10平方米以下' }, idempotencyKey: 'li-rest-0001',
    });
    expect(r.bundle.applications.map((a) => a.serviceId)).toEqual(['restaurant_food_permit', 'outdoor_sign_permit', 'restaurant_fire_check']);
    const no = await ctx.gov.bundles.prefill(who['c-lin-xiao']!, { bundleId: 'restaurant_one_thing' });
    expect(no.eligibility).toMatchObject({ eligible: false, alternative: { serviceId: 'individual_business' } });
  });
});
