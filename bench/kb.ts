import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type pg from 'pg';
import { openDatabase } from '../core/db.js';
import { chunkHash, embeddingText, type Chunk } from '../knowledge/chunk.js';
import type { SectionName } from '../knowledge/guides.js';
import { createKnowledgeBase, KNOWLEDGE_MIGRATIONS, refreshStats, writeChunks, type KnowledgeBase } from '../knowledge/kb.js';
import { EF_SEARCH, ensureVectorIndex, vectorLiteral, vectorExpr } from '../knowledge/search.js';
import { mulberry32 } from '../core/prng.js';

/**
 * Knowledge-base bench: search latency over the real guides and over 10,000 synthetic
 * chunks, and HNSW recall@10 against exact search (index scans disabled).
 */

export interface KbBenchResult {
  /** Search latency over the real knowledge base (the headline number for bench/run.ts). */
  search_ms: { p50: number; p95: number };
  real: { chunks: number; ingest_ms: number; queries: number; search_p50_ms: number; search_p95_ms: number };
  synthetic: { chunks: number; insert_ms: number; index_build_ms: number; queries: number; search_p50_ms: number; search_p95_ms: number };
  hnsw: {
    chunks: number;
    queries: number;
    k: number;
    /** ef_search used by knowledge search (EF_SEARCH) and its recall@10. */
    ef_search: number;
    recall_at_10: number;
    /** Recall and latency at pgvector's default ef_search (40) and at EF_SEARCH. */
    by_ef_search: { ef_search: number; recall_at_10: number; p50_ms: number }[];
    exact_p50_ms: number;
    /** Whether the planner chooses the HNSW index by itself for the search query at this size. */
    planner_uses_index: boolean;
  };
}

export interface KbBenchOptions {
  /** Number of synthetic chunks (default 10,000). */
  synthetic?: number;
  /** Print the results (default true). */
  print?: boolean;
}

const QUESTIONS = fileURLToPath(new URL('../knowledge/dev-questions.jsonl', import.meta.url));

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return 0;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const round = (x: number) => Math.round(x * 100) / 100;


async function timeSearches(kb: KnowledgeBase, questions: string[], rounds = 2): Promise<number[]> {
  for (const q of questions.slice(0, 5)) await kb.search(q); // warm-up
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const q of questions) {
      const t0 = performance.now();
      await kb.search(q, { k: 5 });
      times.push(performance.now() - t0);
    }
  }
  return times;
}

/** Synthetic chunks: sentences of the real guides recombined, under made-up services. */
function syntheticChunks(pool: { text: string; section: SectionName }[], n: number): Chunk[] {
  const rand = mulberry32(42);
  const sentences = pool.flatMap((c) => c.text.split(/(?<=[。；！？\n])/).map((s) => s.trim()).filter((s) => s.length > 6));
  const out: Chunk[] = [];
  for (let i = 0; i < n; i++) {
    const svc = i % 500;
    const section = pool[Math.floor(rand() * pool.length)]!.section;
    const parts: string[] = [];
    const len = 3 + Math.floor(rand() * 6);
    for (let j = 0; j < len; j++) parts.push(sentences[Math.floor(rand() * sentences.length)]!);
    const base = {
      serviceId: `synthetic_${svc}`,
      serviceName: `合成事项${svc}`,
      aliases: [`合成${svc}`],
      section,
      title: section,
      text: parts.join('\n'),
    };
    out.push({ ...base, id: `synthetic_${svc}#${section}#${i}`, ord: i, file: 'synthetic', hash: chunkHash(base) });
  }
  return out;
}

async function hnswRecall(
  pool: pg.Pool,
  vectors: number[][],
  model: string,
  dim: number,
  k: number,
  efSearch: number,
): Promise<{ recall: number; exactP50: number; hnswP50: number; efSearch: number; plannerUsesIndex: boolean }> {
  const expr = vectorExpr(dim);
  const sql = `SELECT id FROM kb_chunks WHERE embedding_dim = ${dim} AND embedding_model = $2
               ORDER BY ${expr} <=> $1::vector(${dim}) LIMIT ${k}`;
  const client = await pool.connect();
  try {
    let hit = 0;
    const exactT: number[] = [];
    const hnswT: number[] = [];
    // Does the planner pick the index on its own at this size? (On a few hundred rows an
    // exact scan is cheaper, and it is what the planner then does.)
    const plan = async () =>
      (await client.query(`EXPLAIN ${sql}`, [vectorLiteral(vectors[0]!), model])).rows.some((r: Record<string, string>) =>
        /kb_chunks_hnsw_/.test(Object.values(r)[0]!),
      );
    const plannerUsesIndex = await plan();
    for (const v of vectors) {
      const lit = vectorLiteral(v);
      // Approximate: the HNSW index, forced.
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      await client.query(`SET LOCAL hnsw.ef_search = ${efSearch}`);
      if (v === vectors[0] && !(await plan())) throw new Error('the vector query cannot use the HNSW index');
      let t0 = performance.now();
      const approx = (await client.query<{ id: string }>(sql, [lit, model])).rows.map((r) => r.id);
      hnswT.push(performance.now() - t0);
      await client.query('COMMIT');
      // Exact: index scans disabled, so a sequential scan and a sort.
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_indexscan = off');
      t0 = performance.now();
      const exact = (await client.query<{ id: string }>(sql, [lit, model])).rows.map((r) => r.id);
      exactT.push(performance.now() - t0);
      await client.query('COMMIT');
      const set = new Set(approx);
      hit += exact.filter((id) => set.has(id)).length / Math.max(1, exact.length);
    }
    return { recall: hit / vectors.length, exactP50: percentile(exactT, 50), hnswP50: percentile(hnswT, 50), efSearch, plannerUsesIndex };
  } finally {
    client.release();
  }
}

