import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_MIGRATIONS, type MigrationDir } from '../core/migrate.js';
import type pg from 'pg';
import { catalogue as projectCatalogue, type Service } from './catalogue.js';
import { chunkGuide, embeddingText, type Chunk } from './chunk.js';
import { HashedNgramEmbedder, NGRAM_DIM, NGRAM_VERSION, type Embedder, type NgramModelState } from './embeddings.js';
import { GUIDES_DIR, loadGuides, type GuideIssue, type SectionName } from './guides.js';
import {
  buildPostings,
  CANDIDATES,
  cueSpans,
  ensureVectorIndex,
  fuse,
  keywordSearch,
  loadSectionCues,
  expandQuery,
  matchSectionCues,
  rewriteQuery,
  vectorLiteral,
  vectorSearch,
  type ChunkRecord,
  type SearchHit,
  type SearchOptions,
  type SectionCues,
} from './search.js';
import { ENGLISH_STOPWORDS, keywordTokens, normalizeText, toSimplified } from './text.js';

export interface IngestProgress {
  phase: 'embed' | 'write';
  done: number;
  total: number;
}

export interface IngestOptions {
  /** Re-learn the offline embedder's IDF from the current corpus (re-embeds everything). */
  refit?: boolean;
}

export interface IngestSummary {
  dir: string;
  /** Guide files read. */
  files: number;
  /** Chunks produced from the usable guides. */
  chunks: number;
  /** Chunks whose vectors were computed in this run. */
  embedded: number;
  /** Chunks left exactly as they were (not re-embedded, not rewritten). */
  unchanged: number;
  /** Rows inserted or updated. */
  written: number;
  /** Rows deleted (removed sections, FAQ pairs or guides). */
  deleted: number;
  /** Guides left out because of errors (see issues). */
  skipped: number;
  issues: GuideIssue[];
  model: string;
  dim: number;
  /** True when the offline model's IDF was (re-)learned in this run. */
  refit: boolean;
  ms: number;
}

export type { ChunkRecord } from './search.js';

export interface KnowledgeBase {
  /** Ingests a folder of guides (default: the bundled knowledge/guides). Idempotent. */
  ingest(dir?: string, onProgress?: (p: IngestProgress) => void, opts?: IngestOptions): Promise<IngestSummary>;
  /** Hybrid search; hits best first. */
  search(query: string, opts?: SearchOptions): Promise<SearchHit[]>;
  /** Ingests the bundled guides when the table is empty or stale; cheap when up to date. */
  ensureIngested(onProgress?: (p: IngestProgress) => void): Promise<IngestSummary | null>;
  /** All chunks of one service, in guide order. */
  serviceChunks(serviceId: string): Promise<ChunkRecord[]>;
  /** Services in the knowledge base with their sections and chunk counts. */
  services(): Promise<{ serviceId: string; serviceName: string; sections: SectionName[]; chunks: number }[]>;
  /** Each service's name followed by its aliases (cached; refreshed after an ingest). */
  serviceNames(): Promise<Map<string, string[]>>;
  /** The embedder in use (loads the offline model from the database when needed). */
  embedder(): Promise<Embedder | undefined>;
  readonly catalogue: readonly Service[];
  /** The guide service of the 一件事 bundle a service is a part of (its members' questions "together" go there). */
  bundleOf(serviceId: string): string | undefined;
  readonly cues: SectionCues;
  readonly pool: pg.Pool;
}

export interface KnowledgeBaseOptions {
  /** Section cues (default: knowledge/section-cues.yaml). */
  cues?: SectionCues;
  catalogue?: readonly Service[];
  /** 一件事 bundles: a bundle's guide service and its members (default: the project catalogue's). */
  bundles?: readonly { service: string; members: readonly { service: string }[] }[];
  /** Bundled guides folder used by ensureIngested (default knowledge/guides). */
  guidesDir?: string;
}

const LOCK_KEY = 7420277;
/** Weight of the nearest chunks to the question without its cue words, in the fusion. */
const TOPIC_WEIGHT = 1;
const EMBED_BATCH = 64;
const WRITE_BATCH = 200;
/** The offline model is re-learned when the corpus size drifts beyond these ratios. */
const REFIT_GROWTH = 1.25;
const REFIT_SHRINK = 0.8;

interface ExistingRow {
  id: string;
  service_id: string;
  content_hash: string;
  embedding_model: string;
  source_root: string;
}

