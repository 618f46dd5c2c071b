/**
 * Dataset formats of shared/spec/EVAL.md, read from any path. Every line is validated with
 * zod: a line that does not parse is a `DatasetError` naming the file and the line (the run
 * cannot go on); an item that parses but names an unknown service or citizen is a
 * `DatasetWarning` and the item is skipped (the run goes on and the report lists it).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ACTS } from '../agent/nlu/types.js';
import { catalogue, type Service } from '../knowledge/catalogue.js';
import { SECTIONS } from '../knowledge/guides.js';

// ------------------------------------------------------------------ errors and warnings

/** A dataset that cannot be used: unreadable file or a line that does not parse. */
export class DatasetError extends Error {
  constructor(
    readonly file: string,
    /** 1-based line number, or null when the whole file is the problem. */
    readonly line: number | null,
    readonly problem: string,
  ) {
    super(line === null ? `${file}: ${problem}` : `${file} line ${line}: ${problem}`);
    this.name = 'DatasetError';
  }
}

/** An item that was skipped (or a part of it ignored), with the reason. */
export interface DatasetWarning {
  file: string;
  line: number;
  id: string | null;
  problem: string;
}

export function formatWarning(w: DatasetWarning): string {
  return `${w.file} line ${w.line}${w.id ? ` (${w.id})` : ''}: ${w.problem}`;
}

// ------------------------------------------------------------------ schemas

const id = z.union([z.string().trim().min(1), z.number()]).transform(String);
const nonEmpty = z.string().trim().min(1);
const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

export const NluItemSchema = z.looseObject({
  id,
  text: nonEmpty,
  act: z.enum(ACTS),
  service: z.string().trim().min(1).nullish().transform((v) => v ?? null),
  slots: stringMap.optional(),
});
export type NluItem = z.output<typeof NluItemSchema>;

export const OUTCOMES = ['submitted', 'handoff', 'answered', 'declined'] as const;
export type ScenarioOutcome = (typeof OUTCOMES)[number];

export const ScenarioItemSchema = z.looseObject({
  id,
  citizen: nonEmpty,
  channel: z.enum(['app', 'kiosk']).default('app'),
  opening: nonEmpty,
  goal: z.looseObject({
    service: nonEmpty,
    facts: stringMap.default({}),
    say: stringMap.default({}),
  }),
  expect: z.looseObject({
    outcome: z.enum(OUTCOMES),
    fields: stringMap.optional(),
    max_turns: z.number().int().positive().optional(),
  }),
});
export type ScenarioItem = z.output<typeof ScenarioItemSchema>;

export const RetrievalItemSchema = z.looseObject({
  id,
  question: nonEmpty,
  service: nonEmpty,
  /** The guide sections that hold the answer (optional). */
  sections: z.array(nonEmpty).min(1).optional(),
});
export type RetrievalItem = z.output<typeof RetrievalItemSchema>;

// ------------------------------------------------------------------ conversation items

/** A string or a list of strings (a list means any of / none of). */
const oneOrMany = z.union([z.string(), z.array(z.string()).min(1)]);
/** An exact value, a list (any of), or null (must be null). */
const expected = z.union([z.string(), z.null(), z.array(z.union([z.string(), z.null()])).min(1)]);
const substrings = z.union([z.string().min(1).transform((v) => [v]), z.array(z.string().min(1)).min(1)]);

/** The turn `expect` keys of shared/spec/EVAL.md, each one check. */
export const TURN_CHECKS = [
  'service', 'act', 'awaiting', 'outcome', 'card',
  'outcome_not', 'awaiting_not',
  'reply_contains_any', 'reply_contains_all', 'reply_not_contains',
] as const;
export const FINAL_CHECKS = ['outcome', 'service', 'fields', 'fields_contains', 'new_applications', 'applications', 'status_not'] as const;

export const TurnExpectSchema = z.looseObject({
  service: expected.optional(),
  act: expected.optional(),
  awaiting: expected.optional(),
  outcome: expected.optional(),
  card: expected.optional(),
  outcome_not: z.union([z.string(), z.null(), z.array(z.union([z.string(), z.null()])).min(1)]).optional(),
  awaiting_not: z.union([z.string(), z.null(), z.array(z.union([z.string(), z.null()])).min(1)]).optional(),
  reply_contains_any: substrings.optional(),
  reply_contains_all: substrings.optional(),
  reply_not_contains: substrings.optional(),
});
export type TurnExpect = z.output<typeof TurnExpectSchema>;

