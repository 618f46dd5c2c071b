import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SECTIONS, type SectionName } from './guides.js';
import { expandText, loadSynonyms, NO_SYNONYMS, rewriteText, SYNONYMS_PATH, type Synonyms } from './synonyms.js';
import { ENGLISH_STOPWORDS, keywordTokens, normalizeText, queryTokens } from './text.js';

/**
 * Hybrid retrieval: pgvector nearest neighbours (HNSW, cosine) fused with a BM25 keyword
 * ranking over segmented tokens (chunk text + title + service name/aliases) by reciprocal
 * rank fusion, plus a boost for the section a question asks about. What a question asks is
 * read from the cue words of knowledge/section-cues.yaml: per section, and finer types
 * (validity, an amount paid out, a lost card...) whose answer stands in different sections
 * in different guides.
 */

export interface SearchOptions {
  /** Only chunks of this service. */
  serviceId?: string;
  /** Number of hits (default 5). */
  k?: number;
  /** The sections asked about, when the caller already knows them (else the question's cue words decide). */
  sections?: readonly SectionName[];
}

/** One stored chunk of a guide: a section (or one FAQ entry) of one service. */
export interface ChunkRecord {
  chunkId: string;
  serviceId: string;
  serviceName: string;
  section: SectionName;
  title: string;
  text: string;
  ord: number;
}

