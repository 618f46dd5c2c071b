import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { normalizeText } from './text.js';

/**
 * How citizens say things -> how the guides say them (knowledge/synonyms.yaml): dialect,
 * particles and colloquial spellings rewritten in place (`rewrite`), and topic words whose
 * guide wording is added after the question (`expand`). Data, not code.
 */

export const SYNONYMS_PATH = fileURLToPath(new URL('./synonyms.yaml', import.meta.url));

const Words = z.array(z.union([z.string(), z.number()]).transform(String));
const SynonymsSchema = z.object({
  replace: z.record(z.string(), Words).default({}),
  expand: z.record(z.string(), Words).default({}),
});

interface Replacement {
  from: string;
  to: string;
  /** Only at the end of a clause ("伐" as a question particle). */
  final: boolean;
}

export interface Synonyms {
  /** Longest variant first. */
  replace: Replacement[];
  /** Key terms added when any of the words occurs. */
  expand: { terms: string[]; words: string[] }[];
}

export const NO_SYNONYMS: Synonyms = { replace: [], expand: [] };

/** Where a clause ends: punctuation, a space, or the end of the text. */
const CLAUSE_END = /[\s，,。.？?！!；;、~～…]/u;

export function loadSynonyms(path = SYNONYMS_PATH): Synonyms {
  const parsed = SynonymsSchema.safeParse(parseYaml(readFileSync(path, 'utf8')) ?? {});
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const replace: Replacement[] = [];
  const variants = new Set<string>();
  for (const [to, ws] of Object.entries(parsed.data.replace)) {
    const target = normalizeText(to);
    for (const w of ws) {
      const final = w.endsWith('$');
      const from = normalizeText(final ? w.slice(0, -1) : w);
      if (!from || from === target) continue;
      if (variants.has(from)) throw new Error(`${path}: replace: '${from}' is listed twice`);
      variants.add(from);
      replace.push({ from, to: target, final });
    }
  }
  // A rewritten word must never be rewritten again: rewriting is idempotent.
  for (const r of replace) {
    if (replace.some((o) => r.to.includes(o.from))) {
      throw new Error(`${path}: replace: '${r.to}' (for '${r.from}') contains a variant itself`);
    }
  }
  replace.sort((a, b) => b.from.length - a.from.length);
  const expand = Object.entries(parsed.data.expand).map(([key, ws]) => ({
    terms: key.split(/\s+/).map(normalizeText).filter(Boolean),
    words: [...new Set(ws.map(normalizeText).filter(Boolean))].sort((a, b) => b.length - a.length),
  }));
  for (const g of expand) if (!g.terms.length) throw new Error(`${path}: expand: a group without key terms`);
  return { replace, expand };
}

/**
 * Normalises a text and rewrites dialect and colloquial spellings in place, longest variant
 * first, left to right ("阿拉姆妈好拿几钿伐" -> "我们姆妈能拿多少钱吗"). Idempotent.
 */
export function rewriteText(text: string, syn: Synonyms): string {
  const q = normalizeText(text);
  if (!syn.replace.length) return q;
  let out = '';
  let i = 0;
  outer: while (i < q.length) {
    for (const r of syn.replace) {
      if (!q.startsWith(r.from, i)) continue;
      const end = i + r.from.length;
      if (r.final && end < q.length && !CLAUSE_END.test(q[end]!)) continue;
      out += r.to;
      i = end;
      continue outer;
    }
    out += q[i];
    i++;
  }
  return out;
}

/**
 * The rewritten text, followed by the guide wording of the topic words it contains that it
 * does not state itself ("给小孩办" -> "给小孩办 孩子 子女 未成年人"). Idempotent.
 */
export function expandText(text: string, syn: Synonyms): string {
  const q = rewriteText(text, syn);
  const add: string[] = [];
  // Until nothing more is added (an added term may be a word of another group).
  for (let changed = true; changed; ) {
    changed = false;
    const all = add.length ? `${q} ${add.join(' ')}` : q;
    for (const g of syn.expand) {
      if (!g.words.some((w) => containsWord(all, w))) continue;
      for (const t of g.terms) {
        if (all.includes(t) || add.includes(t)) continue;
        add.push(t);
        changed = true;
      }
    }
  }
  return add.length ? `${q} ${add.join(' ')}` : q;
}

/** A Han word anywhere; a latin word only as a whole word. */
function containsWord(q: string, w: string): boolean {
  if (!/^[a-z0-9 ]+$/.test(w)) return q.includes(w);
  return new RegExp(`(^|[^a-z0-9])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9])`).test(q);
}

/**
 * The words a word is said otherwise as: every word and key term of the expand groups one of
 * whose words contains it or is contained in it ("小孩" -> 孩子, 子女, 未成年人, 小朋友...).
 */
export function relatedWords(word: string, syn: Synonyms): string[] {
  const w = normalizeText(word);
  const out = new Set<string>();
  for (const g of syn.expand) {
    if (!g.words.some((x) => x.includes(w) || w.includes(x))) continue;
    for (const x of [...g.terms, ...g.words]) if (x !== w) out.add(x);
  }
  return [...out];
}
