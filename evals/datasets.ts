/**
 * Dataset formats of shared/spec/EVAL.md, read from any path. Every line is validated with
 * zod: a line that does not parse is a `DatasetError` naming the file and the line (the run
 * cannot go on); an item that parses but names an unknown service or citizen is a
 * `DatasetWarning` and the item is skipped (the run goes on and the report lists it).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadCatalogue, type Service } from '../core/catalogue.js';
import { ACTS } from '../agent/nlu/types.js';

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
});
export type RetrievalItem = z.output<typeof RetrievalItemSchema>;

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
  const services = new Map(loadCatalogue().map((s) => [s.id, s]));
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
  for (const entry of readJsonl(file, RetrievalItemSchema)) {
    if (!ref.services.has(entry.item.service)) {
      warnings.push({
        file, line: entry.line, id: entry.item.id, problem: `unknown service id "${entry.item.service}"; item skipped`,
      });
      continue;
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
  retrieval: dataFile('retrieval.jsonl'),
} as const;
