/**
 * Slot extraction from lexicons (lexicon/slots.yaml) for the 'ask' fields of a service.
 *
 * Matching is on normalised text, longest phrase first, Latin phrases only at word boundaries.
 * Negated phrases are dropped or mapped to their `negated` value; when a field gets several
 * values the last one said wins (corrections come last). Weak phrases ("其他", "别的") are
 * reported apart: whether they count (only as the answer to that very field) is the dialogue
 * policy's decision. Nothing is ever filled by default: no match, no value.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { basicClean } from './normalize.js';
import {
  readDataFile,
  resolvePaths,
  text,
  textList,
  type CatalogueField,
  type CatalogueService,
  type DataPaths,
} from './training-data.js';

const valueSchema = z.object({
  value: text,
  patterns: textList,
  cased: textList,
  weak: textList,
  negated: text.optional(),
});

const fieldLexSchema = z.object({
  values: z.array(valueSchema).default([]),
  implies: z.object({ field: z.string(), value: text, over: textList }).optional(),
  /** Values that stand for "something else, in my words": the citizen's words are kept as a note. */
  describes: z.array(text).default([]),
  /** A free answer is taken as the value when it matches this pattern (unicode regex). */
  free_text: z.string().optional(),
  /**
   * Shapes of an answer that describes a value outside the list in the citizen's own words
   * ("租房子房东要看", "给居委会的"): unicode regexes; a match with no phrase of the field gives
   * the first `describes` value, as an answer to that very field, the words kept as the note.
   */
  describe_frames: z.array(z.string()).default([]),
  /**
   * A number said with a unit ("六十个座位左右", "8平方米") read into the option of its range;
   * Chinese numerals are read too.
   */
  numeric: z.object({
    units: textList,
    ranges: z.array(z.object({ min: z.number().optional(), max: z.number().optional(), value: text }).strict()).min(1),
  }).strict().optional(),
}).strict();

const slotsSchema = z.object({
  negation: z
    .object({ window: z.number().int().min(0).default(4), negators: textList, ignore: textList })
    .default({ window: 4, negators: [], ignore: [] }),
  fields: z.record(z.string(), fieldLexSchema).default({}),
});
export type SlotsData = z.output<typeof slotsSchema>;

export function slotsFile(paths: DataPaths = {}): string {
  return join(resolvePaths(paths).nluDataDir, 'slots.yaml');
}

export function loadSlotsData(paths: DataPaths = {}): SlotsData {
  return readDataFile(slotsFile(paths), slotsSchema);
}

interface Pattern {
  text: string;
  value: string;
  weak: boolean;
  cased: boolean;
  latin: boolean;
}

interface FieldLexicon {
  key: string;
  patterns: Pattern[];
  negatedOf: Map<string, string>;
  implies?: { field: string; value: string; over: Set<string> };
  describes: Set<string>;
  freeText?: RegExp;
  frames: RegExp[];
  numeric?: { unit: RegExp; ranges: { min?: number; max?: number; value: string }[] };
}

export interface SlotLexicon {
  fields: Map<string, FieldLexicon>;
  negators: string[];
  negationIgnore: string[];
  window: number;
}

const prep = (s: string): string => basicClean(s).toLowerCase();
const hasLatin = (s: string): boolean => /[a-z0-9]/i.test(s);
const isWordChar = (ch: string | undefined): boolean => ch !== undefined && /[a-z0-9]/i.test(ch);

/**
 * Compile the lexicon. With a catalogue, it is checked against it (every lexicon value of a
 * field with options must be one of them) and every option string becomes a pattern of itself,
 * so an 'ask' field without a lexicon entry still matches its canonical options.
 */
