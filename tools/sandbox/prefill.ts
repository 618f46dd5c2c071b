import { fieldApplies, type Service, type ServiceField } from '../../core/catalogue.js';
import { AppError, badRequest } from '../../core/errors.js';
import { maskBankAccount, maskIdNumber, maskPhone } from '../../core/mask.js';
import type { Eligibility, Prefill, PrefilledField } from '../contract.js';
import type { CitizenRow } from './citizens.js';
import { isValidIdNumber } from './id-number.js';

/**
 * Pre-filling and validating an application form (两个免于提交): `profile` fields come from
 * shared data and e-licences and are never asked; `derived` fields have a fixed value; `ask`
 * fields are open until the citizen gives them. Pure functions over a citizen row.
 */
export type Values = Record<string, string>;

/** Profile fields the citizen may replace (the pre-filled value is a suggestion). */
export const EDITABLE_PROFILE_FIELDS = new Set(['mailing_address', 'bank_account']);

export const PHOTO_DISPLAY = '居民身份证电子证照照片';

export interface ProfileSources {
  citizen: CitizenRow;
  /** The ID-card e-licence id, whose photo is reused. */
  idCardLicenceId: string | null;
}

export function profileValue(key: string, s: ProfileSources): string | null {
  const c = s.citizen;
  switch (key) {
    case 'name': return c.name;
    case 'id_number': return c.id_number;
    case 'household_address': return c.household_address;
    case 'residence_address': return c.residence_address;
    case 'mailing_address': return c.residence_address;
    case 'phone': return c.phone;
    case 'photo': return s.idCardLicenceId ? `e-licence:${s.idCardLicenceId}` : null;
    case 'birth_date_of_child': return c.child_birth_date;
    case 'bank_account': return c.bank_account;
    case 'fund_account': return c.fund_account;
    default: return null;
  }
}

/** What a citizen or staff member is shown for a value: identifiers masked. */
export function displayValue(key: string, value: string | null): string | null {
  if (value === null) return null;
  if (/id_number$/.test(key)) return maskIdNumber(value);
  if (key === 'phone') return maskPhone(value);
  if (key === 'bank_account') return maskBankAccount(value);
  if (key === 'photo') return PHOTO_DISPLAY;
  return value;
}

export function displayFields(values: Values): Values {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, displayValue(k, v) ?? '']));
}

/** Trims values and drops empty ones: an empty answer is no answer. */
export function cleanValues(values: Values | undefined): Values {
  const out: Values = {};
  for (const [k, v] of Object.entries(values ?? {})) {
    const t = v.trim();
    if (t) out[k] = t;
  }
  return out;
}

const fieldError = (field: string, message: string) => badRequest(message, { field });

/**
 * Checks the values a citizen gave: known fields only, ID-number checksum, option values,
 * shared-data fields unchanged, editable fields well-formed. With `complete`, also that
 * every applicable field is filled and no value is given for a field that does not apply.
 * Throws an AppError naming the field's label.
 */