/** A chunk ready to be written: content + its vector. */
export interface ChunkWrite {
  chunk: Chunk;
  vector: number[];
}

/**
 * The knowledge base over one pool. With no embedder given, the offline n-gram model is
 * used: its IDF is learned from the guides at the first ingest and kept in `kb_models`.
 */
export function createKnowledgeBase(pool: pg.Pool, fixedEmbedder?: Embedder, options: KnowledgeBaseOptions = {}): KnowledgeBase {
  const catalogue = options.catalogue ?? projectCatalogue().services;
  const bundles = options.bundles ?? (options.catalogue ? [] : projectCatalogue().bundles);
  const bundleOf = (serviceId: string) => bundles.find((b) => b.members.some((m) => m.service === serviceId))?.service;
  const cues = options.cues ?? loadSectionCues(undefined, undefined, catalogue.flatMap((c) => [c.name, ...c.aliases]));
  const bundledDir = resolve(options.guidesDir ?? GUIDES_DIR);
  let local: HashedNgramEmbedder | undefined;
  let localLoaded = false;
  let names: Map<string, string[]> | undefined;

  async function serviceNames(): Promise<Map<string, string[]>> {
    if (names) return names;
    const r = await pool.query<{ service_id: string; service_name: string; aliases: string[] }>(
      `SELECT DISTINCT ON (service_id) service_id, service_name, aliases FROM kb_chunks ORDER BY service_id, ord`,
    );
    names = new Map(r.rows.map((x) => [x.service_id, [x.service_name, ...x.aliases]]));
    return names;
  }

  async function loadLocalModel(db: pg.Pool | pg.PoolClient = pool): Promise<HashedNgramEmbedder | undefined> {
    const r = await db.query<{ state: NgramModelState }>(
      `SELECT state FROM kb_models WHERE kind = 'ngram' AND active ORDER BY created_at DESC LIMIT 1`,
    );
    const state = r.rows[0]?.state;
    local = state && state.version === NGRAM_VERSION ? new HashedNgramEmbedder(state) : undefined;
    localLoaded = true;
    return local;
  }

  async function currentEmbedder(): Promise<Embedder | undefined> {
    if (fixedEmbedder) return fixedEmbedder;
    if (!localLoaded) await loadLocalModel();
    return local;
  }

  async function ingest(dir?: string, onProgress?: (p: IngestProgress) => void, opts: IngestOptions = {}): Promise<IngestSummary> {
    const t0 = performance.now();
    const root = resolve(dir ?? bundledDir);
    const loaded = loadGuides(root, catalogue);
    const chunks = loaded.guides.flatMap((g) => chunkGuide(g));
    const ingested = new Set(loaded.guides.map((g) => g.id));
    const failed = new Set(loaded.failed);

    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
      const existing = (
        await client.query<ExistingRow>('SELECT id, service_id, content_hash, embedding_model, source_root FROM kb_chunks')
      ).rows;
      const newIds = new Set(chunks.map((c) => c.id));
      // Removed: chunks of an ingested guide that are gone, and chunks of guides that
      // disappeared from this folder (a guide that failed to parse keeps its old chunks).
      const toDelete = existing.filter(
        (r) =>
          (ingested.has(r.service_id) && !newIds.has(r.id)) ||
          (r.source_root === root && !ingested.has(r.service_id) && !failed.has(r.service_id)),
      );
      const deletedIds = new Set(toDelete.map((r) => r.id));
      const others = existing.filter((r) => !ingested.has(r.service_id) && !deletedIds.has(r.id));

      // Which embedder: fixed, or the offline model (re-learned when needed).
      let embedder: Embedder;
      let refit = false;
      if (fixedEmbedder) {
        embedder = fixedEmbedder;
      } else {
        const current = await loadLocalModel(client);
        const corpusSize = chunks.length + others.length;
        const drift = current ? corpusSize / Math.max(1, current.state.n) : 0;
        if (!current || opts.refit || current.dim !== NGRAM_DIM || drift > REFIT_GROWTH || drift < REFIT_SHRINK) {
          const otherTexts = await loadEmbeddingTexts(client, others.map((r) => r.id));
          const texts = [...chunks.map(embeddingText), ...otherTexts.map((o) => o.text)];
          const fitted = HashedNgramEmbedder.fit(texts.length ? texts : [''], NGRAM_DIM);
          refit = !current || fitted.id !== current.id;
          embedder = refit ? fitted : current!;
        } else {
          embedder = current;
        }
      }

      const byId = new Map(existing.map((r) => [r.id, r]));
      const changed = chunks.filter((c) => {
        const old = byId.get(c.id);
        return !old || old.content_hash !== c.hash || old.embedding_model !== embedder.id || old.source_root !== root;
      });
      const needsVector = changed.filter((c) => {
        const old = byId.get(c.id);
        return !old || old.content_hash !== c.hash || old.embedding_model !== embedder.id;
      });
      const staleOthers = others.filter((r) => r.embedding_model !== embedder.id);
      const staleOtherTexts = await loadEmbeddingTexts(client, staleOthers.map((r) => r.id));
      const total = needsVector.length + staleOtherTexts.length;

      // Embed (outside the transaction: a remote model may take a while).
      const vectors = new Map<string, number[]>();
      const work = [
        ...needsVector.map((c) => ({ id: c.id, text: embeddingText(c) })),
        ...staleOtherTexts,
      ];
      for (let i = 0; i < work.length; i += EMBED_BATCH) {
        const batch = work.slice(i, i + EMBED_BATCH);
        const out = await embedder.embed(batch.map((b) => b.text));
        if (out.length !== batch.length) throw new Error(`embedder ${embedder.id} returned ${out.length} vectors for ${batch.length} texts`);
        batch.forEach((b, j) => {
          const v = out[j]!;
          if (v.length !== embedder.dim) throw new Error(`embedder ${embedder.id} returned dimension ${v.length}, expected ${embedder.dim}`);
          vectors.set(b.id, v);
        });
        onProgress?.({ phase: 'embed', done: Math.min(i + batch.length, total), total });
      }

      // Vectors kept for rows whose text did not change (only the source folder moved).
      const keepVector = changed.filter((c) => !vectors.has(c.id)).map((c) => c.id);
      const kept = new Map<string, string>();
      if (keepVector.length) {
        const r = await client.query<{ id: string; e: string }>('SELECT id, embedding::text AS e FROM kb_chunks WHERE id = ANY($1)', [keepVector]);
        for (const row of r.rows) kept.set(row.id, row.e);
      }

      let written = 0;
      await client.query('BEGIN');
      try {
        if (toDelete.length) {
          await client.query('DELETE FROM kb_postings WHERE chunk_id = ANY($1)', [[...deletedIds]]);
          await client.query('DELETE FROM kb_chunks WHERE id = ANY($1)', [[...deletedIds]]);
        }
        const writes = changed.map((c) => ({ chunk: c, vector: vectors.get(c.id), literal: kept.get(c.id) }));
        for (let i = 0; i < writes.length; i += WRITE_BATCH) {
          written += await writeChunks(client, writes.slice(i, i + WRITE_BATCH), embedder, root);
          onProgress?.({ phase: 'write', done: Math.min(i + WRITE_BATCH, writes.length), total: writes.length });
        }
        for (const o of staleOtherTexts) {
          await client.query('UPDATE kb_chunks SET embedding = $2::vector, embedding_model = $3, embedding_dim = $4, updated_at = now() WHERE id = $1', [
            o.id,
            vectorLiteral(vectors.get(o.id)!),
            embedder.id,
            embedder.dim,
          ]);
          written++;
        }
        // Documents: one row per guide of this folder; forget the ones removed.
        const goneServices = [...new Set(toDelete.map((r) => r.service_id))].filter((s) => !ingested.has(s));
        if (goneServices.length) await client.query('DELETE FROM kb_documents WHERE service_id = ANY($1)', [goneServices]);
        for (const g of loaded.guides) {
          await client.query(
            `INSERT INTO kb_documents (service_id, source_root, source_file, guide_hash, embedding_model, chunk_count)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (service_id) DO UPDATE SET source_root = EXCLUDED.source_root, source_file = EXCLUDED.source_file,
               guide_hash = EXCLUDED.guide_hash, embedding_model = EXCLUDED.embedding_model, chunk_count = EXCLUDED.chunk_count,
               ingested_at = now()
             WHERE (kb_documents.source_root, kb_documents.source_file, kb_documents.guide_hash, kb_documents.embedding_model, kb_documents.chunk_count)
                IS DISTINCT FROM (EXCLUDED.source_root, EXCLUDED.source_file, EXCLUDED.guide_hash, EXCLUDED.embedding_model, EXCLUDED.chunk_count)`,
            [g.id, root, g.file, g.hash, embedder.id, chunks.filter((c) => c.serviceId === g.id).length],
          );
        }
        if (refit && embedder instanceof HashedNgramEmbedder) {
          await client.query(`UPDATE kb_models SET active = false WHERE kind = 'ngram' AND active`);
          await client.query(
            `INSERT INTO kb_models (id, kind, dim, state, active) VALUES ($1, 'ngram', $2, $3, true)
             ON CONFLICT (id) DO UPDATE SET active = true, created_at = now()`,
            [embedder.id, embedder.dim, JSON.stringify(embedder.state)],
          );
        }
        if (written || toDelete.length) await refreshStats(client);
        await ensureVectorIndex(client, embedder.dim);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      names = undefined;
      if (written || toDelete.length) await client.query('ANALYZE kb_chunks, kb_postings');
      if (!fixedEmbedder && embedder instanceof HashedNgramEmbedder) {
        local = embedder;
        localLoaded = true;
      }
      return {
        dir: root,
        files: loaded.guides.length + loaded.failed.length,
        chunks: chunks.length,
        embedded: vectors.size,
        unchanged: chunks.length - changed.length,
        written,
        deleted: toDelete.length,
        skipped: loaded.failed.length,
        issues: loaded.issues,
        model: embedder.id,
        dim: embedder.dim,
        refit,
        ms: Math.round(performance.now() - t0),
      };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
      client.release();
    }
  }

  async function ensureIngested(onProgress?: (p: IngestProgress) => void): Promise<IngestSummary | null> {
    const loaded = loadGuides(bundledDir, catalogue);
    const embedder = await currentEmbedder();
    const docs = new Map(
      (
        await pool.query<{ service_id: string; guide_hash: string; embedding_model: string; source_root: string }>(
          'SELECT service_id, guide_hash, embedding_model, source_root FROM kb_documents',
        )
      ).rows.map((r) => [r.service_id, r]),
    );
    const models = (await pool.query<{ embedding_model: string; n: string }>('SELECT embedding_model, count(*) AS n FROM kb_chunks GROUP BY 1')).rows;
    const present = new Set(loaded.guides.map((g) => g.id));
    const stale =
      !embedder ||
      models.length === 0 ||
      models.some((m) => m.embedding_model !== embedder.id) ||
      loaded.guides.some((g) => {
        const d = docs.get(g.id);
        return !d || d.guide_hash !== g.hash || d.embedding_model !== embedder.id;
      }) ||
      [...docs.values()].some((d) => d.source_root === bundledDir && !present.has(d.service_id) && !loaded.failed.includes(d.service_id));
    if (!stale) return null;
    return ingest(bundledDir, onProgress);
  }

  async function search(query: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    const k = Math.max(1, Math.min(opts.k ?? 5, 100));
    // As citizens say it, rewritten to the guides' wording (synonyms.yaml): what it asks is read
    // from the rewritten question, what it is about from the expanded one.
    const asked = rewriteQuery(toSimplified(query).trim(), cues);
    const q = expandQuery(asked, cues);
    // Nothing to match on (only punctuation or spaces): no results rather than noise.
    if (!keywordTokens(normalizeText(q)).length) return [];
    const cueSections = opts.sections?.length ? [...opts.sections] : matchSectionCues(asked, cues);
    let embedder = await currentEmbedder();
    let vector: Awaited<ReturnType<typeof vectorSearch>> = [];
    let qv: number[] | undefined;
    const keywordP = keywordSearch(pool, q, { serviceId: opts.serviceId, limit: CANDIDATES, cueSpans: cueSpans(q, cues) });
    if (embedder) {
      try {
        [qv] = await embedder.embed([q]);
        vector = await vectorSearch(pool, qv!, { model: embedder.id, dim: embedder.dim, serviceId: opts.serviceId, limit: CANDIDATES });
        if (!vector.length && !fixedEmbedder) {
          // Another process may have re-learned the offline model: reload once.
          const before = embedder.id;
          embedder = await loadLocalModel();
          if (embedder && embedder.id !== before) {
            [qv] = await embedder.embed([q]);
            vector = await vectorSearch(pool, qv!, { model: embedder.id, dim: embedder.dim, serviceId: opts.serviceId, limit: CANDIDATES });
          }
        }
      } catch {
        // A remote embedding model that fails must not stop search: keyword ranking alone.
        vector = [];
        qv = undefined;
      }
    }
    // The question without its cue words ("申请低保需要哪些证件" -> "申请低保"): what it is about.
    let topic: Awaited<ReturnType<typeof vectorSearch>> = [];
    const spans = cueSpans(q, cues);
    if (embedder && qv && spans.length && TOPIC_WEIGHT > 0) {
      let t = normalizeText(q);
      for (const [a, b] of spans) t = t.slice(0, a) + ' '.repeat(b - a) + t.slice(b);
      t = t.replace(/[a-z]+/g, (w) => (ENGLISH_STOPWORDS.has(w) ? ' ' : w));
      if (keywordTokens(t).length) {
        try {
          const [tv] = await embedder.embed([t]);
          topic = await vectorSearch(pool, tv!, { model: embedder.id, dim: embedder.dim, serviceId: opts.serviceId, limit: CANDIDATES });
        } catch {
          topic = [];
        }
      }
    }
    const keyword = await keywordP;
    const fused = fuse({ vector, keyword, topic, topicWeight: TOPIC_WEIGHT, cueSections, cueBoost: cues.boost }).slice(0, k);
    if (!fused.length) return [];
    const ids = fused.map((f) => f.id);
    const params: unknown[] = [ids];
    let simExpr = 'NULL::float8';
    if (embedder && qv && vector.length) {
      params.push(vectorLiteral(qv));
      simExpr = `CASE WHEN embedding_dim = ${embedder.dim} THEN (1 - (embedding::vector(${embedder.dim}) <=> $2::vector(${embedder.dim})))::float8 END`;
    }
    const rows = await pool.query<{
      id: string;
      service_id: string;
      service_name: string;
      section: SectionName;
      title: string;
      text: string;
      ord: number;
      sim: number | null;
    }>(`SELECT id, service_id, service_name, section, title, text, ord, ${simExpr} AS sim FROM kb_chunks WHERE id = ANY($1)`, params);
    const byId = new Map(rows.rows.map((r) => [r.id, r]));
    const hits: SearchHit[] = [];
    for (const f of fused) {
      const r = byId.get(f.id);
      if (!r) continue;
      hits.push({
        ...toChunk(r),
        score: f.score,
        base: f.base,
        vectorRank: f.vectorRank,
        keywordRank: f.keywordRank,
        similarity: f.similarity ?? r.sim ?? 0,
        coverage: f.coverage,
        cueSections,
      });
    }
    return hits;
  }

  async function serviceChunks(serviceId: string): Promise<ChunkRecord[]> {
    const r = await pool.query<{ id: string; service_id: string; service_name: string; section: SectionName; title: string; text: string; ord: number }>(
      'SELECT id, service_id, service_name, section, title, text, ord FROM kb_chunks WHERE service_id = $1 ORDER BY ord',
      [serviceId],
    );
    return r.rows.map(toChunk);
  }

  async function services() {
    const r = await pool.query<{ service_id: string; service_name: string; sections: SectionName[]; chunks: string }>(
      `SELECT service_id, min(service_name) AS service_name, array_agg(DISTINCT section) AS sections, count(*) AS chunks
         FROM kb_chunks GROUP BY service_id ORDER BY service_id`,
    );
    return r.rows.map((x) => ({ serviceId: x.service_id, serviceName: x.service_name, sections: x.sections, chunks: Number(x.chunks) }));
  }

  return {
    ingest,
    search,
    ensureIngested,
    serviceChunks,
    services,
    serviceNames,
    embedder: currentEmbedder,
    catalogue,
    bundleOf,
    cues,
    pool,
  };
}