/** A chunk found by a search, with its scores. */
export interface SearchHit extends ChunkRecord {
  /** Fused score (RRF + section boost); only comparable within one query. */
  score: number;
  /** Fused score before the section boost: the evidence about the service. */
  base?: number;
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

const Words = z.array(z.union([z.string(), z.number()]).transform(String));
const CuesSchema = z.object({
  boost: z.number().min(0).default(1),
  sections: z.record(z.string(), Words),
  headings: z.record(z.string(), Words).default({}),
  types: z
    .record(
      z.string(),
      z.object({
        words: Words,
        sections: z.array(z.string()).min(1),
        evidence: z.array(z.string()).default([]),
        situation: z.boolean().default(false),
        weak: z.boolean().default(false),
        together: z.boolean().default(false),
        field: z.string().optional(),
      }),
    )
    .default({}),
});

/**
 * A kind of question: a section's own cue words ("多久" -> 办理时限), or a finer question
 * type whose answer can stand in several sections depending on the guide (validity:
 * 常见问题 or 办理时限; an amount paid out: 服务简介, 申请条件 or an FAQ entry), with the
 * words the answering text states (`evidence`, regular expressions).
 */
export interface QuestionKind {
  /** The section name, or the type's name. */
  name: string;
  /** True for a finer type (types: in the cues file), false for a section's own cues. */
  type: boolean;
  words: string[];
  /** Where the answer stands, most likely first. */
  sections: SectionName[];
  evidence: RegExp[];
  /**
   * A situation the question is asked in (a lost card, an expired one), not what it asks:
   * it comes after what is asked, and matters where nothing else is asked.
   */
  situation: boolean;
  /** A generic way of asking ("怎么办", "怎么"): counts only where nothing more specific is asked. */
  weak: boolean;
  /** Asks whether several things go together: the 一件事 a service belongs to answers it. */
  together?: boolean;
  /** Asks for a value of the application form ("钱打到哪张卡"): with a form in hand, its value answers. */
  field?: string;
}

export interface SectionCues {
  boost: number;
  /** Sections' own cue words. */
  cues: { section: SectionName; words: string[] }[];
  /** Words that name a section outright ("法律依据", "legal basis"), its own name first. */
  headings: { section: SectionName; words: string[] }[];
  /** Sections' cues and finer types together, as matched against questions. */
  kinds: QuestionKind[];
  /** How citizens say things -> how the guides say them (synonyms.yaml); none when absent. */
  synonyms?: Synonyms;
  /**
   * Service names and aliases as the questions are matched (longest first): never cue words
   * themselves ("费用" of 医保费用零星报销, "预约" of 结婚登记预约).
   */
  names?: string[];
}

/**
 * A question as the cue words are matched against it: normalised, dialect and colloquial
 * spellings rewritten (synonyms.yaml `replace`). Offsets of `cueSpans` refer to this text.
 */
export function rewriteQuery(question: string, cues: Pick<SectionCues, 'synonyms'>): string {
  return rewriteText(question, cues.synonyms ?? NO_SYNONYMS);
}

/**
 * A question as it is searched: rewritten, then the guide wording of its topic words added
 * after it (synonyms.yaml `expand`: "小孩" -> 孩子 子女 未成年人). Offsets of the rewritten part
 * are unchanged, so `cueSpans` of the expanded text are those of the rewritten one.
 */
export function expandQuery(question: string, cues: Pick<SectionCues, 'synonyms'>): string {
  return expandText(question, cues.synonyms ?? NO_SYNONYMS);
}

export type Span = readonly [number, number];

export function loadSectionCues(path = SECTION_CUES_PATH, synonymsPath: string | null = SYNONYMS_PATH, serviceNames: readonly string[] = []): SectionCues {
  const parsed = CuesSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const synonyms = synonymsPath ? loadSynonyms(synonymsPath) : NO_SYNONYMS;
  const isSection = (x: string): x is SectionName => (SECTIONS as readonly string[]).includes(x);
  const cues: SectionCues['cues'] = [];
  const kinds: QuestionKind[] = [];
  // Cue words are rewritten like questions ("带啥" is "带什么").
  const words = (ws: string[]) => [...new Set(ws.map((w) => rewriteText(w, synonyms)).filter(Boolean))];
  const headings: SectionCues['headings'] = [];
  for (const section of Object.keys(parsed.data.headings)) if (!isSection(section)) throw new Error(`${path}: headings: unknown section '${section}'`);
  for (const [section, ws] of Object.entries(parsed.data.sections)) {
    if (!isSection(section)) throw new Error(`${path}: unknown section '${section}'`);
    // A heading is a cue word of its section too.
    const heading = words([section, ...(parsed.data.headings[section] ?? [])]);
    headings.push({ section, words: heading });
    const all = [...new Set([...words(ws), ...heading])];
    cues.push({ section, words: all });
    kinds.push({ name: section, type: false, words: all, sections: [section], evidence: [], situation: false, weak: false });
  }
  for (const [name, t] of Object.entries(parsed.data.types)) {
    for (const sec of t.sections) if (!isSection(sec)) throw new Error(`${path}: type '${name}': unknown section '${sec}'`);
    const evidence = t.evidence.map((e) => {
      try {
        return new RegExp(normalizeText(e), 'u');
      } catch (err) {
        throw new Error(`${path}: type '${name}': bad evidence pattern '${e}': ${(err as Error).message}`);
      }
    });
    kinds.push({ name, type: true, words: words(t.words), sections: t.sections as SectionName[], evidence, situation: t.situation, weak: t.weak, together: t.together, ...(t.field ? { field: t.field } : {}) });
  }
  const names = [...new Set(serviceNames.map((n) => rewriteText(n, synonyms)).filter((n) => n.length >= 2))].sort((a, b) => b.length - a.length);
  return { boost: parsed.data.boost, cues, headings, kinds, synonyms, names };
}

/** A rewritten question with each service name it mentions reduced to one placeholder character. */
function withoutNames(q: string, cues: Pick<SectionCues, 'names'>): string {
  let out = q;
  for (const n of cues.names ?? []) if (out.includes(n)) out = out.split(n).join(NAME_MARK);
  return out;
}

/** What a service's name becomes in a question read for its cue words (a word a gap can span). */
const NAME_MARK = '□';

/**
 * The section a text names outright ("<事项>的办理时限", "<事项>的法律依据", "legal basis of …"):
 * such a text asks for that section even without question form. Latin headings only as whole words.
 */
export function namedSection(text: string, cues: Pick<SectionCues, 'headings' | 'synonyms'>): SectionName | null {
  const q = rewriteQuery(text, cues);
  for (const h of cues.headings) {
    for (const w of h.words) {
      const at = q.indexOf(w);
      if (at < 0) continue;
      const latin = /[a-z]/;
      if (latin.test(w[0]!) && latin.test(q[at - 1] ?? '')) continue;
      if (latin.test(w[w.length - 1]!) && latin.test(q[at + w.length] ?? '')) continue;
      return h.section;
    }
  }
  return null;
}

export interface KindMatch {
  kind: QuestionKind;
  /** Length of the longest cue word of this kind found (a pattern's literal characters). */
  len: number;
  /** Where that word starts. */
  at: number;
  /** Found by a pattern with a gap ("能*吗"), which yields to any plain cue word. */
  loose?: boolean;
}

interface Occurrence {
  kind: QuestionKind;
  start: number;
  end: number;
  /** Literal characters matched (the length that counts). */
  len: number;
  /** Where the literal parts stand (a gap of a pattern is no cue word). */
  parts: Span[];
  loose: boolean;
}

/** The characters a gap of a cue pattern may span: anything but punctuation, at most 8 (a service's name counts as one). */
const GAP = '[^，,。？?！!；;、\\s]{0,8}?';
const patterns = new Map<string, RegExp>();

function pattern(word: string): RegExp {
  let re = patterns.get(word);
  if (!re) {
    const parts = word.split('*').map((p) => `(${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})`);
    re = new RegExp(parts.join(GAP), 'gu');
    patterns.set(word, re);
  }
  return re;
}

function occurrences(q: string, cues: SectionCues): Occurrence[] {
  const all: Occurrence[] = [];
  for (const kind of cues.kinds) {
    for (const w of kind.words) {
      if (!w.includes('*')) {
        for (let at = q.indexOf(w); at >= 0; at = q.indexOf(w, at + 1)) {
          all.push({ kind, start: at, end: at + w.length, len: w.length, parts: [[at, at + w.length]], loose: false });
        }
        continue;
      }
      const re = pattern(w);
      re.lastIndex = 0;
      for (let m = re.exec(q); m; m = re.exec(q)) {
        const parts: Span[] = [];
        let at = m.index;
        const groups = m.slice(1);
        // Recover the literal parts' offsets: each group is found in order after the previous one.
        for (const g of groups) {
          const i = q.indexOf(g!, at);
          parts.push([i, i + g!.length]);
          at = i + g!.length;
        }
        all.push({ kind, start: m.index, end: m.index + m[0].length, len: groups.join('').length, parts, loose: true });
        re.lastIndex = m.index + 1;
      }
    }
  }
  // A cue inside a longer cue is part of that one: "多久" in "放多久就不能用" asks about validity, not time.
  return all.filter((o) => !all.some((p) => !p.loose && p.len > o.len && p.start <= o.start && p.end >= o.end));
}

/**
 * What is asked plainly, then the situation, then by a pattern with a gap ("家里人能帮我去办…吗"
 * asks what the situation needs, not whether one may), then generic asking.
 */
function kindOrder(m: KindMatch): number {
  return m.kind.weak ? 3 : m.loose ? 2 : m.kind.situation ? 1 : 0;
}

/** Whether a match says specifically what is asked (not a pattern, a situation or a generic "怎么办"). */
export function isSpecific(m: KindMatch): boolean {
  return kindOrder(m) === 0;
}

/**
 * The kinds of question a text asks: what is asked, most specific (longest cue word) first,
 * plain cue words before patterns, then the situations it is asked in, then generic asking.
 */
export function matchQuestionKinds(question: string, cues: SectionCues): KindMatch[] {
  const q = withoutNames(rewriteQuery(question, cues), cues);
  const best = new Map<QuestionKind, KindMatch>();
  for (const o of occurrences(q, cues)) {
    const b = best.get(o.kind);
    const better = !b || (b.loose && !o.loose) || (b.loose === o.loose && (o.len > b.len || (o.len === b.len && o.start < b.at)));
    if (better) best.set(o.kind, { kind: o.kind, len: o.len, at: o.start, ...(o.loose ? { loose: true } : {}) });
  }
  return [...best.values()].sort(
    (a, b) =>
      kindOrder(a) - kindOrder(b) ||
      b.len - a.len ||
      a.at - b.at ||
      Number(b.kind.type) - Number(a.kind.type),
  );
}

/**
 * Sections whose cue words occur in the question (a type's sections in its stead), most
 * specific first. Generic asking ("怎么", "是什么") names no section: "红烧肉怎么做" asks
 * nothing of a guide.
 */
export function matchSectionCues(question: string, cues: SectionCues): SectionName[] {
  const out: SectionName[] = [];
  for (const m of matchQuestionKinds(question, cues)) {
    if (m.kind.weak) continue;
    for (const s of m.kind.sections) if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** Where the question's cue words stand (offsets in the normalised question). */
export function cueSpans(question: string, cues: SectionCues, which: (kind: QuestionKind) => boolean = () => true): Span[] {
  return occurrences(rewriteQuery(question, cues), cues)
    .filter((o) => which(o.kind))
    .flatMap((o) => o.parts);
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
  service: string;
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
  opts: { serviceId?: string; limit: number; cueSpans?: readonly Span[] },
): Promise<KeywordResult> {
  const qt = queryTokens(normalizeText(query)).filter((t) => !ENGLISH_STOPWORDS.has(t.token));
  const inWord = new Set(qt.filter((t) => t.inWord).map((t) => t.token));
  const tokens = [...new Set(qt.map((t) => t.token))];
  // Tokens that only occur inside the question's cue words ("在哪里", "多少钱") say what kind
  // of answer is wanted, not what it is about: they rank, but they are no evidence of relevance.
  const spans = opts.cueSpans ?? [];
  const inCue = (t: { token: string; start: number }) => spans.some(([a, b]) => t.start >= a && t.start + t.token.length <= b);
  const cueOnly = new Set(tokens.filter((tok) => qt.filter((t) => t.token === tok).every(inCue)));
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
    scored.filter(([t]) => !cueOnly.has(t)).reduce((s, [, d]) => s + idf(d), 0) +
    tokens.filter((t) => !df.has(t) && inWord.has(t) && !cueOnly.has(t)).reduce((s) => s + idf(0), 0);
  if (!scored.length) return { rows: [], totalIdf };
  const params: unknown[] = [
    scored.map(([t]) => t),
    scored.map(([, d]) => idf(d)),
    opts.limit,
    scored.map(([t, d]) => (cueOnly.has(t) ? 0 : idf(d))),
  ];
  let filter = '';
  if (opts.serviceId) {
    params.push(opts.serviceId);
    filter = `AND p.service_id = $${params.length}`;
  }
  const res = await db.query<{ id: string; service_id: string; section: SectionName; score: number; matched: number }>(
    `SELECT r.id, c.service_id, c.section, r.score, r.matched
       FROM (SELECT p.chunk_id AS id,
                    sum(w.idf * (p.tf * ${K1 + 1}) / (p.tf + ${K1} * (${1 - B} + ${B} * p.dl / s.avgdl)))::float8 AS score,
                    sum(w.cov)::float8 AS matched
               FROM unnest($1::text[], $2::float8[], $4::float8[]) AS w(term, idf, cov)
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
  return {
    rows: res.rows.map((r) => ({ id: r.id, service: r.service_id, section: r.section, score: r.score, matchedIdf: r.matched })),
    totalIdf,
  };
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
  service: string;
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
      `SELECT id, service, section, distance FROM (
         SELECT id, service_id AS service, section, (${expr} <=> $1${cast})::float8 AS distance
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
      `SELECT id, service_id AS service, section, (${expr} <=> $1${cast})::float8 AS distance
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
  /** Nearest chunks to the question without its cue words (what it is about). */
  topic?: VectorRow[];
  /** Weight of the topic list's RRF contributions. */
  topicWeight?: number;
  cueSections: SectionName[];
  cueBoost: number;
}

export interface Fused {
  id: string;
  service: string;
  section: SectionName;
  /** RRF score plus the section boost. */
  score: number;
  /** RRF score alone (the evidence about the service, before any section boost). */
  base: number;
  vectorRank: number | null;
  keywordRank: number | null;
  similarity: number | null;
  coverage: number;
}

/**
 * Reciprocal rank fusion of the vector lists (the question, and the question without its cue
 * words) and the keyword list, then the section boost: a chunk of a section the question
 * asks about gains `cueBoost` times the best RRF score of its own service (the most specific
 * cue fully, further ones a little less). Relative to its service's evidence, the boost
 * reorders a relevant guide's chunks, but the "要带哪些证件" chunks of every other guide gain
 * little: no service rises above one with (1 + cueBoost) times its evidence.
 */
export function fuse(input: FusionInput): Fused[] {
  const byId = new Map<string, Fused>();
  const get = (id: string, service: string) => {
    let f = byId.get(id);
    if (!f) {
      f = { id, service, section: '服务简介', score: 0, base: 0, vectorRank: null, keywordRank: null, similarity: null, coverage: 0 };
      byId.set(id, f);
    }
    return f;
  };
  input.vector.forEach((r, i) => {
    const f = get(r.id, r.service);
    f.vectorRank = i + 1;
    f.similarity = 1 - r.distance;
    f.section = r.section;
    f.base += 1 / (RRF_K + i + 1);
  });
  input.keyword.rows.forEach((r, i) => {
    const f = get(r.id, r.service);
    f.keywordRank = i + 1;
    f.section = r.section;
    f.coverage = input.keyword.totalIdf > 0 ? Math.min(1, r.matchedIdf / input.keyword.totalIdf) : 0;
    f.base += 1 / (RRF_K + i + 1);
  });
  const tw = input.topicWeight ?? 1;
  (input.topic ?? []).forEach((r, i) => {
    const f = get(r.id, r.service);
    f.section = r.section;
    f.base += tw / (RRF_K + i + 1);
  });
  const best = new Map<string, number>();
  for (const f of byId.values()) {
    f.score = f.base;
    best.set(f.service, Math.max(best.get(f.service) ?? 0, f.base));
  }
  if (input.cueSections.length && input.cueBoost > 0) {
    for (const f of byId.values()) {
      const i = input.cueSections.indexOf(f.section);
      if (i >= 0) f.score += (input.cueBoost * best.get(f.service)!) / (1 + 0.25 * i);
    }
  }
  return [...byId.values()].sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}
