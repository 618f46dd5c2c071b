import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { KnowledgeBase } from './kb.js';

/**
 * Retrieval evaluation (shared/spec/EVAL.md): each item is scored by the service ids of the
 * top 5 chunks the knowledge search returns. rank = 1-based position of the first chunk of
 * the expected service, or null when none is in the top 5. Items that name the guide
 * `sections` holding the answer are also scored on the first chunk alone: right service and
 * one of those sections (`section_at_1`; a citizen reads the first answer, not the top five).
 */

export interface RetrievalItem {
  id: string;
  question: string;
  service: string;
  sections?: string[];
}

export interface RetrievalItemResult {
  id: string;
  rank: number | null;
  /** Service ids of the top k chunks. */
  top: string[];
  /** The first chunk's service and section (null when the search returned nothing). */
  first: { service: string; section: string } | null;
  /** For items with sections: whether the first chunk is of the service and one of the sections. */
  section_hit: boolean | null;
}

export interface RetrievalEvalResult {
  n: number;
  recall_at_5: number;
  mrr: number;
  /** Items that carry sections, and the share of them whose first chunk hits (null when none). */
  section_n: number;
  section_at_1: number | null;
  items: RetrievalItemResult[];
}

export const RetrievalItemSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  question: z.string().min(1),
  service: z.string().min(1),
  sections: z.array(z.string().min(1)).min(1).optional(),
});

/** Reads a JSONL file of retrieval items; a bad line is an error naming file and line. */
export function readRetrievalItems(path: string): RetrievalItem[] {
  const out: RetrievalItem[] = [];
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (!line.trim()) return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (err) {
        throw new Error(`${path}:${i + 1}: not valid JSON: ${(err as Error).message}`);
      }
      const p = RetrievalItemSchema.safeParse(json);
      if (!p.success) throw new Error(`${path}:${i + 1}: ${p.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
      out.push(p.data);
    });
  return out;
}

export async function evaluateRetrieval(
  kb: Pick<KnowledgeBase, 'search'>,
  items: RetrievalItem[],
  opts: { k?: number } = {},
): Promise<RetrievalEvalResult> {
  const k = opts.k ?? 5;
  const results: RetrievalItemResult[] = [];
  let hits = 0;
  let rr = 0;
  let sectionN = 0;
  let sectionHits = 0;
  for (const item of items) {
    const found = await kb.search(item.question, { k });
    const top = found.map((h) => h.serviceId);
    const idx = top.indexOf(item.service);
    const rank = idx >= 0 ? idx + 1 : null;
    if (rank) {
      hits++;
      rr += 1 / rank;
    }
    const head = found[0];
    const first = head ? { service: head.serviceId, section: head.section } : null;
    let sectionHit: boolean | null = null;
    if (item.sections?.length) {
      sectionN++;
      sectionHit = first !== null && first.service === item.service && item.sections.includes(first.section);
      if (sectionHit) sectionHits++;
    }
    results.push({ id: item.id, rank, top, first, section_hit: sectionHit });
  }
  const n = items.length;
  return {
    n,
    recall_at_5: n ? hits / n : 0,
    mrr: n ? rr / n : 0,
    section_n: sectionN,
    section_at_1: sectionN ? sectionHits / sectionN : null,
    items: results,
  };
}