/** Expected stored values: exact, a list (any of), or null (absent or empty). */
const FieldExpectations = z.record(z.string(), z.union([z.string(), z.number().transform(String), z.null(), z.array(z.string()).min(1)]));
const FieldSubstrings = z.record(z.string(), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]));

export const ApplicationExpectSchema = z.looseObject({
  service: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  fields: FieldExpectations.optional(),
  fields_contains: FieldSubstrings.optional(),
});
export type ApplicationExpect = z.output<typeof ApplicationExpectSchema>;

export const FinalExpectSchema = z.looseObject({
  outcome: z.union([z.enum(OUTCOMES), z.null(), z.array(z.union([z.enum(OUTCOMES), z.null()])).min(1)]).optional(),
  service: expected.optional(),
  fields: FieldExpectations.optional(),
  fields_contains: FieldSubstrings.optional(),
  new_applications: z.number().int().min(0).optional(),
  applications: z.array(ApplicationExpectSchema).optional(),
  status_not: oneOrMany.optional(),
});
export type FinalExpect = z.output<typeof FinalExpectSchema>;

export const ConversationItemSchema = z.looseObject({
  id,
  /** A sandbox citizen id, or null for someone not logged in. */
  citizen: z.string().trim().min(1).nullable(),
  channel: z.enum(['app', 'kiosk']).default('app'),
  turns: z.array(z.looseObject({ say: nonEmpty, expect: TurnExpectSchema.default({}) })).min(1),
  final: FinalExpectSchema.default({}),
  /** Extras: what the item covers (tags), its kind (consent sets: "control" or an attack kind), language, service. */
  covers: z.array(z.string()).optional(),
  kind: z.string().optional(),
  lang: z.string().optional(),
  service: z.string().optional(),
  note: z.string().optional(),
});
export type ConversationItem = z.output<typeof ConversationItemSchema>;

// ------------------------------------------------------------------ reading

export interface Lined<T> {
  line: number;
  item: T;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.length ? i.path.join('.') : '(line)';
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

/**
 * Parses a JSONL file with `schema`. Blank lines are ignored. Throws a DatasetError naming
 * the file and line for the first line that is not JSON or does not fit the schema.
 */
export function readJsonl<S extends z.ZodType>(file: string, schema: S): Lined<z.output<S>>[] {
  if (!existsSync(file)) throw new DatasetError(file, null, 'file not found');
  if (!statSync(file).isFile()) throw new DatasetError(file, null, 'not a file');
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DatasetError(file, null, `could not be read (${(err as Error).message})`);
  }
  const out: Lined<z.output<S>>[] = [];
  const lines = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (!raw.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new DatasetError(file, line, `not valid JSON (${(err as Error).message})`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new DatasetError(file, line, describeIssues(parsed.error));
    out.push({ line, item: parsed.data });
  });
  if (out.length === 0) throw new DatasetError(file, null, 'no items (the file is empty)');
  return out;
}

// ------------------------------------------------------------------ reference data

export interface ReferenceData {
  services: Map<string, Service>;
  citizens: Set<string>;
}

export const CITIZENS_PATH = fileURLToPath(new URL('../tools/citizens.json', import.meta.url));

const CitizensFileSchema = z.looseObject({ citizens: z.array(z.looseObject({ id: z.string() })) });

export function loadReferenceData(): ReferenceData {
  const services = new Map(catalogue().services.map((s) => [s.id, s]));
  const parsed = CitizensFileSchema.safeParse(JSON.parse(readFileSync(CITIZENS_PATH, 'utf8')));
  if (!parsed.success) throw new Error(`${CITIZENS_PATH}: invalid citizens file`);
  return { services, citizens: new Set(parsed.data.citizens.map((c) => c.id)) };
}

// ------------------------------------------------------------------ checked loaders

export interface Loaded<T> {
  file: string;
  items: Lined<T>[];
  warnings: DatasetWarning[];
}

