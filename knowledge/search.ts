import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SECTIONS, type SectionName } from './guides.js';
import { keywordTokens, normalizeText, queryTokens } from './text.js';

/**
 * Hybrid retrieval: pgvector nearest neighbours (HNSW, cosine) fused with a BM25 keyword
 * ranking over segmented tokens (chunk text + title + service name/aliases) by reciprocal
 * rank fusion, plus a small boost for the section a question asks about
 * (knowledge/section-cues.yaml).
 */

export interface SearchOptions {
  /** Only chunks of this service. */
  serviceId?: string;
  /** Number of hits (default 5). */
  k?: number;
}

export interface SearchHit {
  chunkId: string;
  serviceId: string;
  serviceName: string;
  section: SectionName;
  title: string;
  text: string;
  ord: number;
  /** Fused score (RRF + section boost); only comparable within one query. */
  score: number;
  /** 1-based rank in the vector list, or null when not among its candidates. */
  vectorRank: number | null;
  /** 1-based rank in the keyword list, or null when not among its candidates. */
  keywordRank: number | null;
  /** Cosine similarity between question and chunk (0 when no vector was available). */
  similarity: number;
  /** Share of the question's keyword weight (IDF) this chunk contains, 0..1. */
  coverage: number;
  /** Sections the question's cue words point at (same for every hit of a query). */
  cueSections: SectionName[];
}

// ---------------------------------------------------------------------------------------
// Section cues (data)

export const SECTION_CUES_PATH = fileURLToPath(new URL('./section-cues.yaml', import.meta.url));

const CuesSchema = z.object({
  boost: z.number().min(0).default(1),
  sections: z.record(z.string(), z.array(z.union([z.string(), z.number()]).transform(String))),
});

export interface SectionCues {
  boost: number;
  cues: { section: SectionName; words: string[] }[];
}

export function loadSectionCues(path = SECTION_CUES_PATH): SectionCues {
  const parsed = CuesSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const cues: SectionCues['cues'] = [];
  for (const [section, words] of Object.entries(parsed.data.sections)) {
    if (!(SECTIONS as readonly string[]).includes(section)) throw new Error(`${path}: unknown section '${section}'`);
    cues.push({ section: section as SectionName, words: words.map(normalizeText).filter(Boolean) });
  }
  return { boost: parsed.data.boost, cues };
}

/** Sections whose cue words occur in the question, most specific (longest cue) first. */
export function matchSectionCues(question: string, cues: SectionCues): SectionName[] {
  const q = normalizeText(question);
  const found: { section: SectionName; len: number; at: number }[] = [];
  for (const c of cues.cues) {
    let best: { len: number; at: number } | undefined;
    for (const w of c.words) {
      const at = q.indexOf(w);
      if (at >= 0 && (!best || w.length > best.len)) best = { len: w.length, at };
    }
    if (best) found.push({ section: c.section, ...best });
  }
  return found.sort((a, b) => b.len - a.len || a.at - b.at).map((f) => f.section);
}

// ---------------------------------------------------------------------------------------
// Keyword index: postings of our own segmentation (Han bigrams, latin words; no server-side
// parser or locale involved), scored with BM25 in SQL.

/** Field weights for term frequency: names/aliases, title, text. */
const FIELD_WEIGHT = { names: 2, title: 1.5, text: 1 } as const;

export interface Postings {
  /** term -> field-weighted term frequency */
  terms: Map<string, number>;
  /** field-weighted token count */
  length: number;
}

export function buildPostings(fields: { names: string; title: string; text: string }): Postings {
  const terms = new Map<string, number>();
  let length = 0;
  for (const f of ['names', 'title', 'text'] as const) {
    const w = FIELD_WEIGHT[f];
    for (const tok of keywordTokens(normalizeText(fields[f]))) {
      terms.set(tok, (terms.get(tok) ?? 0) + w);
      length += w;
    }
  }
  return { terms, length: Math.max(length, 1) };
}

const K1 = 1.2;
const B = 0.75;
/** Terms in more than this share of chunks carry almost no weight and are not scored. */
const MAX_DF_SHARE = 0.5;

export interface KeywordRow {
  id: string;
  section: SectionName;
  score: number;
  matchedIdf: number;
}