async function loadEmbeddingTexts(db: pg.PoolClient, ids: string[]): Promise<{ id: string; text: string }[]> {
  if (!ids.length) return [];
  const r = await db.query<{ id: string; service_name: string; aliases: string[]; section: SectionName; title: string; text: string }>(
    'SELECT id, service_name, aliases, section, title, text FROM kb_chunks WHERE id = ANY($1) ORDER BY id',
    [ids],
  );
  return r.rows.map((x) => ({
    id: x.id,
    text: embeddingText({ serviceName: x.service_name, aliases: x.aliases, section: x.section, title: x.title, text: x.text }),
  }));
}

/**
 * Upserts chunk rows (content, vector) and their keyword postings. Either `vector`
 * (computed now) or `literal` (the stored vector, kept) must be given for each row.
 * Call `refreshStats` once the batch of writes is done. `fresh`: the chunk ids are new
 * (bulk loads), so there are no old postings to remove.
 */
export async function writeChunks(
  db: pg.PoolClient | pg.Pool,
  rows: { chunk: Chunk; vector?: number[]; literal?: string }[],
  embedder: Pick<Embedder, 'id' | 'dim'>,
  sourceRoot: string,
  opts: { fresh?: boolean } = {},
): Promise<number> {
  if (!rows.length) return 0;
  const cols: unknown[][] = Array.from({ length: 13 }, () => []);
  const post: [string[], string[], string[], number[], number[]] = [[], [], [], [], []];
  for (const { chunk: c, vector, literal } of rows) {
    const vec = vector ? vectorLiteral(vector) : literal;
    if (!vec) throw new Error(`no vector for chunk ${c.id}`);
    const { terms, length } = buildPostings({ names: [c.serviceName, ...c.aliases].join(' '), title: c.title, text: c.text });
    const values = [c.id, c.serviceId, c.serviceName, JSON.stringify(c.aliases), c.section, c.title, c.text, c.ord, sourceRoot, c.file, c.hash, vec, length];
    values.forEach((v, i) => cols[i]!.push(v));
    for (const [term, tf] of terms) {
      post[0].push(term);
      post[1].push(c.id);
      post[2].push(c.serviceId);
      post[3].push(tf);
      post[4].push(length);
    }
  }
  const r = await db.query(
    `INSERT INTO kb_chunks (id, service_id, service_name, aliases, section, title, text, ord, source_root, source_file,
                            content_hash, embedding_model, embedding_dim, embedding, tok_len, updated_at)
     SELECT u.id, u.service_id, u.service_name, ARRAY(SELECT jsonb_array_elements_text(u.aliases::jsonb)), u.section, u.title,
            u.text, u.ord, u.source_root, u.source_file, u.content_hash, $14, $15, u.embedding::vector, u.tok_len, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[],
                   $10::text[], $11::text[], $12::text[], $13::real[])
            AS u(id, service_id, service_name, aliases, section, title, text, ord, source_root, source_file, content_hash, embedding, tok_len)
     ON CONFLICT (id) DO UPDATE SET
       service_id = EXCLUDED.service_id, service_name = EXCLUDED.service_name, aliases = EXCLUDED.aliases,
       section = EXCLUDED.section, title = EXCLUDED.title, text = EXCLUDED.text, ord = EXCLUDED.ord,
       source_root = EXCLUDED.source_root, source_file = EXCLUDED.source_file, content_hash = EXCLUDED.content_hash,
       embedding_model = EXCLUDED.embedding_model, embedding_dim = EXCLUDED.embedding_dim, embedding = EXCLUDED.embedding,
       tok_len = EXCLUDED.tok_len, updated_at = now()`,
    [...cols, embedder.id, embedder.dim],
  );
  if (!opts.fresh) await db.query('DELETE FROM kb_postings WHERE chunk_id = ANY($1)', [cols[0]]);
  await db.query(
    `INSERT INTO kb_postings (term, chunk_id, service_id, tf, dl)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::real[], $5::real[])`,
    post,
  );
  return r.rowCount ?? rows.length;
}

/** Recomputes the corpus statistics BM25 needs (number of chunks, mean length). */
export async function refreshStats(db: pg.PoolClient | pg.Pool): Promise<void> {
  await db.query(
    `INSERT INTO kb_stats (id, n, avgdl)
     SELECT 1, count(*), coalesce(avg(tok_len), 1) FROM kb_chunks
     ON CONFLICT (id) DO UPDATE SET n = EXCLUDED.n, avgdl = EXCLUDED.avgdl`,
  );
}

/** The knowledge base's tables (with core's extensions), for opening a database that holds only it. */
export const KNOWLEDGE_MIGRATIONS: readonly MigrationDir[] = [
  CORE_MIGRATIONS,
  { module: 'knowledge', dir: fileURLToPath(new URL('./migrations/', import.meta.url)) },
];

/** A kb_chunks row as a chunk record. */
function toChunk(x: { id: string; service_id: string; service_name: string; section: SectionName; title: string; text: string; ord: number }): ChunkRecord {
  return { chunkId: x.id, serviceId: x.service_id, serviceName: x.service_name, section: x.section, title: x.title, text: x.text, ord: x.ord };
}
