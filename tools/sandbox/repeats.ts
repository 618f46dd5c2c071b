import type { Service } from '../../knowledge/catalogue.js';
import type { ApplicationStatus } from '../contract.js';
import type { Values } from './prefill.js';

/**
 * Whether a new application would repeat one the citizen already has, by the service's
 * `repeat` policy: `once` (a one-off benefit: one application ever, for the same values of
 * `fields` when given), `while_open` (none while another is being processed), `same_day`
 * (not the same values of `fields` again on the same day), `any` (no limit). Applications
 * withdrawn, rejected or returned do not count: the citizen may apply again.
 */
export interface ExistingApplication {
  id: string;
  serviceId: string;
  status: ApplicationStatus;
  fields: Values;
  createdAt: Date;
}

const COUNTS: ReadonlySet<ApplicationStatus> = new Set(['submitted', 'under_review', 'issued']);
const OPEN: ReadonlySet<ApplicationStatus> = new Set(['submitted', 'under_review']);

export function findRepeat(service: Service, values: Values, existing: readonly ExistingApplication[], today: Date): ExistingApplication | null {
  const policy = service.repeat?.policy ?? 'any';
  if (policy === 'any') return null;
  const keys = service.repeat?.fields ?? [];
  const same = (a: ExistingApplication) => keys.every((k) => (a.fields[k] ?? '') === (values[k] ?? ''));
  const mine = existing.filter((a) => a.serviceId === service.id && COUNTS.has(a.status));
  switch (policy) {
    case 'once':
      return mine.find(same) ?? null;
    case 'while_open':
      return mine.find((a) => OPEN.has(a.status)) ?? null;
    case 'same_day':
      return mine.find((a) => same(a) && shanghaiDay(a.createdAt) === shanghaiDay(today)) ?? null;
  }
}

/** The calendar day in Shanghai (UTC+8, no daylight saving). */
export function shanghaiDay(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}