export function validateValues(service: Service, given: Values, sources: ProfileSources, complete: boolean): void {
  const fields = service.fields ?? [];
  const byKey = new Map(fields.map((f) => [f.key, f]));
  for (const [key, value] of Object.entries(given)) {
    const f = byKey.get(key);
    const label = f?.label ?? key;
    if (/id_number$/.test(key) && !isValidIdNumber(value)) {
      throw fieldError(key, `「${label}」不是有效的公民身份号码，请核对后重新填写。`);
    }
    if (!f) throw fieldError(key, `「${key}」不是「${service.name}」需要填写的内容。`);
    if (f.source === 'derived' && value !== f.value) {
      throw fieldError(key, `「${label}」由系统确定为“${f.value}”，不能修改。`);
    }
    if (f.source === 'profile' && !EDITABLE_PROFILE_FIELDS.has(key) && value !== profileValue(key, sources)) {
      throw fieldError(key, `「${label}」由共享数据自动填写，不能修改；如信息有误，请联系相关部门更正。`);
    }
    if (f.options && !f.options.includes(value)) {
      throw fieldError(key, `「${label}」只能选择：${f.options.join('、')}。`);
    }
    if (key === 'bank_account' && !/^\d{12,30}$/.test(value.replace(/[\s-]/g, ''))) {
      throw fieldError(key, `「${label}」格式不正确，请填写12至30位数字的银行卡号。`);
    }
    if (key === 'mailing_address' && value.length < 6) {
      throw fieldError(key, `「${label}」过短，请填写完整的邮寄地址（区、街道、门牌号）。`);
    }
  }
  if (!complete) return;
  const merged = mergedValues(fields, given, sources);
  for (const f of fields) {
    const applies = fieldApplies(f, merged);
    if (!applies && f.source === 'ask' && given[f.key] !== undefined) {
      throw fieldError(f.key, `「${f.label}」仅在${describeCondition(f, fields)}时填写，请去掉该项或修改相应选项。`);
    }
  }
  const missing = openFields(fields, given, sources);
  if (missing.length) {
    const labels = missing.map((k) => `「${byKey.get(k)?.label ?? k}」`).join('、');
    throw new AppError('missing_fields', 400, `请先填写${labels}。`, { fields: missing });
  }
}

function describeCondition(f: ServiceField, fields: ServiceField[]): string {
  const m = /^\s*([a-z_]+)\s*==\s*(.+?)\s*$/.exec(f.when ?? '');
  if (!m) return '特定情形';
  const label = fields.find((x) => x.key === m[1])?.label ?? m[1];
  return `「${label}」为“${m[2]}”`;
}

/** Every value known for the form: shared data, fixed values, then what the citizen gave. */
function mergedValues(fields: ServiceField[], given: Values, sources: ProfileSources): Values {
  const out: Values = {};
  for (const f of fields) {
    const v = valueOf(f, given, sources);
    if (v !== null) out[f.key] = v;
  }
  return out;
}

function valueOf(f: ServiceField, given: Values, sources: ProfileSources): string | null {
  if (f.source === 'derived') return f.value ?? null;
  if (f.source === 'profile') {
    if (EDITABLE_PROFILE_FIELDS.has(f.key) && given[f.key] !== undefined) return given[f.key]!;
    return profileValue(f.key, sources);
  }
  return given[f.key] ?? null;
}

/** Fields that apply and are still open: `ask` fields, and editable profile fields with nothing on file. */
export function openFields(fields: ServiceField[], given: Values, sources: ProfileSources): string[] {
  const merged = mergedValues(fields, given, sources);
  return fields
    .filter((f) => fieldApplies(f, merged))
    .filter((f) => merged[f.key] === undefined && (f.source === 'ask' || EDITABLE_PROFILE_FIELDS.has(f.key)))
    .map((f) => f.key);
}

export function buildPrefill(service: Service, given: Values, sources: ProfileSources, eligibility: Eligibility): Prefill {
  const fields = service.fields ?? [];
  const merged = mergedValues(fields, given, sources);
  const out: PrefilledField[] = fields.map((f) => {
    const value = merged[f.key] ?? null;
    return {
      key: f.key,
      label: f.label,
      source: f.source,
      value,
      display: displayValue(f.key, value),
      ...(f.options ? { options: f.options } : {}),
      applies: fieldApplies(f, merged),
      editable: f.source === 'profile' && EDITABLE_PROFILE_FIELDS.has(f.key),
    };
  });
  return { serviceId: service.id, serviceName: service.name, fields: out, missing: openFields(fields, given, sources), eligibility };
}

/** The values stored with an application: every applicable field that has a value. */
export function applicationValues(service: Service, given: Values, sources: ProfileSources): Values {
  const fields = service.fields ?? [];
  const merged = mergedValues(fields, given, sources);
  const out: Values = {};
  for (const f of fields) if (fieldApplies(f, merged) && merged[f.key] !== undefined) out[f.key] = merged[f.key]!;
  return out;
}
