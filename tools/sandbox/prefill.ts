import { askedFields, fieldApplies, notEditableMessage, type Service, type ServiceField } from '../../knowledge/catalogue.js';
import { AppError, badRequest } from '../../core/errors.js';
import { maskBankAccount, maskIdNumber, maskPhone } from '../../core/mask.js';
import type { Eligibility, Prefill, PrefilledField } from '../contract.js';
import type { Facts } from './facts.js';
import { isValidIdNumber } from './id-number.js';

/**
 * Pre-filling and validating an application form (两个免于提交), all from the catalogue:
 * `profile` fields come from the citizen fact (or e-licence) named by `from`, and are never
 * asked; `derived` fields have a fixed value; `ask` fields are open until the citizen gives
 * them; `editable` profile fields may be replaced, checked by their `validate` rules. Pure
 * functions over the citizen's facts.
 */
export type Values = Record<string, string>;

export const PHOTO_DISPLAY = '居民身份证电子证照照片';

export interface ProfileSources {
  facts: Facts;
  /** E-licence ids by name, for fields filled `from: "licence:<name>"`. */
  licences: ReadonlyMap<string, string>;
}

export function profileValue(field: ServiceField, s: ProfileSources): string | null {
  const from = field.from ?? field.key;
  if (from.startsWith('licence:')) {
    const id = s.licences.get(from.slice('licence:'.length));
    return id ? `e-licence:${id}` : null;
  }
  const v = s.facts[from];
  return v === null || v === undefined || v === '' ? null : String(v);
}

/** What a citizen or staff member is shown for a value: identifiers masked as the field says. */
export function displayValue(field: Pick<ServiceField, 'mask' | 'from'> | undefined, value: string | null): string | null {
  if (value === null) return null;
  // An e-licence reused (免于提交) is shown by its name, never by the registry's internal id.
  if (field?.from?.startsWith('licence:') && value.startsWith('e-licence:') && field.mask !== 'licence_photo') {
    return `${field.from.slice('licence:'.length)}电子证照（已关联）`;
  }
  switch (field?.mask) {
    case 'id_number': return maskIdNumber(value);
    case 'phone': return maskPhone(value);
    case 'bank_account': return maskBankAccount(value);
    case 'licence_photo': return PHOTO_DISPLAY;
    default: return value;
  }
}

/** A stored application's values as shown: each masked per its field (unknown keys as they are). */
export function displayFields(service: Service | undefined, values: Values): Values {
  const byKey = new Map((service?.fields ?? []).map((f) => [f.key, f]));
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, displayValue(byKey.get(k), v) ?? '']));
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

export function isEditable(f: ServiceField): boolean {
  return f.source === 'profile' && f.editable === true;
}

/** A value with the field's `strip` characters removed (the stored form of an account number). */
export function normalizedValue(f: ServiceField, value: string): string {
  const strip = f.validate?.strip;
  return strip ? [...value].filter((ch) => !strip.includes(ch)).join('') : value;
}

/** The field's own check of a value it may take (editable or free text); null when it passes. */
export function validationProblem(f: ServiceField, value: string): string | null {
  const v = f.validate;
  if (!v) return null;
  const n = normalizedValue(f, value);
  const bad =
    (v.min_length !== undefined && n.length < v.min_length) ||
    (v.max_length !== undefined && n.length > v.max_length) ||
    (v.pattern !== undefined && !new RegExp(v.pattern, 'u').test(n));
  return bad ? v.message.replaceAll('{label}', f.label) : null;
}


/**
 * Checks the values a citizen gave: known fields only, option values, shared-data fields
 * unchanged, editable and free-text fields by their rules. With `complete`, also that every
 * applicable field is filled and no value is given for a field that does not apply. Throws
 * an AppError naming the field's label. Returns the values as they are stored.
 */
