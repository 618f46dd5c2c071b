import { beforeAll, describe, expect, it } from 'vitest';
import { createLocalEngine, type LocalNluEngine } from './local-engine.js';

let engine: LocalNluEngine;
beforeAll(() => {
  engine = createLocalEngine();
});

const CRC = 'criminal_record_certificate';

describe('local NLU engine: services and acts', () => {
  it('understands the seed request', async () => {
    const r = await engine.understand('我要开无犯罪记录证明');
    expect(r).toMatchObject({ act: 'apply', service: CRC, needsClarification: false, dialogue: null });
    expect(r.confidence).toBeGreaterThan(0.8);
  });

  it('understands traditional Chinese and full-width input', async () => {
    expect(await engine.understand('我要開無犯罪記錄證明')).toMatchObject({ act: 'apply', service: CRC });
    expect(await engine.understand('我想辦張社會保障卡！')).toMatchObject({ act: 'apply', service: 'social_security_card' });
    expect((await engine.understand('ＳＯＣＩＡＬ ＳＥＣＵＲＩＴＹ ＣＡＲＤ')).service).toBe('social_security_card');
  });

  it('survives ASR homophones', async () => {
    expect(await engine.understand('我要开无犯罪记录正明')).toMatchObject({ act: 'apply', service: CRC });
    expect(await engine.understand('社保咔身领')).toMatchObject({ service: 'social_security_card' });
  });

  it('extracts slots stated up front', async () => {
    const r = await engine.understand('帮我开个无犯罪记录证明，去英国留学用');
    expect(r).toMatchObject({ act: 'apply', service: CRC, slots: { purpose: '出国(境)', destination: '英国' } });
  });

  it('tells consult and progress from apply', async () => {
    expect(await engine.understand('居住证办下来要多久')).toMatchObject({ act: 'consult', service: 'residence_permit' });
    expect(await engine.understand('开无犯罪证明要带什么材料')).toMatchObject({ act: 'consult', service: CRC });
    expect(await engine.understand('我的居住证办到哪一步了')).toMatchObject({ act: 'progress', service: 'residence_permit' });
    expect(await engine.understand('申请的进度')).toMatchObject({ act: 'progress', service: null });
  });

  it('works in English and mixed Chinese-English', async () => {
    expect(await engine.understand('I want to apply for a social security card')).toMatchObject({
      act: 'apply',
      service: 'social_security_card',
    });
    expect(await engine.understand('帮我办个police certificate')).toMatchObject({ act: 'apply', service: CRC });
    expect(await engine.understand('how long does a passport take')).toMatchObject({ act: 'consult', service: 'passport' });
  });

  it('hands off to a person, with or without a service', async () => {
    expect(await engine.understand('转人工')).toMatchObject({ act: 'handoff', service: null });
    expect(await engine.understand('talk to a human please')).toMatchObject({ act: 'handoff', service: null });
    expect(await engine.understand('社保卡的事我要找人工')).toMatchObject({ act: 'handoff', service: 'social_security_card' });
  });

  it('recognises greetings, cancellations and out-of-scope chatter with no service', async () => {
    expect(await engine.understand('你好')).toMatchObject({ act: 'greeting', service: null });
    expect(await engine.understand('算了，不办了')).toMatchObject({ act: 'cancel', service: null });
    expect(await engine.understand('今天天气怎么样')).toMatchObject({ act: 'out_of_scope', service: null });
    expect(await engine.understand('帮我订一张去伦敦的机票')).toMatchObject({ act: 'out_of_scope', service: null, slots: {} });
    expect(await engine.understand('讲个笑话吧')).toMatchObject({ act: 'out_of_scope', service: null });
  });

  it('keeps chatter that only mentions a service word out of scope', async () => {
    expect(await engine.understand('驾照的英文怎么写')).toMatchObject({ act: 'out_of_scope', service: null });
  });

  it('masks only the service\'s own names for slots: another service\'s name is ordinary wording', async () => {
    // 营业执照 names business_startup, and here says how the citizen works (basis 合法稳定就业).
    const r = await engine.understand('营业执照是我自己的，办居住证');
    expect(r).toMatchObject({ act: 'apply', service: 'residence_permit', slots: { basis: '合法稳定就业' } });
  });

  it('tells a progress question from a request when the wording ends on "still not"', async () => {
    expect(await engine.understand('申请了两周了居住证还没下来')).toMatchObject({ act: 'progress', service: 'residence_permit' });
    expect(await engine.understand('覅办了')).toMatchObject({ act: 'cancel', service: null });
  });

  it('asks for clarification on a vague request instead of guessing', async () => {
    const r = await engine.understand('我想办个证');
    expect(r.needsClarification).toBe(true);
    expect(r.service).toBeNull();
    expect(r.candidates.length).toBeGreaterThan(0);
    const clear = await engine.understand('我要办社保卡');
    expect(clear.confidence).toBeGreaterThan(r.confidence);
  });

  it('returns ranked candidates and the normalised text', async () => {
    const r = await engine.understand('居住證積分怎麼算？');
    expect(r.service).toBe('residence_points');
    expect(r.candidates[0]?.service).toBe('residence_points');
    expect(r.normalized).toBe('居住证积分怎么算?');
  });
});

