import { z } from 'zod';

/**
 * The one condition language of the catalogue: field applicability (`when`), eligibility
 * rules, review routing, conditional status messages, offers and bundle members all use it.
 *
 * Two spellings of the same thing:
 *  - a string `"<name> <op> <value>"`, as in shared/spec/services.json (`"purpose == 出国(境)"`);
 *  - an object `{ "fact": "age", "op": ">=", "value": 65 }`, combined with `all` / `any` / `not`.
 *
 * A condition names either a citizen fact (`fact`, from shared data) or a form field (`field`,
 * a value of the application); the string form names a field. Evaluation is pure: the caller
 * supplies a lookup for facts and one for fields.
 */
export const OPS = ['==', '!=', '>=', '<=', '>', '<', 'in', 'present', 'absent', 'within_days'] as const;
export type Op = (typeof OPS)[number];

export type Scalar = string | number | boolean;

export interface Leaf {
  fact?: string;
  field?: string;
  op: Op;
  value?: Scalar | Scalar[];
}
export type Condition = string | Leaf | { all: Condition[] } | { any: Condition[] } | { not: Condition };

const ScalarSchema = z.union([z.string(), z.number(), z.boolean()]);
const LeafSchema = z
  .object({
    fact: z.string().regex(/^[a-z_][a-z0-9_]*$/).optional(),
    field: z.string().regex(/^[a-z_][a-z0-9_]*$/).optional(),
    op: z.enum(OPS),
    value: z.union([ScalarSchema, z.array(ScalarSchema)]).optional(),
  })
  .strict()
  .refine((l) => (l.fact === undefined) !== (l.field === undefined), 'a condition names exactly one of "fact" or "field"')
  .refine((l) => l.op === 'present' || l.op === 'absent' || l.value !== undefined, 'this operator needs a "value"');

export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.string().min(3),
    LeafSchema,
    z.object({ all: z.array(ConditionSchema).min(1) }).strict(),
    z.object({ any: z.array(ConditionSchema).min(1) }).strict(),
    z.object({ not: ConditionSchema }).strict(),
  ]),
);

const STRING_FORM = /^\s*([a-z_][a-z0-9_]*)\s*(==|!=|>=|<=|>|<)\s*(.+?)\s*$/;

/** The object form of a condition (a string is parsed; it names a field). */
export function normalize(c: Condition): Exclude<Condition, string> {
  if (typeof c !== 'string') return c;
  const m = STRING_FORM.exec(c);
  if (!m) throw new Error(`Unsupported condition: "${c}" (expected "<field> <op> <value>")`);
  const raw = m[3]!;
  const value: Scalar = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
  return { field: m[1]!, op: m[2] as Op, value };
}

export type Value = Scalar | null | undefined;

export interface Scope {
  /** A citizen fact by name (undefined when the fact is unknown). */
  fact(name: string): Value;
  /** A form field's value. */
  field(key: string): Value;
  /** Today, for `within_days`. */
  today?: Date;
}

/** Evaluates a condition. Unknown or missing values fail every comparison but `absent` / `!=`. */
export function holds(c: Condition, scope: Scope): boolean {
  const n = normalize(c);
  if ('all' in n) return n.all.every((x) => holds(x, scope));
  if ('any' in n) return n.any.some((x) => holds(x, scope));
  if ('not' in n) return !holds(n.not, scope);
  const v = n.fact !== undefined ? scope.fact(n.fact) : scope.field(n.field!);
  return compare(v, n.op, n.value, scope.today ?? new Date());
}

function compare(v: Value, op: Op, want: Scalar | Scalar[] | undefined, today: Date): boolean {
  const present = v !== null && v !== undefined && v !== '';
  switch (op) {
    case 'present': return present;
    case 'absent': return !present;
    case '==': return present && String(v) === String(want);
    case '!=': return !present || String(v) !== String(want);
    case 'in': return present && (Array.isArray(want) ? want : [want]).some((w) => String(w) === String(v));
    case 'within_days': {
      if (!present || typeof v !== 'string') return false;
      const days = daysBetween(v, today);
      return days !== null && days >= 0 && days <= Number(want);
    }
    default: {
      if (!present) return false;
      const a = Number(v);
      const b = Number(want);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return op === '>=' ? a >= b : op === '<=' ? a <= b : op === '>' ? a > b : a < b;
    }
  }
}

/** Whole days from a `YYYY-MM-DD` date to `today` (negative when in the future); null when not a date. */
export function daysBetween(date: string, today: Date): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const then = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const now = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  return Math.round((now - then) / 86_400_000);
}

/** Every fact and field a condition names (for the catalogue check). */
export function namesIn(c: Condition): { facts: string[]; fields: string[] } {
  const facts: string[] = [];
  const fields: string[] = [];
  const walk = (x: Condition): void => {
    const n = normalize(x);
    if ('all' in n) n.all.forEach(walk);
    else if ('any' in n) n.any.forEach(walk);
    else if ('not' in n) walk(n.not);
    else if (n.fact !== undefined) facts.push(n.fact);
    else fields.push(n.field!);
  };
  walk(c);
  return { facts, fields };
}

/** The first leaf of a condition that fails, for explaining a decline; null when it holds. */
export function firstFailing(c: Condition, scope: Scope): Leaf | null {
  const n = normalize(c);
  if ('all' in n) {
    for (const x of n.all) {
      const f = firstFailing(x, scope);
      if (f) return f;
    }
    return null;
  }
  if ('any' in n || 'not' in n) return holds(n, scope) ? null : ({ op: '==', fact: '_compound' } as Leaf);
  return holds(n, scope) ? null : n;
}