function duplicateIds<T extends { id: string }>(file: string, items: Lined<T>[], warnings: DatasetWarning[]): void {
  const seen = new Map<string, number>();
  for (const { line, item } of items) {
    const first = seen.get(item.id);
    if (first !== undefined) {
      warnings.push({ file, line, id: item.id, problem: `duplicate id (first used on line ${first}); item kept` });
    } else {
      seen.set(item.id, line);
    }
  }
}

export function loadNluItems(file: string, ref: ReferenceData): Loaded<NluItem> {
  const warnings: DatasetWarning[] = [];
  const items: Lined<NluItem>[] = [];
  for (const entry of readJsonl(file, NluItemSchema)) {
    const { line, item } = entry;
    if (item.service === null) {
      if (item.slots && Object.keys(item.slots).length) {
        warnings.push({ file, line, id: item.id, problem: 'slots given for an item with no service; slots ignored' });
        delete item.slots;
      }
      items.push(entry);
      continue;
    }
    const service = ref.services.get(item.service);
    if (!service) {
      warnings.push({ file, line, id: item.id, problem: `unknown service id "${item.service}"; item skipped` });
      continue;
    }
    if (item.slots) {
      const fields = new Map((service.fields ?? []).map((f) => [f.key, f]));
      for (const [key, value] of Object.entries(item.slots)) {
        const field = fields.get(key);
        if (!field) {
          warnings.push({ file, line, id: item.id, problem: `slot "${key}" is not a field of ${service.id}; slot ignored` });
          delete item.slots[key];
        } else if (field.options && !field.options.includes(value)) {
          warnings.push({
            file, line, id: item.id,
            problem: `slot ${key}="${value}" is not one of the options of ${service.id} (${field.options.join(' / ')}); kept`,
          });
        }
      }
    }
    items.push(entry);
  }
  duplicateIds(file, items, warnings);
  return { file, items, warnings };
}

export function loadScenarioItems(file: string, ref: ReferenceData): Loaded<ScenarioItem> {
  const warnings: DatasetWarning[] = [];
  const items: Lined<ScenarioItem>[] = [];
  for (const entry of readJsonl(file, ScenarioItemSchema)) {
    const { line, item } = entry;
    const problems: string[] = [];
    if (!ref.citizens.has(item.citizen)) problems.push(`unknown citizen id "${item.citizen}"`);
    const service = ref.services.get(item.goal.service);
    if (!service) problems.push(`unknown service id "${item.goal.service}"`);
    if (problems.length) {
      warnings.push({ file, line, id: item.id, problem: `${problems.join(', ')}; item skipped` });
      continue;
    }
    const keys = new Set((service?.fields ?? []).map((f) => f.key));
    const unknown = Object.keys(item.expect.fields ?? {}).filter((k) => !keys.has(k));
    if (unknown.length) {
      warnings.push({
        file, line, id: item.id,
        problem: `expect.fields ${unknown.join(', ')} not fields of ${item.goal.service}; kept (the check will fail)`,
      });
    }
    if (item.expect.fields && item.expect.outcome !== 'submitted') {
      warnings.push({ file, line, id: item.id, problem: `expect.fields only checked for outcome "submitted"; ignored` });
    }
    items.push(entry);
  }
  duplicateIds(file, items, warnings);
  return { file, items, warnings };
}

export function loadRetrievalItems(file: string, ref: ReferenceData): Loaded<RetrievalItem> {
  const warnings: DatasetWarning[] = [];
  const items: Lined<RetrievalItem>[] = [];
  const known = new Set<string>(SECTIONS);
  for (const entry of readJsonl(file, RetrievalItemSchema)) {
    const { line, item } = entry;
    if (!ref.services.has(item.service)) {
      warnings.push({ file, line, id: item.id, problem: `unknown service id "${item.service}"; item skipped` });
      continue;
    }
    const unknown = (item.sections ?? []).filter((s) => !known.has(s));
    if (unknown.length) {
      warnings.push({
        file, line, id: item.id,
        problem: `unknown section ${unknown.map((s) => `"${s}"`).join(', ')} (sections are ${SECTIONS.join(', ')}); kept (it never matches)`,
      });
    }
    items.push(entry);
  }
  duplicateIds(file, items, warnings);
  return { file, items, warnings };
}

const CARD_TYPES = ['confirm', 'choices', 'guide', 'receipt', 'handoff'];