export function validateValues(service: Service, given: Values, sources: ProfileSources, complete: boolean): Values {
  const fields = service.fields ?? [];
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const out: Values = {};
  for (const [key, value] of Object.entries(given)) {
    const f = byKey.get(key);
    if (!f) throw fieldError(key, `「${key}」不是「${service.name}」需要填写的内容。`);
    if (f.mask === 'id_number' && !isValidIdNumber(value)) {
      throw fieldError(key, `「${f.label}」不是有效的公民身份号码，请核对后重新填写。`);
    }
    if (f.source === 'derived' && value !== f.value) {
      throw fieldError(key, `「${f.label}」由系统确定为“${f.value}”，不能修改。`);
    }
    if (f.source === 'profile' && !isEditable(f) && value !== profileValue(f, sources)) {
      throw fieldError(key, notEditableMessage(f));
    }
    if (f.options && !f.options.includes(value)) {
      throw fieldError(key, `「${f.label}」只能选择：${f.options.join('、')}。`);
    }
    if (isEditable(f) || f.source === 'ask') {
      const problem = validationProblem(f, value);
      if (problem) throw fieldError(key, problem);
    }
    out[key] = isEditable(f) || f.source === 'ask' ? normalizedValue(f, value) : value;
  }
  if (!complete) return out;
  const merged = mergedValues(fields, out, sources);
  for (const f of fields) {
    if (!fieldApplies(f, merged) && f.source === 'ask' && out[f.key] !== undefined) {
      throw fieldError(f.key, `「${f.label}」仅在${describeCondition(f, fields)}时填写，请去掉该项或修改相应选项。`);
    }
  }
  const missing = openFields(fields, out, sources);
  if (missing.length) {
    const labels = missing.map((k) => `「${byKey.get(k)?.label ?? k}」`).join('、');
    throw new AppError('missing_fields', 400, `请先填写${labels}。`, { fields: missing });
  }
  return out;
}

function describeCondition(f: ServiceField, fields: ServiceField[]): string {
  const m = typeof f.when === 'string' ? /^\s*([a-z_]+)\s*==\s*(.+?)\s*$/.exec(f.when) : null;
  if (!m) return '特定情形';
  const label = fields.find((x) => x.key === m[1])?.label ?? m[1];
  return `「${label}」为“${m[2]}”`;
}

/** Every value known for the form: shared data, fixed values, then what the citizen gave. */
function mergedValues(fields: readonly ServiceField[], given: Values, sources: ProfileSources): Values {
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
    if (isEditable(f) && given[f.key] !== undefined) return given[f.key]!;
    return profileValue(f, sources);
  }
  return given[f.key] ?? null;
}

/** Fields that apply and are still open: asked fields, and editable profile fields with nothing on file. */
export function openFields(fields: readonly ServiceField[], given: Values, sources: ProfileSources): string[] {
  const merged = mergedValues(fields, given, sources);
  const asked = new Set(askedFields({ fields } as Service).map((f) => f.key));
  return fields
    .filter((f) => fieldApplies(f, merged))
    .filter((f) => merged[f.key] === undefined && (asked.has(f.key) || isEditable(f)))
    .map((f) => f.key);
}

export function buildPrefill(service: Service, given: Values, sources: ProfileSources, eligibility: Eligibility): Omit<Prefill, 'department' | 'repeat'> {
  const fields = service.fields ?? [];
  const merged = mergedValues(fields, given, sources);
  const out: PrefilledField[] = fields.map((f) => {
    const value = merged[f.key] ?? null;
    const display = displayValue(f, value);
    return {
      key: f.key,
      label: f.label,
      source: f.source,
      // An identifier leaves the service API masked, as everywhere else (the raw value stays here).
      value: f.mask ? display : value,
      display,
      ...(f.options ? { options: f.options } : {}),
      ...(f.suggestions ? { suggestions: f.suggestions } : {}),
      applies: fieldApplies(f, merged),
      editable: isEditable(f),
      ...(f.optional ? { optional: true } : {}),
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
