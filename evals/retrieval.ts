/**
 * Retrieval eval: the bundled guides ingested into an in-memory database, scored with the
 * knowledge module's own `evaluateRetrieval` (service ids of the top-5 chunks: recall@5, MRR).
 * Items go in small batches so progress can be shown; the per-batch means are recombined
 * weighted by batch size, which gives exactly the means over all items.
 */
import { openDatabase } from '../core/db.js';
import type { RetrievalItem } from './datasets.js';
import { loadKnowledgeModules, type KnowledgeModules } from './modules.js';
import { round } from './stats.js';

export interface RetrievalMetrics {
  n: number;
  recall_at_5: number | null;
  mrr: number | null;
  /** Per-item results as evaluateRetrieval returns them. */
  items: unknown[];
  ingest_ms: number;
}

export const RETRIEVAL_BATCH = 10;

export async function runRetrieval(
  items: readonly RetrievalItem[],
  opts: { onItems?: (n: number) => void; modules?: KnowledgeModules } = {},
): Promise<RetrievalMetrics> {
  const modules = opts.modules ?? (await loadKnowledgeModules());
  const db = await openDatabase({ dataDir: 'memory://' });
  try {
    const started = Date.now();
    const kb = await modules.createKnowledgeBase(db.pool);
    await kb.ensureIngested();
    const ingestMs = Date.now() - started;
    let n = 0;
    let recallSum = 0;
    let rrSum = 0;
    const perItem: unknown[] = [];
    for (let i = 0; i < items.length; i += RETRIEVAL_BATCH) {
      const batch = items.slice(i, i + RETRIEVAL_BATCH).map((it) => ({ id: it.id, question: it.question, service: it.service }));
      const r = await modules.evaluateRetrieval(kb, batch);
      n += r.n;
      recallSum += r.recall_at_5 * r.n;
      rrSum += r.mrr * r.n;
      if (Array.isArray(r.items)) perItem.push(...r.items);
      opts.onItems?.(batch.length);
    }
    return {
      n,
      recall_at_5: n ? round(recallSum / n) : null,
      mrr: n ? round(rrSum / n) : null,
      items: perItem,
      ingest_ms: ingestMs,
    };
  } finally {
    await db.close().catch(() => undefined);
  }
}
