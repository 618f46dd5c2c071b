import { createHash } from 'node:crypto';
import { loadConfig, type Config } from '../core/config.js';
import { fnv1a, normalizeText, runs } from './text.js';

/** One interface for every embedding model. Vectors are L2-normalised. */
export interface Embedder {
  /** Model id recorded with each chunk; a different id means the vectors are not comparable. */
  readonly id: string;
  readonly dim: number;
  embed(texts: string[]): Promise<number[][]>;
}

// ---------------------------------------------------------------------------------------
// Offline default: hashed character n-grams with IDF, no download.

/** Bump when the featurisation changes, so stored vectors are recomputed. */
export const NGRAM_VERSION = 3;
export const NGRAM_DIM = 512;

/**
 * Feature kinds and their weights: Han unigrams and bigrams, latin/digit words. Trigrams
 * were tried and left out: on the dev set and on leave-one-out FAQ questions they added
 * more hash collisions than signal (recall@5 0.92 -> 0.99 at 512 dims without them).
 */
const WEIGHTS = { u: 1.2, b: 1, w: 1 } as const;

/** The learned part of the model: document frequencies from the guide corpus. */
export interface NgramModelState {
  version: number;
  dim: number;
  /** Number of documents (chunks) the frequencies were counted over. */
  n: number;
  /** Document frequency of each feature seen in at least two documents (others count as 1). */
  df: Record<string, number>;
}

/** Bag of features of one text: feature key -> raw count. */
export function ngramFeatures(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const r of runs(normalizeText(text))) {
    if (!r.han) {
      add(`w${r.text}`);
      continue;
    }
    const c = Array.from(r.text);
    for (let i = 0; i < c.length; i++) {
      add(`u${c[i]}`);
      if (i + 1 < c.length) add(`b${c[i]}${c[i + 1]}`);
    }
  }
  return counts;
}

export class HashedNgramEmbedder implements Embedder {
  readonly id: string;
  readonly dim: number;
  readonly state: NgramModelState;
  private readonly idfUnseen: number;

  constructor(state: NgramModelState) {
    if (state.version !== NGRAM_VERSION) throw new Error(`n-gram model version ${state.version} != ${NGRAM_VERSION}`);
    this.state = state;
    this.dim = state.dim;
    this.idfUnseen = this.idfOf(1);
    const digest = createHash('sha256')
      .update(JSON.stringify([state.n, Object.entries(state.df).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]))
      .digest('hex')
      .slice(0, 12);
    this.id = `local-ngram-v${NGRAM_VERSION}-d${state.dim}-${digest}`;
  }

  /** Learns document frequencies from a corpus (deterministic: same texts, same model). */
  static fit(texts: string[], dim = NGRAM_DIM): HashedNgramEmbedder {
    const df = new Map<string, number>();
    for (const t of texts) for (const k of ngramFeatures(t).keys()) df.set(k, (df.get(k) ?? 0) + 1);
    const kept: Record<string, number> = {};
    for (const [k, v] of [...df].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (v >= 2) kept[k] = v;
    return new HashedNgramEmbedder({ version: NGRAM_VERSION, dim, n: texts.length, df: kept });
  }

  private idfOf(df: number): number {
    return Math.log((this.state.n + 1) / (df + 1)) + 1;
  }

  idf(feature: string): number {
    const df = this.state.df[feature];
    return df === undefined ? this.idfUnseen : this.idfOf(df);
  }

  embedOne(text: string): number[] {
    const v = new Float64Array(this.dim);
    for (const [k, tf] of ngramFeatures(text)) {
      const w = WEIGHTS[k[0] as keyof typeof WEIGHTS] * (1 + Math.log(tf)) * this.idf(k);
      const h = fnv1a(k);
      const i = h % this.dim;
      v[i] = v[i]! + (h & 0x80000000 ? -w : w);
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    return Array.from(v, (x) => x / norm);
  }

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }
}

// ---------------------------------------------------------------------------------------
// OpenAI-compatible embeddings (Qwen, DeepSeek, a local vLLM...) through @langchain/openai.

export interface OpenAIEmbedderOptions {
  apiKey: string;
  model: string;
  baseURL?: string;
  timeoutMs?: number;
  /** Requested output dimension (models that support it); otherwise probed. */
  dimensions?: number;
  /** Retries on a failed request (default 2). */
  maxRetries?: number;
}

export async function createOpenAIEmbedder(opts: OpenAIEmbedderOptions): Promise<Embedder> {
  const { OpenAIEmbeddings } = await import('@langchain/openai');
  const client = new OpenAIEmbeddings({
    apiKey: opts.apiKey,
    model: opts.model,
    dimensions: opts.dimensions,
    timeout: opts.timeoutMs,
    batchSize: 64,
    maxRetries: opts.maxRetries ?? 2,
    configuration: opts.baseURL ? { baseURL: opts.baseURL } : undefined,
  });
  const l2 = (v: number[]) => {
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
    return v.map((x) => x / n);
  };
  const probe = await client.embedQuery('维度探测');
  const dim = probe.length;
  if (!dim) throw new Error(`embedding model ${opts.model} returned an empty vector`);
  return {
    id: `openai:${opts.model}`,
    dim,
    async embed(texts: string[]) {
      if (!texts.length) return [];
      const out = await client.embedDocuments(texts.map((t) => t.normalize('NFKC')));
      for (const v of out) if (v.length !== dim) throw new Error(`embedding model ${opts.model} returned dimension ${v.length}, expected ${dim}`);
      return out.map(l2);
    },
  };
}

/**
 * The configured embedder: OpenAI-compatible when OPENAI_API_KEY and OPENAI_EMBEDDING_MODEL
 * are set, else `undefined`, meaning the offline n-gram model that the knowledge base
 * learns from its guides and keeps in the database. When the remote model cannot be
 * reached at start-up, it warns and falls back to the offline model (pass
 * `strict: true` to get the error instead).
 */
export async function configuredEmbedder(
  config: Config = loadConfig(),
  opts: { strict?: boolean; warn?: (msg: string) => void; maxRetries?: number } = {},
): Promise<Embedder | undefined> {
  if (!config.OPENAI_API_KEY || !config.OPENAI_EMBEDDING_MODEL) return undefined;
  try {
    return await createOpenAIEmbedder({
      apiKey: config.OPENAI_API_KEY,
      model: config.OPENAI_EMBEDDING_MODEL,
      baseURL: config.OPENAI_BASE_URL,
      timeoutMs: config.OPENAI_TIMEOUT_MS,
      maxRetries: opts.maxRetries,
    });
  } catch (err) {
    if (opts.strict) throw err;
    (opts.warn ?? ((m: string) => process.stderr.write(`${m}\n`)))(
      `embedding model ${config.OPENAI_EMBEDDING_MODEL} unavailable (${(err as Error).message}); using the offline embedder`,
    );
    return undefined;
  }
}