export interface KeywordResult {
  rows: KeywordRow[];
  /** Sum of IDF over the distinct query tokens (unknown ones only when inside a word). */
  totalIdf: number;
}

export async function keywordSearch(
  db: pg.Pool | pg.PoolClient,
  query: string,
  opts: { serviceId?: string; limit: number },
): Promise<KeywordResult> {
  const qt = queryTokens(normalizeText(query));
  const inWord = new Set(qt.filter((t) => t.inWord).map((t) => t.token));
  const tokens = [...new Set(qt.map((t) => t.token))];
  if (!tokens.length) return { rows: [], totalIdf: 0 };
  const stats = await db.query<{ n: number | null; term: string | null; df: string | null }>(
    `SELECT s.n, d.term, d.df
       FROM (SELECT n FROM kb_stats WHERE id = 1) s
       LEFT JOIN (SELECT term, count(*) AS df FROM kb_postings WHERE term = ANY($1) GROUP BY term) d ON true`,
    [tokens],
  );
  const n = stats.rows[0]?.n ?? 0;
  if (!n) return { rows: [], totalIdf: 0 };
  const df = new Map(stats.rows.filter((r) => r.term !== null).map((r) => [r.term!, Number(r.df)]));
  const idf = (d: number) => Math.log(1 + (n - d + 0.5) / (d + 0.5));
  // Coverage denominator: the scored tokens the guides know, and unknown tokens that are
  // real words (机票); unknown tokens straddling a word boundary (保每) are segmentation noise.
  const scored = [...df].filter(([, d]) => d <= n * MAX_DF_SHARE);
  const totalIdf =
    scored.reduce((s, [, d]) => s + idf(d), 0) +
    tokens.filter((t) => !df.has(t) && inWord.has(t)).reduce((s) => s + idf(0), 0);
  if (!scored.length) return { rows: [], totalIdf };
  const params: unknown[] = [scored.map(([t]) => t), scored.map(([, d]) => idf(d)), opts.limit];
  let filter = '';
  if (opts.serviceId) {
    params.push(opts.serviceId);
    filter = `AND p.service_id = $${params.length}`;
  }
  const res = await db.query<{ id: string; section: SectionName; score: number; matched: number }>(
    `SELECT r.id, c.section, r.score, r.matched
       FROM (SELECT p.chunk_id AS id,
                    sum(w.idf * (p.tf * ${K1 + 1}) / (p.tf + ${K1} * (${1 - B} + ${B} * p.dl / s.avgdl)))::float8 AS score,
                    sum(w.idf)::float8 AS matched
               FROM unnest($1::text[], $2::float8[]) AS w(term, idf)
               JOIN kb_postings p ON p.term = w.term
               CROSS JOIN (SELECT greatest(avgdl, 1)::float8 AS avgdl FROM kb_stats WHERE id = 1) s
              WHERE p.term = ANY($1::text[]) ${filter}
              GROUP BY p.chunk_id
              ORDER BY score DESC, p.chunk_id
              LIMIT $3) r
       JOIN kb_chunks c ON c.id = r.id
      ORDER BY r.score DESC, r.id`,
    params,
  );
  return { rows: res.rows.map((r) => ({ id: r.id, section: r.section, score: r.score, matchedIdf: r.matched })), totalIdf };
}

// ---------------------------------------------------------------------------------------
// Vector search

export function vectorLiteral(v: number[]): string {
  return `[${v.map((x) => (Number.isFinite(x) ? Math.fround(x) : 0)).join(',')}]`;
}

/** The column expression the HNSW index for `dim` is built on. */
export function vectorExpr(dim: number): string {
  if (!Number.isInteger(dim) || dim <= 0 || dim > 16000) throw new Error(`bad vector dimension ${dim}`);
  return dim > 2000 ? `(embedding::halfvec(${dim}))` : `(embedding::vector(${dim}))`;
}

function queryCast(dim: number): string {
  return dim > 2000 ? `::halfvec(${dim})` : `::vector(${dim})`;
}

export async function ensureVectorIndex(db: pg.Pool | pg.PoolClient, dim: number): Promise<void> {
  if (dim > 4000) return; // beyond what pgvector can index: exact scan
  const ops = dim > 2000 ? 'halfvec_cosine_ops' : 'vector_cosine_ops';
  await db.query(
    `CREATE INDEX IF NOT EXISTS kb_chunks_hnsw_${dim} ON kb_chunks USING hnsw (${vectorExpr(dim)} ${ops}) WHERE embedding_dim = ${dim}`,
  );
}

