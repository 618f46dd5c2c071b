import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { KnowledgeBase } from './kb.js';

/**
 * Retrieval evaluation (shared/spec/EVAL.md): each item is scored by the service ids of the
 * top 5 chunks the knowledge search returns. rank = 1-based position of the first chunk of
 * the expected service, or null when none is in the top 5.
 */

export interface RetrievalItem {
  id: string;
  question: string;
  service: string;
}

export interface RetrievalEvalResult {
  n: number;
  recall_at_5: number;
  mrr: number;
  items: { id: string; rank: number | null; top: string[] }[];
}

export const RetrievalItemSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  question: z.string().min(1),
  service: z.string().min(1),
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
  const results: RetrievalEvalResult['items'] = [];
  let hits = 0;
  let rr = 0;
  for (const item of items) {
    const top = (await kb.search(item.question, { k })).map((h) => h.serviceId);
    const idx = top.indexOf(item.service);
    const rank = idx >= 0 ? idx + 1 : null;
    if (rank) {
      hits++;
      rr += 1 / rank;
    }
    results.push({ id: item.id, rank, top });
  }
  const n = items.length;
  return { n, recall_at_5: n ? hits / n : 0, mrr: n ? rr / n : 0, items: results };
}
