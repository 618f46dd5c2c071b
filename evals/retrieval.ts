/**
 * Retrieval eval, two ways:
 *  - search: the knowledge module's own `evaluateRetrieval` over the app's knowledge base
 *    (service ids of the top-5 chunks: recall@5, MRR; for items with `sections`, whether the
 *    first chunk is of the right service and one of those sections: section_at_1);
 *  - chat: each item with `sections` asked in a fresh anonymous session of the in-process
 *    app; its answer is the Turn's first citation (answer_section_accuracy).
 * Items go in small batches so progress can be shown; the per-batch means are recombined
 * weighted by batch size, which gives exactly the means over all items.
 */
import { SECTIONS } from '../knowledge/guides.js';
import type { KnowledgeBase } from '../knowledge/kb.js';
import { evaluateRetrieval, type RetrievalItemResult } from '../knowledge/retrieval-eval.js';
import { errorReason, type HarnessClient } from './client.js';
import type { RetrievalItem } from './datasets.js';
import { ratio, round } from './stats.js';

export const RETRIEVAL_BATCH = 10;

/** A section's place in the guide format (unknown names last). */
const sectionRank = (name: string): number => {
  const i = (SECTIONS as readonly string[]).indexOf(name);
  return i < 0 ? SECTIONS.length : i;
};

export interface SectionTally {
  n: number;
  /** First search hit of the service and one of the sections. */
  section_at_1: number | null;
  /** First chat citation of the service and one of the sections. */
  answer_section_accuracy: number | null;
}

export interface RetrievalFailure {
  id: string;
  question: string;
  expected: { service: string; sections: string[] };
  /** What the first search hit / the first chat citation was (null: nothing). */
  got: { service: string; section: string; title?: string } | null;
  /** Where it went wrong: the first search hit, or the chat answer. */
  via: 'search' | 'chat';
  error?: string;
}

export interface RetrievalItemReport extends RetrievalItemResult {
  /** The first citation of the chat answer (items with sections; null: none cited). */
  answer?: { service: string; section: string; title: string } | null;
  answer_section_hit?: boolean | null;
  answer_error?: string;
}

export interface RetrievalMetrics {
  n: number;
  recall_at_5: number | null;
  mrr: number | null;
  /** Items with sections. */
  section_n: number;
  section_at_1: number | null;
  answer_section_accuracy: number | null;
  /** Of the items with sections: chat answers citing the right service (any section). */
  answer_service_accuracy: number | null;
  /** Per expected section (an item counts under each of its sections) and per service. */
  by_section: Record<string, SectionTally>;
  by_service: Record<string, SectionTally & { recall_at_5: number | null }>;
  /** Items whose first hit (search) or first citation (chat) missed. */
  failures: RetrievalFailure[];
  items: RetrievalItemReport[];
  ingest_ms: number;
}

export interface RetrievalRunOptions {
  /** Asks the chat questions; without it the chat figures are null. */
  chat?: HarnessClient | null;
  onItems?: (n: number) => void;
  ingestMs?: number;
}

type Counts = { n: number; s1: number; ans: number; hits: number; total: number };

/** Scores `items` against `kb` (search) and, with `opts.chat`, through chat. */
export async function runRetrieval(
  kb: Pick<KnowledgeBase, 'search'>,
  items: readonly RetrievalItem[],
  opts: RetrievalRunOptions = {},
): Promise<RetrievalMetrics> {
  let n = 0;
  let recallSum = 0;
  let rrSum = 0;
  const perItem: RetrievalItemReport[] = [];
  const failures: RetrievalFailure[] = [];
  for (let i = 0; i < items.length; i += RETRIEVAL_BATCH) {
    const batch = items.slice(i, i + RETRIEVAL_BATCH);
    const r = await evaluateRetrieval(kb, batch.map((it) => ({
      id: it.id, question: it.question, service: it.service, ...(it.sections ? { sections: it.sections } : {}),
    })));
    n += r.n;
    recallSum += r.recall_at_5 * r.n;
    rrSum += r.mrr * r.n;
    for (const [j, res] of r.items.entries()) {
      const item = batch[j]!;
      const report: RetrievalItemReport = { ...res };
      if (item.sections?.length) {
        const expected = { service: item.service, sections: item.sections };
        if (res.section_hit === false) failures.push({ id: item.id, question: item.question, expected, got: res.first, via: 'search' });
        if (opts.chat) {
          try {
            const sessionId = await opts.chat.session(null, 'app');
            const turn = await opts.chat.say(sessionId, null, item.question, 'question');
            await opts.chat.endSession(sessionId, null);
            const c = turn.citations[0] ?? null;
            report.answer = c ? { service: c.service, section: c.section, title: c.title } : null;
            report.answer_section_hit = c !== null && c.service === item.service && item.sections.includes(c.section);
          } catch (err) {
            report.answer = null;
            report.answer_section_hit = false;
            report.answer_error = errorReason(err);
          }
          if (!report.answer_section_hit) {
            failures.push({
              id: item.id, question: item.question, expected, got: report.answer ?? null, via: 'chat',
              ...(report.answer_error ? { error: report.answer_error } : {}),
            });
          }
        }
      }
      perItem.push(report);
    }
    opts.onItems?.(batch.length);
  }

  const bySection = new Map<string, Counts>();
  const byService = new Map<string, Counts>();
  const bump = (m: Map<string, Counts>, k: string, it: RetrievalItemReport, sectioned: boolean) => {
    const c = m.get(k) ?? { n: 0, s1: 0, ans: 0, hits: 0, total: 0 };
    c.total++;
    if (it.rank !== null) c.hits++;
    if (sectioned) {
      c.n++;
      if (it.section_hit) c.s1++;
      if (it.answer_section_hit) c.ans++;
    }
    m.set(k, c);
  };
  let sectionN = 0;
  let s1 = 0;
  let ans = 0;
  let ansService = 0;
  perItem.forEach((it, j) => {
    const item = items[j]!;
    const sectioned = Boolean(item.sections?.length);
    bump(byService, item.service, it, sectioned);
    if (!sectioned) return;
    sectionN++;
    if (it.section_hit) s1++;
    if (it.answer_section_hit) ans++;
    if (it.answer?.service === item.service) ansService++;
    for (const s of new Set(item.sections)) bump(bySection, s, it, true);
  });
  const chat = Boolean(opts.chat);
  const tally = (c: Counts): SectionTally => ({
    n: c.n,
    section_at_1: round(ratio(c.s1, c.n)),
    answer_section_accuracy: chat ? round(ratio(c.ans, c.n)) : null,
  });
  const sorted = <V>(m: Map<string, V>) => [...m.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  const inGuideOrder = <V>(m: Map<string, V>) => [...m.entries()].sort((a, b) => sectionRank(a[0]) - sectionRank(b[0]) || a[0].localeCompare(b[0]));
  return {
    n,
    recall_at_5: n ? round(recallSum / n) : null,
    mrr: n ? round(rrSum / n) : null,
    section_n: sectionN,
    section_at_1: round(ratio(s1, sectionN)),
    answer_section_accuracy: chat ? round(ratio(ans, sectionN)) : null,
    answer_service_accuracy: chat ? round(ratio(ansService, sectionN)) : null,
    by_section: Object.fromEntries(inGuideOrder(bySection).map(([k, c]) => [k, tally(c)])),
    by_service: Object.fromEntries(sorted(byService).map(([k, c]) => [k, { ...tally(c), recall_at_5: round(ratio(c.hits, c.total)) }])),
    failures,
    items: perItem,
    ingest_ms: opts.ingestMs ?? 0,
  };
}