export function compileSlotLexicon(data: SlotsData, catalogue: CatalogueService[] = [], file = 'slots.yaml'): SlotLexicon {
  const fields = new Map<string, FieldLexicon>();
  const optionsOf = new Map<string, Set<string>>();
  for (const svc of catalogue) {
    for (const f of svc.fields) {
      if (f.source !== 'ask' || !f.options) continue;
      const set = optionsOf.get(f.key) ?? new Set<string>();
      for (const o of f.options) set.add(o);
      optionsOf.set(f.key, set);
    }
  }
  const keys = new Set([...Object.keys(data.fields), ...optionsOf.keys()]);
  for (const key of keys) {
    const lex = data.fields[key];
    const options = optionsOf.get(key);
    const patterns: Pattern[] = [];
    const negatedOf = new Map<string, string>();
    const push = (p: string, value: string, weak: boolean, cased: boolean): void => {
      const t = cased ? basicClean(p) : prep(p);
      if (t) patterns.push({ text: t, value, weak, cased, latin: hasLatin(t) });
    };
    for (const v of lex?.values ?? []) {
      for (const candidate of [v.value, v.negated]) {
        if (candidate !== undefined && options && !options.has(candidate)) {
          throw new Error(
            `NLU data file ${file} is invalid: field '${key}' value '${candidate}' is not an option of the catalogue (${[...options].join(' / ')})`,
          );
        }
      }
      for (const p of v.patterns) push(p, v.value, false, false);
      for (const p of v.weak) push(p, v.value, true, false);
      for (const p of v.cased) push(p, v.value, false, true);
      if (v.negated) negatedOf.set(v.value, v.negated);
    }
    for (const o of options ?? []) push(o, o, false, false);
    patterns.sort((a, b) => b.text.length - a.text.length);
    const frames = (lex?.describe_frames ?? []).map((f) => new RegExp(f, 'u'));
    if (frames.length && !lex?.describes.length) throw new Error(`NLU data file ${file} is invalid: field '${key}' has describe_frames but no describes value`);
    const entry: FieldLexicon = { key, patterns, negatedOf, describes: new Set(lex?.describes ?? []), frames };
    if (lex?.free_text) entry.freeText = new RegExp(lex.free_text, 'u');
    if (lex?.implies) entry.implies = { field: lex.implies.field, value: lex.implies.value, over: new Set(lex.implies.over) };
    if (lex?.numeric) {
      for (const r of lex.numeric.ranges) {
        if (options && !options.has(r.value)) throw new Error(`NLU data file ${file} is invalid: field '${key}' numeric value '${r.value}' is not an option of the catalogue`);
      }
      const units = [...lex.numeric.units].map(prep).sort((a, b) => b.length - a.length).map(escapeRe).join('|');
      entry.numeric = { unit: new RegExp(`(\\d+(?:\\.\\d+)?|[零〇一二两三四五六七八九十百千]+)\\s*(?:${units})`, 'u'), ranges: lex.numeric.ranges };
    }
    fields.set(key, entry);
  }
  return {
    fields,
    negators: data.negation.negators.map(prep).sort((a, b) => b.length - a.length),
    negationIgnore: data.negation.ignore.map(prep),
    window: data.negation.window,
  };
}

export interface SlotRequest {
  /** Normalised (case-folded) text; spans already attributed to a service name may be masked. */
  text: string;
  /** The same text before case folding (same length), for case-sensitive patterns. */
  cased?: string;
  /** The 'ask' fields of the service in question. */
  fields: CatalogueField[];
}

export interface SlotMatches {
  /** Values said outright. */
  strong: Record<string, string>;
  /** Values only a weak phrase gave ("其他"): an answer only to that very field. */
  weak: Record<string, string>;
  /** Fields whose weak value is a description in the citizen's words (keep them as the note). */
  described?: string[];
}

interface Hit {
  start: number;
  end: number;
  value: string;
  weak: boolean;
}

function findAll(haystack: string, p: Pattern, out: Hit[]): void {
  let from = 0;
  for (;;) {
    const i = haystack.indexOf(p.text, from);
    if (i < 0) return;
    from = i + 1;
    if (p.latin) {
      const before = haystack[i - 1];
      const after = haystack[i + p.text.length];
      if ((isWordChar(p.text[0]) && isWordChar(before)) || (isWordChar(p.text[p.text.length - 1]) && isWordChar(after))) continue;
    }
    out.push({ start: i, end: i + p.text.length, value: p.value, weak: p.weak });
  }
}

/**
 * Is the phrase starting at `start` negated within its clause? A negator's scope ends at the
 * first phrase after it: in "别寄了我自己去取" 别 negates 寄, not 自己去取.
 */
function isNegated(lex: SlotLexicon, s: string, start: number, others: readonly Hit[] = []): boolean {
  const clauseStart = Math.max(s.lastIndexOf(',', start - 1), s.lastIndexOf('?', start - 1)) + 1;
  const from = Math.max(clauseStart, start - lex.window - 3);
  let prefix = s.slice(from, start);
  for (const ig of lex.negationIgnore) prefix = prefix.split(ig).join(' '.repeat(ig.length));
  for (const n of lex.negators) {
    let idx = prefix.lastIndexOf(n);
    while (idx >= 0) {
      const distance = prefix.length - (idx + n.length);
      const latinBoundaryOk = !hasLatin(n) || (!isWordChar(prefix[idx - 1]) && !isWordChar(prefix[idx + n.length]));
      const at = from + idx + n.length;
      const shielded = others.some((o) => o.start >= at && o.end <= start);
      if (distance <= lex.window && latinBoundaryOk && !shielded) return true;
      idx = idx > 0 ? prefix.lastIndexOf(n, idx - 1) : -1;
    }
  }
  return false;
}

