import type { Catalogue, Service } from '../../knowledge/catalogue.js';
import { holds, type Condition } from '../../knowledge/conditions.js';
import type { ApplicationStatus } from '../contract.js';
import { scopeOf, type Facts } from './facts.js';
import type { Values } from './prefill.js';

/**
 * What a submission becomes, from the catalogue's `outcome`: staff review when a review
 * condition holds (it may name a protected fact; the citizen is told only that staff will
 * review, staff get the `check` note), else the service's result (issued at once with a
 * certificate, or submitted to the department), with the message for that status.
 */
export interface Decision {
  status: Extract<ApplicationStatus, 'issued' | 'submitted' | 'under_review'>;
  /** Staff-only: what to check (set when the case goes to review). */
  check: string | null;
  licence: { name: string; issuer: string; number: string; validDays: number | null } | null;
  message: string;
}

export function decideOutcome(service: Service, catalogue: Catalogue, facts: Facts, values: Values, applicationId: string, today: Date): Decision {
  const o = service.outcome;
  const scope = scopeOf(facts, values, today);
  const review = (o?.review ?? []).find((r) => holds(r.when, scope));
  if (review) return { status: 'under_review', check: review.check, licence: null, message: statusMessage(service, catalogue, 'under_review', values) };
  const status = o?.result ?? 'submitted';
  const licence = status === 'issued' && o?.licence
    ? { name: o.licence.name, issuer: o.licence.issuer, number: licenceNumber(o.licence.number, applicationId), validDays: o.licence.valid_days ?? null }
    : null;
  return { status, check: null, licence, message: statusMessage(service, catalogue, status, values) };
}

/** The licence a staff approval issues (the service's licence template), or null. */
export function approvalLicence(service: Service | undefined, applicationId: string): Decision['licence'] {
  const l = service?.outcome?.licence;
  return l ? { name: l.name, issuer: l.issuer, number: licenceNumber(l.number, applicationId), validDays: l.valid_days ?? null } : null;
}

/** The citizen-facing message of a status: the service's (first variant whose condition holds), else the default. */
export function statusMessage(service: Service | undefined, catalogue: Catalogue, status: 'submitted' | 'issued' | 'under_review', values: Values = {}): string {
  const m = service?.outcome?.messages?.[status];
  if (typeof m === 'string') return m;
  if (Array.isArray(m)) {
    const scope = scopeOf({}, values);
    const hit = m.find((v) => v.when === undefined || holds(v.when as Condition, scope));
    if (hit) return hit.text;
  }
  return catalogue.defaults.messages[status];
}

/** e.g. 沪公无犯证〔2026〕1122000001号 from the application number SA20261122000001. */
export function licenceNumber(template: string, applicationId: string): string {
  return template.replaceAll('{year}', applicationId.slice(2, 6)).replaceAll('{serial}', applicationId.slice(6));
}

export const returnedMessage = (note: string) => `您的申请已退回，原因：${note}。请按提示补充或修改后重新提交。`;
export const rejectedMessage = (note: string) => `您的申请未通过审核，说明：${note}。如有疑问可咨询 12345 市民服务热线或前往办事窗口。`;
export const WITHDRAWN_MESSAGE = '您已撤回该申请，相关部门不再办理。如仍需办理，可以重新申请。';
export const DRAFT_MESSAGE = '申请草稿已创建，正在提交。';
