import { describe, expect, it } from 'vitest';
import { normalize, basicClean } from './normalize.js';
import { askFieldsOf, compileSlotLexicon, extractSlots, freeTextValue, loadSlotsData } from './slots.js';
import { loadCatalogue } from './training-data.js';

const catalogue = loadCatalogue();
const lex = compileSlotLexicon(loadSlotsData(), catalogue);
const svc = (id: string) => catalogue.find((s) => s.id === id);

function matches(serviceId: string, text: string) {
  return extractSlots(lex, { text: normalize(text), cased: basicClean(text), fields: askFieldsOf(svc(serviceId)) });
}
const slots = (serviceId: string, text: string) => matches(serviceId, text).strong;

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

  it('reports weak phrases apart (they count only as the answer to their own field), and fills nothing by default', () => {
    expect(matches('social_security_card', '寄吧')).toEqual({ strong: {}, weak: { delivery_method: '邮寄到家' }, described: [] });
    expect(slots('criminal_record_certificate', '居委会登记志愿者用')).toEqual({ purpose: '其他' });
    expect(matches('criminal_record_certificate', '不知道')).toEqual({ strong: {}, weak: {}, described: [] });
    expect(matches('criminal_record_certificate', 'asdkjh qwe 123')).toEqual({ strong: {}, weak: {}, described: [] });
  });

  it('scopes a negation to the phrase that follows it, and reads a described purpose as 其他 in the citizen\'s words', () => {
    expect(slots('social_security_card', '别寄了我自己去取')).toEqual({ delivery_method: '网点自取' });
    expect(slots('social_security_card', '不要寄到家')).toEqual({ delivery_method: '网点自取' });
    expect(matches('criminal_record_certificate', '给居委会的')).toMatchObject({ strong: { purpose: '其他' } });
    expect(matches('criminal_record_certificate', '租房子房东要看')).toEqual({ strong: {}, weak: { purpose: '其他' }, described: ['purpose'] });
  });

  it('takes a free answer only when it reads like a value of the field', () => {
    expect(freeTextValue(lex, 'destination', '冰岛')).toBe('冰岛');
    expect(freeTextValue(lex, 'destination', 'asdkjh qwe 123')).toBeUndefined();
    expect(freeTextValue(lex, 'purpose', '随便写点')).toBeUndefined(); // an options field has phrases and no pattern
    expect(freeTextValue(lex, 'dog_name', '旺财')).toBe('旺财'); // a field the lexicon does not know takes any answer
  });

  it('rejects a lexicon value that is not a catalogue option, naming the file', () => {
    const bad = { ...loadSlotsData() };
    bad.fields = { ...bad.fields, purpose: { values: [{ value: '旅游', patterns: ['旅游'], cased: [], weak: [] }], describes: [], describe_frames: [] } };
    expect(() => compileSlotLexicon(bad, catalogue, 'slots.yaml')).toThrow(/slots\.yaml.*旅游/);
  });
});