/** The last value said (corrections come last), negation applied, from the given hits. */
function chooseValue(lex: SlotLexicon, fl: FieldLexicon, s: string, hits: Hit[], all: readonly Hit[] = hits): string | undefined {
  // Longest match first, then leftmost; no overlaps.
  hits.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start);
  const taken: Hit[] = [];
  for (const h of hits) {
    if (taken.some((t) => h.start < t.end && t.start < h.end)) continue;
    taken.push(h);
  }
  taken.sort((a, b) => a.start - b.start);
  let chosen: string | undefined;
  for (const h of taken) {
    if (isNegated(lex, s, h.start, all)) {
      const mapped = fl.negatedOf.get(h.value);
      if (mapped !== undefined) chosen = mapped;
    } else chosen = h.value;
  }
  return chosen;
}

/** Extract canonical values for the given 'ask' fields. */
export function extractSlots(lex: SlotLexicon, req: SlotRequest): SlotMatches {
  const strong: Record<string, string> = {};
  const weak: Record<string, string> = {};
  const described: string[] = [];
  const s = req.text;
  const cased = req.cased !== undefined && req.cased.length === s.length ? req.cased : undefined;
  const wanted = new Set(req.fields.map((f) => f.key));

  for (const field of req.fields) {
    const fl = lex.fields.get(field.key);
    if (!fl) continue;
    const hits: Hit[] = [];
    for (const p of fl.patterns) {
      if (p.cased) {
        if (cased) findAll(cased, p, hits);
      } else findAll(s, p, hits);
    }
    const said = chooseValue(lex, fl, s, hits.filter((h) => !h.weak), hits) ?? numericValue(fl, s);
    if (said !== undefined) {
      strong[field.key] = said;
      continue;
    }
    const hinted = chooseValue(lex, fl, s, hits);
    if (hinted !== undefined) weak[field.key] = hinted;
    else if (!hits.length && fl.frames.some((f) => f.test(s.trim()))) {
      weak[field.key] = [...fl.describes][0]!;
      described.push(field.key);
    }
  }

  // Implications (destination -> purpose 出国(境)), only towards fields of this service.
  for (const key of Object.keys(strong)) {
    const imp = lex.fields.get(key)?.implies;
    if (!imp || !wanted.has(imp.field)) continue;
    const current = strong[imp.field];
    if (current === undefined || imp.over.has(current)) strong[imp.field] = imp.value;
  }
  return { strong, weak, described };
}

/** "六十个座位" -> the option of the range 60 falls in. */
function numericValue(fl: FieldLexicon, s: string): string | undefined {
  const m = fl.numeric?.unit.exec(s);
  if (!m) return undefined;
  const n = /^\d/.test(m[1]!) ? Number(m[1]) : chineseNumber(m[1]!);
  if (n === null || !Number.isFinite(n)) return undefined;
  return fl.numeric!.ranges.find((r) => (r.min === undefined || n >= r.min) && (r.max === undefined || n <= r.max))?.value;
}

const DIGIT: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const UNIT: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };

/** 六十 -> 60, 一百二十 -> 120, 十五 -> 15, 二十几 -> 20 (up to the thousands). */
export function chineseNumber(t: string): number | null {
  let total = 0;
  let digit: number | null = null;
  for (const ch of t) {
    if (ch in DIGIT) digit = DIGIT[ch]!;
    else if (ch in UNIT) {
      total += (digit ?? 1) * UNIT[ch]!;
      digit = null;
    } else return null;
  }
  return total + (digit ?? 0);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Convenience: the 'ask' fields of a catalogue service. */
export function askFieldsOf(service: CatalogueService | undefined): CatalogueField[] {
  return service ? service.fields.filter((f) => f.source === 'ask') : [];
}

/** Whether `value` of `field` stands for "something else" (its meaning then kept in the citizen's words). */
export function describesOther(lex: SlotLexicon, field: string, value: string): boolean {
  return lex.fields.get(field)?.describes.has(value) ?? false;
}

/**
 * A free answer for a field without a matching phrase: the answer itself when it reads like a
 * value of it — by the field's `free_text` pattern when it has one; a field the lexicon has
 * phrases for but no pattern takes no free answer; a field the lexicon does not know takes any.
 */
export function freeTextValue(lex: SlotLexicon, field: string, answer: string): string | undefined {
  const t = answer.trim();
  if (!t) return undefined;
  const fl = lex.fields.get(field);
  if (!fl) return t;
  if (fl.freeText) return fl.freeText.test(t) ? t : undefined;
  return fl.patterns.length ? undefined : t;
}
