import { describe, expect, it } from 'vitest';
import { normalize, basicClean } from './normalize.js';
import { askFieldsOf, compileSlotLexicon, extractSlots, loadSlotsData } from './slots.js';
import { loadCatalogue } from './training-data.js';

const catalogue = loadCatalogue();
const lex = compileSlotLexicon(loadSlotsData(), catalogue);
const svc = (id: string) => catalogue.find((s) => s.id === id);

function slots(serviceId: string, text: string, awaiting: string | null = null, allowFallback = false) {
  return extractSlots(lex, {
    text: normalize(text),
    cased: basicClean(text),
    fields: askFieldsOf(svc(serviceId)),
    awaiting,
    allowFallback,
  });
}

describe('slot lexicons', () => {
  it('maps purpose phrasings to the canonical options', () => {
    expect(slots('criminal_record_certificate', '出国留学用')).toEqual({ purpose: '出国(境)' });
    expect(slots('criminal_record_certificate', '新单位入职要的')).toEqual({ purpose: '就业' });
    expect(slots('criminal_record_certificate', '孩子上学要')).toEqual({ purpose: '入学' });
    expect(slots('criminal_record_certificate', '我们想领养一个孩子')).toEqual({ purpose: '收养' });
  });

  it('reads destinations in Chinese, English and city names, and implies going abroad', () => {
    expect(slots('criminal_record_certificate', '去伦敦读研')).toEqual({ purpose: '出国(境)', destination: '英国' });
    expect(slots('criminal_record_certificate', 'for my visa to the USA')).toMatchObject({ destination: '美国' });
    expect(slots('criminal_record_certificate', 'moving to the US')).toMatchObject({ destination: '美国' });
    expect(slots('criminal_record_certificate', 'help us please')).toEqual({});
    expect(slots('criminal_record_certificate', '去悉尼工作')).toEqual({ purpose: '出国(境)', destination: '澳大利亚' });
  });

  it('honours negation and corrections: the last value said wins', () => {
    expect(slots('criminal_record_certificate', '不是出国，是就业')).toEqual({ purpose: '就业' });
    expect(slots('criminal_record_certificate', '入学用的，不对，改成就业')).toEqual({ purpose: '就业' });
    expect(slots('social_security_card', '寄到家里吧，我没空去拿')).toEqual({ delivery_method: '邮寄到家' });
    expect(slots('social_security_card', '不用寄了，我自己去网点拿')).toEqual({ delivery_method: '网点自取' });
  });

  it('maps a negated binary option to its counterpart', () => {
    expect(slots('housing_fund_rent_withdrawal', '合同还没有去备案')).toEqual({ rent_type: '未备案（按标准额度提取）' });
    expect(slots('housing_fund_rent_withdrawal', '租房合同备过案的')).toEqual({ rent_type: '已备案租赁合同' });
  });

  it('reads residence-permit basis', () => {
    expect(slots('residence_permit', '我在张江一家公司上班')).toEqual({ basis: '合法稳定就业' });
    expect(slots('residence_permit', '我在这边租房子住')).toEqual({ basis: '合法稳定居所' });
    expect(slots('residence_permit', '我在交大读研究生')).toEqual({ basis: '连续就读' });
  });

  it("only extracts the service's own 'ask' fields", () => {
    expect(slots('social_security_card', '去英国读书，寄到家里')).toEqual({ delivery_method: '邮寄到家' });
    expect(slots('maternity_allowance', '寄到家里')).toEqual({});
  });

  it('uses weak phrases and the fallback only for the awaited field', () => {
    expect(slots('social_security_card', '寄吧')).toEqual({});
    expect(slots('social_security_card', '寄吧', 'delivery_method')).toEqual({ delivery_method: '邮寄到家' });
    expect(slots('criminal_record_certificate', '居委会登记志愿者用', 'purpose', true)).toEqual({ purpose: '其他' });
    expect(slots('criminal_record_certificate', '不知道', 'purpose', true)).toEqual({});
  });

  it('rejects a lexicon value that is not a catalogue option, naming the file', () => {
    const bad = { ...loadSlotsData() };
    bad.fields = { ...bad.fields, purpose: { values: [{ value: '旅游', patterns: ['旅游'], cased: [], weak: [] }] } };
    expect(() => compileSlotLexicon(bad, catalogue, 'slots.yaml')).toThrow(/slots\.yaml.*旅游/);
  });
});
