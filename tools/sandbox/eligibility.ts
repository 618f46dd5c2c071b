import type { Catalogue, EligibilityRule, Service } from '../../knowledge/catalogue.js';
import { holds } from '../../knowledge/conditions.js';
import type { Eligibility } from '../contract.js';
import { fillFacts, scopeOf, type Facts } from './facts.js';

/**
 * Eligibility from shared data: the catalogue's `eligibility` rules of a service, in order;
 * the first that fails gives the reason, in the citizen's own facts. Rules never name a
 * protected fact (the catalogue check refuses them), so a record on file never makes anyone
 * ineligible and is never mentioned: that case is routed to staff review at submission.
 */
const OK: Eligibility = { eligible: true, code: 'ok' };

export function checkRules(rules: readonly EligibilityRule[], facts: Facts, catalogue: Catalogue, today: Date): Eligibility {
  const scope = scopeOf(facts, {}, today);
  for (const rule of rules) {
    if (holds(rule.require, scope)) continue;
    const alternative = rule.alternative ? catalogue.get(rule.alternative) : undefined;
    return {
      eligible: false,
      code: rule.code,
      reason: fillFacts(rule.reason, facts, catalogue),
      ...(alternative ? { alternative: { serviceId: alternative.id, name: alternative.name } } : {}),
    };
  }
  return OK;
}

export function checkEligibility(service: Service, facts: Facts, catalogue: Catalogue, today: Date): Eligibility {
  if (!service.transactable) {
    return {
      eligible: false,
      code: 'not_applicable',
      reason: `「${service.name}」暂不支持由小申直接在线办理，可以先查看办事指南，或转人工为您安排。`,
    };
  }
  return checkRules(service.eligibility ?? [], facts, catalogue, today);
}