export interface VectorRow {
  id: string;
  section: SectionName;
  distance: number;
}

/**
 * HNSW search breadth. pgvector returns at most ef_search rows from an index scan, so it
 * must exceed the candidate count; 100 also lifts recall@10 on hashed n-gram vectors
 * (see bench/kb.ts).
 */
export const EF_SEARCH = 100;

/**
 * Nearest chunks by cosine distance. Over the whole corpus this is an HNSW index scan
 * (when the planner finds it cheaper than a sequential scan, i.e. beyond a few thousand
 * chunks); within one service (a dozen chunks) it is exact.
 */
export async function vectorSearch(
  db: pg.Pool,
  vector: number[],
  opts: { model: string; dim: number; serviceId?: string; limit: number; efSearch?: number },
): Promise<VectorRow[]> {
  const expr = vectorExpr(opts.dim);
  const cast = queryCast(opts.dim);
  if (opts.serviceId) {
    // OFFSET 0 keeps the filter below the sort, so the service index is used, not HNSW.
    const res = await db.query<VectorRow>(
      `SELECT id, section, distance FROM (
         SELECT id, section, (${expr} <=> $1${cast})::float8 AS distance
           FROM kb_chunks
          WHERE embedding_dim = ${opts.dim} AND embedding_model = $2 AND service_id = $4
         OFFSET 0) s
        ORDER BY distance, id
        LIMIT $3`,
      [vectorLiteral(vector), opts.model, opts.limit, opts.serviceId],
    );
    return res.rows;
  }
  const ef = Math.max(opts.efSearch ?? EF_SEARCH, opts.limit);
  // SET LOCAL needs a transaction on one connection.
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL hnsw.ef_search = ${Math.floor(ef)}`);
    const res = await client.query<VectorRow>(
      `SELECT id, section, (${expr} <=> $1${cast})::float8 AS distance
         FROM kb_chunks
        WHERE embedding_dim = ${opts.dim} AND embedding_model = $2
        ORDER BY ${expr} <=> $1${cast}
        LIMIT $3`,
      [vectorLiteral(vector), opts.model, opts.limit],
    );
    await client.query('COMMIT');
    return res.rows;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------------------------------
// Fusion

/** RRF constant: a rank-r item contributes 1/(RRF_K + r). */
export const RRF_K = 60;
export const CANDIDATES = 50;

export interface FusionInput {
  vector: VectorRow[];
  keyword: KeywordResult;
  cueSections: SectionName[];
  cueBoost: number;
}

export interface Fused {
  id: string;
  section: SectionName;
  score: number;
  vectorRank: number | null;
  keywordRank: number | null;
  similarity: number | null;
  coverage: number;
}

export function fuse(input: FusionInput): Fused[] {
  const byId = new Map<string, Fused>();
  const get = (id: string) => {
    let f = byId.get(id);
    if (!f) {
      f = { id, section: '服务简介', score: 0, vectorRank: null, keywordRank: null, similarity: null, coverage: 0 };
      byId.set(id, f);
    }
    return f;
  };
  input.vector.forEach((r, i) => {
    const f = get(r.id);
    f.vectorRank = i + 1;
    f.similarity = 1 - r.distance;
    f.section = r.section;
    f.score += 1 / (RRF_K + i + 1);
  });
  input.keyword.rows.forEach((r, i) => {
    const f = get(r.id);
    f.keywordRank = i + 1;
    f.section = r.section;
    f.coverage = input.keyword.totalIdf > 0 ? Math.min(1, r.matchedIdf / input.keyword.totalIdf) : 0;
    f.score += 1 / (RRF_K + i + 1);
  });
  if (input.cueSections.length && input.cueBoost > 0) {
    const bonus = input.cueBoost / (RRF_K + 1);
    for (const f of byId.values()) {
      const i = input.cueSections.indexOf(f.section);
      // The most specific cue gets the full boost, further ones a little less.
      if (i >= 0) f.score += bonus / (1 + 0.25 * i);
    }
  }
  return [...byId.values()].sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}