/** Expected values of a check, without nulls (for id checks). */
const valuesOf = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');

/**
 * Conversation items (EVAL.md "Conversation items"). An unknown citizen skips the item; an
 * unknown service, card type, field or check key is reported and kept (a misspelt check
 * key would otherwise pass silently, so it is named in the warnings).
 */
export function loadConversationItems(file: string, ref: ReferenceData): Loaded<ConversationItem> {
  const warnings: DatasetWarning[] = [];
  const items: Lined<ConversationItem>[] = [];
  const turnKeys = new Set<string>(TURN_CHECKS);
  const finalKeys = new Set<string>(FINAL_CHECKS);
  for (const entry of readJsonl(file, ConversationItemSchema)) {
    const { line, item } = entry;
    const warn = (problem: string) => warnings.push({ file, line, id: item.id, problem });
    if (item.citizen !== null && !ref.citizens.has(item.citizen)) {
      warn(`unknown citizen id "${item.citizen}"; item skipped`);
      continue;
    }
    const services = new Set<string>();
    item.turns.forEach((t, i) => {
      const extra = Object.keys(t.expect).filter((k) => !turnKeys.has(k));
      if (extra.length) warn(`turn ${i + 1}: unknown expect key ${extra.map((k) => `"${k}"`).join(', ')} ignored (keys are ${TURN_CHECKS.join(', ')})`);
      for (const sv of valuesOf(t.expect.service)) services.add(sv);
      const cards = valuesOf(t.expect.card).filter((c) => !CARD_TYPES.includes(c));
      if (cards.length) warn(`turn ${i + 1}: unknown card type ${cards.map((c) => `"${c}"`).join(', ')}; kept (the check will fail)`);
    });
    const f = item.final;
    const extra = Object.keys(f).filter((k) => !finalKeys.has(k));
    if (extra.length) warn(`final: unknown key ${extra.map((k) => `"${k}"`).join(', ')} ignored (keys are ${FINAL_CHECKS.join(', ')})`);
    for (const sv of valuesOf(f.service)) services.add(sv);
    for (const a of f.applications ?? []) for (const sv of valuesOf(a.service)) services.add(sv);
    if (item.service) services.add(item.service);
    const unknown = [...services].filter((sv) => !ref.services.has(sv));
    if (unknown.length) warn(`unknown service id ${unknown.map((u) => `"${u}"`).join(', ')}; kept (the check will fail)`);
    // Stored fields named by `final` must be fields of the service expected to hold them.
    const checkFields = (service: unknown, keys: string[], where: string) => {
      const ids = valuesOf(service).filter((sv) => ref.services.has(sv));
      if (!ids.length || !keys.length) return;
      const known = new Set(ids.flatMap((sv) => (ref.services.get(sv)?.fields ?? []).map((x) => x.key)));
      const bad = keys.filter((k) => !known.has(k));
      if (bad.length) warn(`${where}: ${bad.join(', ')} not a field of ${ids.join(' / ')}; kept (the check will fail)`);
    };
    checkFields(f.service, [...Object.keys(f.fields ?? {}), ...Object.keys(f.fields_contains ?? {})], 'final.fields');
    (f.applications ?? []).forEach((a, i) =>
      checkFields(a.service, [...Object.keys(a.fields ?? {}), ...Object.keys(a.fields_contains ?? {})], `final.applications[${i}]`));
    if (item.citizen === null && ((f.new_applications ?? 0) > 0 || f.outcome === 'submitted')) {
      warn('an anonymous conversation (citizen null) cannot submit; kept (the check will fail)');
    }
    items.push(entry);
  }
  duplicateIds(file, items, warnings);
  return { file, items, warnings };
}

// ------------------------------------------------------------------ defaults

const dataFile = (name: string): string => fileURLToPath(new URL(`./data/${name}`, import.meta.url));

/** The project's own sets (evals/data). */
export const DEFAULT_SETS = {
  nlu: dataFile('nlu.test.jsonl'),
  scenarios: dataFile('scenarios.jsonl'),
  conversations: dataFile('conversations.test.jsonl'),
  consent: dataFile('consent.jsonl'),
  retrieval: dataFile('retrieval.jsonl'),
  injection: dataFile('injection.jsonl'),
  attacks: dataFile('attacks.jsonl'),
} as const;
