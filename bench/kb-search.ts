import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../core/db.js';
import { createKnowledgeBase, KNOWLEDGE_MIGRATIONS } from '../knowledge/kb.js';
import { progress } from './progress.js';
import { p50p95 } from './stats.js';

const QUESTIONS = fileURLToPath(new URL('../evals/data/retrieval.jsonl', import.meta.url));

export interface KbResult {
  p50: number;
  p95: number;
  source: string;
  [key: string]: unknown;
}

/**
 * Knowledge search latency. bench/kb.ts (the knowledge engineer's) is used when it exports
 * runKbBench(); otherwise knowledge search is timed directly: the bundled guides ingested into
 * an in-memory database, each retrieval-eval question searched once after a warm-up pass.
 */
export async function kbBench(): Promise<KbResult> {
  if (existsSync(fileURLToPath(new URL('./kb.ts', import.meta.url)))) {
    const spec = './kb.js';
    const mod = (await import(spec)) as { runKbBench?: () => Promise<unknown> };
    if (typeof mod.runKbBench === 'function') {
      const r = normaliseKb(await mod.runKbBench());
      if (r) return { ...r, source: 'bench/kb.ts runKbBench()' };
      process.stderr.write('bench/kb.ts runKbBench() returned no p50/p95; timing knowledge search directly\n');
    }
  }
  return directKbBench();
}

/** Accepts {p50,p95}, {search_ms:{p50,p95}}, {kb_search_ms:{p50,p95}} or {searchMs:{p50,p95}}. */
function normaliseKb(r: unknown): { p50: number; p95: number; [k: string]: unknown } | null {
  if (!r || typeof r !== 'object') return null;
  const o = r as Record<string, unknown>;
  for (const c of [o, o.kb_search_ms, o.search_ms, o.searchMs, o.search]) {
    if (c && typeof c === 'object' && typeof (c as { p50?: unknown }).p50 === 'number' && typeof (c as { p95?: unknown }).p95 === 'number') {
      const { p50, p95 } = c as { p50: number; p95: number };
      return { ...o, p50, p95 };
    }
  }
  return null;
}

async function directKbBench(): Promise<KbResult> {
  const p = progress('knowledge search');
  const db = await openDatabase({ dataDir: 'memory://', migrations: KNOWLEDGE_MIGRATIONS });
  try {
    const kb = createKnowledgeBase(db.pool);
    p.update('ingesting the guides');
    await kb.ensureIngested();
    const questions = readFileSync(QUESTIONS, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { question: string }).question);
    for (const q of questions.slice(0, 20)) await kb.search(q);
    const ms: number[] = [];
    for (const q of questions) {
      const t0 = performance.now();
      await kb.search(q);
      ms.push(performance.now() - t0);
      p.update(`${ms.length}/${questions.length} searches`);
    }
    const r = p50p95(ms, 2);
    p.done(`${questions.length} searches: p50 ${r.p50} ms, p95 ${r.p95} ms`);
    return { ...r, source: 'knowledge search (kb.search) directly', queries: questions.length };
  } finally {
    await db.close();
  }
}
