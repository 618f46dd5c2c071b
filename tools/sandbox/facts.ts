import type { Catalogue } from '../../knowledge/catalogue.js';
import type { Scope, Value } from '../../knowledge/conditions.js';
import { ageOn, type CitizenRow } from './citizens.js';

/**
 * A citizen's facts from shared data, by the names the catalogue's rules use (its `facts`
 * registry): the columns of the population record, facts derived from them (age), and the
 * extra facts a sandbox record carries in its `facts` column. Protected facts are here for
 * the engine only; nothing that leaves the service API names them.
 */
export type Facts = Record<string, Value>;

export function citizenFacts(c: CitizenRow, today: Date): Facts {
  return {
    ...(c.facts ?? {}),
    name: c.name,
    gender: c.gender,
    id_number: c.id_number,
    birth_date: c.birth_date,
    age: ageOn(c.birth_date, today),
    phone: c.phone,
    hukou_shanghai: c.hukou_shanghai,
    household_address: c.household_address,
    residence_address: c.residence_address,
    record_on_file: c.record_on_file,
    insured_maternity: c.insured_maternity,
    child_birth_date: c.child_birth_date,
    employed_in_shanghai: c.employed_in_shanghai,
    fund_account: c.fund_account,
    bank_account: c.bank_account,
  };
}

/** A condition scope over a citizen's facts and a form's values. */
export function scopeOf(facts: Facts, values: Record<string, string> = {}, today = new Date()): Scope {
  return { fact: (n) => facts[n], field: (k) => values[k], today };
}

/**
 * Fills `{fact}` / `{fact:md}` placeholders of a citizen-facing template with the citizen's
 * own facts, formatted for reading (dates as 2026年10月2日, or 10月2日 with `:md`; booleans
 * by the registry's yes/no wording). A protected fact is never filled in: the template is
 * refused by the catalogue check, and here it would render as nothing.
 */
export function fillFacts(template: string, facts: Facts, catalogue: Catalogue): string {
  return template.replace(/\{([a-z_][a-z0-9_]*)(?::(md|ymd))?\}/g, (_, name: string, fmt: string | undefined) => {
    const spec = catalogue.facts[name];
    if (spec?.protected) return '';
    const v = facts[name];
    if (v === null || v === undefined) return '';
    if (spec?.type === 'date' && typeof v === 'string') return formatDate(v, fmt === 'md' ? 'md' : 'ymd');
    if (spec?.type === 'boolean') return v ? (spec.yes ?? spec.label) : (spec.no ?? `非${spec.label}`);
    return String(v);
  });
}

export function formatDate(iso: string, fmt: 'md' | 'ymd'): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return iso;
  const md = `${Number(m[2])}月${Number(m[3])}日`;
  return fmt === 'md' ? md : `${m[1]}年${md}`;
}