describe('local NLU engine: dialogue context', () => {
  it('fills the awaited field from a short answer, and more when more is said', async () => {
    const r = await engine.understand('出国留学用，去英国', { service: CRC, awaiting: 'purpose' });
    expect(r).toMatchObject({ act: 'apply', service: CRC, slots: { purpose: '出国(境)', destination: '英国' } });
    const d = await engine.understand('去英国读书', { service: CRC, awaiting: 'destination' });
    expect(d).toMatchObject({ act: 'apply', service: CRC });
    expect(d.slots.destination).toBe('英国');
    expect(await engine.understand('我自己去网点拿', { service: 'social_security_card', awaiting: 'delivery_method' })).toMatchObject({
      service: 'social_security_card',
      slots: { delivery_method: '网点自取' },
    });
    expect(await engine.understand('合同没去备案', { service: 'housing_fund_rent_withdrawal', awaiting: 'rent_type' })).toMatchObject({
      slots: { rent_type: '未备案（按标准额度提取）' },
    });
  });

  it('reads confirmations and corrections', async () => {
    const ctx = { service: CRC, awaiting: 'confirm' };
    expect(await engine.understand('确认', ctx)).toMatchObject({ dialogue: 'confirm', act: 'apply', service: CRC });
    expect(await engine.understand('好的，没问题', ctx)).toMatchObject({ dialogue: 'confirm' });
    expect(await engine.understand('yes', ctx)).toMatchObject({ dialogue: 'confirm' });
    const fix = await engine.understand('不对，用途改成就业', ctx);
    expect(fix).toMatchObject({ dialogue: 'deny', service: CRC, slots: { purpose: '就业' } });
    expect(await engine.understand('不是出国，是就业', { service: CRC, awaiting: 'purpose' })).toMatchObject({
      slots: { purpose: '就业' },
    });
    expect(await engine.understand('对了，还要带什么', ctx)).toMatchObject({ dialogue: null });
  });

  it('lets the citizen leave the form: handoff and cancel win over the awaited field', async () => {
    expect(await engine.understand('转人工', { service: CRC, awaiting: 'purpose' })).toMatchObject({ act: 'handoff' });
    expect(await engine.understand('算了不办了', { service: CRC, awaiting: 'purpose' })).toMatchObject({ act: 'cancel', service: null });
  });

  it('answers a follow-up question about the current service', async () => {
    const r = await engine.understand('要多久？', { service: 'residence_permit' });
    expect(r).toMatchObject({ act: 'consult', service: 'residence_permit', needsClarification: false });
  });

  it('treats "不知道" as an answer, not as a cancellation', async () => {
    expect(await engine.understand('不知道', { service: CRC, awaiting: 'destination' })).toMatchObject({
      act: 'apply',
      service: CRC,
      slots: {},
    });
  });

  it('follows a switch to another named service', async () => {
    const r = await engine.understand('我还想办个社保卡', { service: CRC, awaiting: 'purpose' });
    expect(r.service).toBe('social_security_card');
  });
});
