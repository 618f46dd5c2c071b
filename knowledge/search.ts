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
// Keyword index: tsvector literals built from our own segmentation (no server-side parser
// or locale involved), scored with BM25 in SQL.

const FIELD_WEIGHT = { A: 2, B: 1.5, D: 1 } as const;
const MAX_POSITIONS = 200;

/** Builds the tsvector literal for a chunk: A = names/aliases, B = title, D = text. */
export function buildTsvector(fields: { names: string; title: string; text: string }): { tsv: string; length: number } {
  const lexemes = new Map<string, string[]>();
  let pos = 0;
  let length = 0;
  const add = (s: string, w: keyof typeof FIELD_WEIGHT) => {
    for (const tok of keywordTokens(normalizeText(s))) {
      pos = Math.min(pos + 1, 16383);
      length += FIELD_WEIGHT[w];
      const list = lexemes.get(tok) ?? [];
      if (list.length < MAX_POSITIONS) list.push(w === 'D' ? String(pos) : `${pos}${w}`);
      lexemes.set(tok, list);
    }
  };
  add(fields.names, 'A');
  add(fields.title, 'B');
  add(fields.text, 'D');
  const tsv = [...lexemes].map(([tok, ps]) => `'${tok}':${ps.join(',')}`).join(' ');
  return { tsv, length: Math.max(length, 1) };
}

const K1 = 1.2;
const B = 0.75;
/** At most this many distinct query tokens are scored (the rarest ones). */
const MAX_QUERY_TERMS = 24;

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
  // Document frequencies over the whole corpus (not the filtered part).
  const dfRes = await db.query<{ t: string; df: string; n: string }>(
    `SELECT t, (SELECT count(*) FROM kb_chunks c WHERE c.tsv @@ ('''' || t || '''')::tsquery) AS df,
            (SELECT count(*) FROM kb_chunks) AS n
       FROM unnest($1::text[]) AS t`,
    [tokens],
  );
  const n = Number(dfRes.rows[0]?.n ?? 0);
  if (!n) return { rows: [], totalIdf: 0 };
  const idf = (df: number) => Math.log(1 + (n - df + 0.5) / (df + 0.5));
  const weighted = dfRes.rows.map((r) => ({ t: r.t, df: Number(r.df), idf: idf(Number(r.df)) }));
  // Coverage denominator: every token the guides know, and unknown tokens that are real
  // words (机票); unknown tokens straddling a word boundary (保每) are segmentation noise.
  const totalIdf = weighted.filter((w) => w.df > 0 || inWord.has(w.t)).reduce((s, w) => s + w.idf, 0);
  const present = weighted
    .filter((w) => w.df > 0)
    .sort((a, b) => a.df - b.df)
    .slice(0, MAX_QUERY_TERMS);
  if (!present.length) return { rows: [], totalIdf };
  const terms = present.map((w) => w.t);
  const idfs = present.map((w) => w.idf);
  const tsquery = terms.map((t) => `'${t}'`).join(' | ');
  const params: unknown[] = [terms, idfs, tsquery, opts.limit];
  let filter = '';
  if (opts.serviceId) {
    params.push(opts.serviceId);
    filter = `AND c.service_id = $${params.length}`;
  }
  const res = await db.query<{ id: string; section: SectionName; score: number; matched: number }>(
    `WITH w AS (SELECT * FROM unnest($1::text[], $2::float8[]) AS w(t, idf)),
          s AS (SELECT coalesce(avg(tok_len), 1)::float8 AS avgdl FROM kb_chunks)
     SELECT c.id, c.section,
            sum(w.idf * (u.tf * ${K1 + 1}) / (u.tf + ${K1} * (1 - ${B} + ${B} * c.tok_len / s.avgdl)))::float8 AS score,
            sum(w.idf)::float8 AS matched
       FROM kb_chunks c
       CROSS JOIN s
       CROSS JOIN LATERAL (
         SELECT x.lexeme,
                (SELECT sum(CASE wt WHEN 'A' THEN ${FIELD_WEIGHT.A} WHEN 'B' THEN ${FIELD_WEIGHT.B} ELSE 1 END)
                   FROM unnest(x.weights) AS wt)::float8 AS tf
           FROM unnest(c.tsv) AS x
       ) u
       JOIN w ON w.t = u.lexeme
      WHERE c.tsv @@ $3::tsquery ${filter}
      GROUP BY c.id, c.section
      ORDER BY score DESC, c.id
      LIMIT $4`,
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

export async function vectorSearch(
  db: pg.Pool | pg.PoolClient,
  vector: number[],
  opts: { model: string; dim: number; serviceId?: string; limit: number },
): Promise<VectorRow[]> {
  const expr = vectorExpr(opts.dim);
  const params: unknown[] = [vectorLiteral(vector), opts.model, opts.limit];
  let filter = '';
  if (opts.serviceId) {
    params.push(opts.serviceId);
    filter = `AND service_id = $${params.length}`;
  }
  const res = await db.query<VectorRow>(
    `SELECT id, section, (${expr} <=> $1${queryCast(opts.dim)})::float8 AS distance
       FROM kb_chunks
      WHERE embedding_dim = ${opts.dim} AND embedding_model = $2 ${filter}
      ORDER BY ${expr} <=> $1${queryCast(opts.dim)}
      LIMIT $3`,
    params,
  );
  return res.rows;
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
