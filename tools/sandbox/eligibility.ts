import type { Service } from '../../core/catalogue.js';
import type { Eligibility } from '../contract.js';
import { ageOn, type CitizenRow } from './citizens.js';

/**
 * Eligibility from shared data, per the catalogue's `review` notes. Reasons are Chinese and
 * addressed to the citizen. A record on file never makes anyone ineligible for a
 * certificate (that case is routed to staff review at submission) and is never mentioned.
 */
type Rule = (c: CitizenRow, today: Date) => Eligibility;

const OK: Eligibility = { eligible: true, code: 'ok' };

const RULES: Record<string, Rule> = {
  criminal_record_certificate: () => OK,
  social_security_card: () => OK,
  residence_permit: (c) =>
    c.hukou_shanghai
      ? {
          eligible: false,
          code: 'not_applicable',
          reason: '您已有上海市户籍（本市常住户口），不需要办理上海市居住证。居住证面向在本市居住、尚未落户上海的来沪人员。',
        }
      : OK,
  senior_allowance: (c, today) => {
    const age = ageOn(c.birth_date, today);
    if (!c.hukou_shanghai) {
      return { eligible: false, code: 'ineligible', reason: '老年综合津贴面向具有本市户籍的老年人，经共享数据核验，您目前不是上海市户籍。' };
    }
    if (age < 65) {
      return { eligible: false, code: 'ineligible', reason: `老年综合津贴面向年满65周岁的本市户籍老年人，您目前${age}周岁，暂不符合条件。` };
    }
    return OK;
  },
  maternity_allowance: (c) => {
    if (!c.insured_maternity) {
      return { eligible: false, code: 'ineligible', reason: '经共享数据核验，未查询到您本市生育保险的参保记录，暂不能申领生育津贴。如有疑问请联系参保单位或医保经办机构。' };
    }
    if (!c.child_birth_date) {
      return { eligible: false, code: 'ineligible', reason: '经共享数据核验，暂未查询到您的生育（出生医学证明）信息，暂不能申领生育津贴。' };
    }
    return OK;
  },
  housing_fund_rent_withdrawal: (c) =>
    c.fund_account
      ? OK
      : { eligible: false, code: 'ineligible', reason: '经共享数据核验，未查询到您在本市的住房公积金账户，暂不能办理租房提取。' },
};

export function checkEligibility(service: Service, citizen: CitizenRow, today: Date): Eligibility {
  if (!service.transactable) {
    return {
      eligible: false,
      code: 'not_applicable',
      reason: `「${service.name}」暂不支持由小申直接在线办理，可以先查看办事指南，或转人工为您安排。`,
    };
  }
  const rule = RULES[service.id];
  return rule ? rule(citizen, today) : OK;
}