export async function runKbBench(opts: KbBenchOptions = {}): Promise<KbBenchResult> {
  const nSynthetic = opts.synthetic ?? 10_000;
  const print = opts.print ?? true;
  const log = (s: string) => print && process.stderr.write(`${s}\n`);
  const questions = readFileSync(QUESTIONS, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { question: string }).question);

  const db = await openDatabase({ dataDir: 'memory://', migrations: KNOWLEDGE_MIGRATIONS });
  try {
    const kb = createKnowledgeBase(db.pool);
    log('kb bench: ingesting the guides…');
    const ingest = await kb.ingest();
    const realTimes = await timeSearches(kb, questions);
    const real = {
      chunks: ingest.chunks,
      ingest_ms: ingest.ms,
      queries: realTimes.length,
      search_p50_ms: round(percentile(realTimes, 50)),
      search_p95_ms: round(percentile(realTimes, 95)),
    };

    log(`kb bench: adding ${nSynthetic} synthetic chunks…`);
    const embedder = (await kb.embedder())!;
    const pool = (await db.pool.query<{ text: string; section: SectionName }>('SELECT text, section FROM kb_chunks')).rows;
    const chunks = syntheticChunks(pool, nSynthetic);
    const t0 = performance.now();
    let insertMs = 0;
    let indexMs = 0;
    const client = await db.pool.connect();
    try {
      // Bulk load as one would: drop the indexes, insert, build each index once.
      await client.query('BEGIN');
      await client.query(`DROP INDEX IF EXISTS kb_chunks_hnsw_${embedder.dim}`);
      await client.query('ALTER TABLE kb_postings DROP CONSTRAINT kb_postings_pkey');
      await client.query('DROP INDEX kb_postings_chunk');
      for (let i = 0; i < chunks.length; i += 500) {
        const batch = chunks.slice(i, i + 500);
        const vectors = await embedder.embed(batch.map(embeddingText));
        await writeChunks(client, batch.map((chunk, j) => ({ chunk, vector: vectors[j]! })), embedder, 'synthetic', { fresh: true });
      }
      await client.query('ALTER TABLE kb_postings ADD PRIMARY KEY (term, chunk_id)');
      await client.query('CREATE INDEX kb_postings_chunk ON kb_postings (chunk_id)');
      await refreshStats(client);
      await client.query('COMMIT');
      insertMs = performance.now() - t0;
      const t1 = performance.now();
      await ensureVectorIndex(client, embedder.dim);
      indexMs = performance.now() - t1;
      await client.query('ANALYZE kb_chunks, kb_postings');
    } finally {
      client.release();
    }
    const synthTimes = await timeSearches(kb, questions);
    const total = ingest.chunks + nSynthetic;
    const synthetic = {
      chunks: total,
      insert_ms: Math.round(insertMs),
      index_build_ms: Math.round(indexMs),
      queries: synthTimes.length,
      search_p50_ms: round(percentile(synthTimes, 50)),
      search_p95_ms: round(percentile(synthTimes, 95)),
    };

    log('kb bench: HNSW recall@10 against exact search…');
    const qv = await embedder.embed([...questions, ...chunks.slice(0, 40).map((c) => c.text.slice(0, 60))]);
    const runs = [];
    for (const ef of [40, EF_SEARCH]) runs.push(await hnswRecall(db.pool, qv, embedder.id, embedder.dim, 10, ef));
    const used = runs[runs.length - 1]!;
    const hnsw = {
      chunks: total,
      queries: qv.length,
      k: 10,
      ef_search: EF_SEARCH,
      recall_at_10: Math.round(used.recall * 1000) / 1000,
      by_ef_search: runs.map((r) => ({ ef_search: r.efSearch, recall_at_10: Math.round(r.recall * 1000) / 1000, p50_ms: round(r.hnswP50) })),
      exact_p50_ms: round(used.exactP50),
      planner_uses_index: used.plannerUsesIndex,
    };

    const result: KbBenchResult = { search_ms: { p50: real.search_p50_ms, p95: real.search_p95_ms }, real, synthetic, hnsw };
    if (print) {
      console.log('knowledge base bench');
      console.log(`  real KB        ${real.chunks} chunks, ingest ${real.ingest_ms} ms; search p50 ${real.search_p50_ms} ms, p95 ${real.search_p95_ms} ms (${real.queries} queries)`);
      console.log(`  synthetic KB   ${synthetic.chunks} chunks (insert ${synthetic.insert_ms} ms, HNSW build ${synthetic.index_build_ms} ms); search p50 ${synthetic.search_p50_ms} ms, p95 ${synthetic.search_p95_ms} ms`);
      const efs = hnsw.by_ef_search.map((r) => `ef_search ${r.ef_search}: recall@10 ${r.recall_at_10}, p50 ${r.p50_ms} ms`).join('; ');
      console.log(`  HNSW vs exact  over ${hnsw.chunks} chunks, ${hnsw.queries} queries: ${efs}; exact p50 ${hnsw.exact_p50_ms} ms; planner picks the index: ${hnsw.planner_uses_index}`);
    }
    return result;
  } finally {
    await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runKbBench().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
