import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config.js';
import { openDatabase } from '../core/db.js';
import { configuredEmbedder, createOpenAIEmbedder, HashedNgramEmbedder, ngramFeatures } from './embeddings.js';
import { createKnowledgeBase, KNOWLEDGE_MIGRATIONS } from './kb.js';
import { keywordTokens, normalizeText, queryTokens } from './text.js';

const corpus = ['办理护照需要身份证', '结婚登记需要户口本', '失业保险金按月发放', '护照有效期十年'];

describe('offline n-gram embedder', () => {
  const e = HashedNgramEmbedder.fit(corpus, 256);

  it('is deterministic, L2-normalised, of the stated dimension', async () => {
    const [a, b] = await e.embed(['护照要多久', '护照要多久']);
    expect(a).toHaveLength(256);
    expect(a).toEqual(b);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 6);
    expect(HashedNgramEmbedder.fit(corpus, 256).id).toBe(e.id);
    expect(HashedNgramEmbedder.fit([...corpus, '新文本'], 256).id).not.toBe(e.id);
  });

  it('treats traditional and simplified the same', async () => {
    const [s, t] = await e.embed(['办理护照需要多久', '辦理護照需要多久']);
    expect(t).toEqual(s);
  });

  it('ranks related text above unrelated text', () => {
    const q = e.embedOne('护照多久能办好');
    const cos = (v: number[]) => v.reduce((x, y, i) => x + y * q[i]!, 0);
    expect(cos(e.embedOne(corpus[3]!))).toBeGreaterThan(cos(e.embedOne(corpus[1]!)));
  });

  it('round-trips its learned state', () => {
    const again = new HashedNgramEmbedder(JSON.parse(JSON.stringify(e.state)));
    expect(again.id).toBe(e.id);
    expect(again.embedOne('护照')).toEqual(e.embedOne('护照'));
  });

  it('features: Han unigrams and bigrams, latin words', () => {
    const f = ngramFeatures('护照 ID card');
    expect([...f.keys()].sort()).toEqual(['b护照', 'u护', 'u照', 'wcard', 'wid'].sort());
  });
});

describe('text', () => {
  it('normalises full-width, traditional and case', () => {
    expect(normalizeText('ＡＢＣ 護照１２３')).toBe('abc 护照123');
  });
  it('tokenises into Han bigrams and words', () => {
    expect(keywordTokens(normalizeText('办护照 ID'))).toEqual(['办护', '护照', 'id']);
    expect(keywordTokens('证')).toEqual(['证']);
  });
  it('never lets digits or latin letters swallow the Han characters after them', () => {
    expect(keywordTokens(normalizeText('65岁的津贴'))).toEqual(['65', '岁的', '的津', '津贴']);
    expect(keywordTokens(normalizeText('打12345投诉'))).toEqual(['打', '12345', '投诉']);
    expect(keywordTokens(normalizeText('ID卡'))).toEqual(['id', '卡']);
  });
  it('marks query bigrams that straddle a word boundary', () => {
    const t = queryTokens('帮我订一张去北京的机票');
    expect(t.find((x) => x.token === '北京')?.inWord).toBe(true);
    expect(t.find((x) => x.token === '机票')?.inWord).toBe(true);
    expect(t.find((x) => x.token === '京的')?.inWord).toBe(false);
  });
});

/** A minimal OpenAI-compatible /embeddings endpoint backed by the offline embedder. */
function fakeOpenAI(model: HashedNgramEmbedder): Promise<{ server: Server; url: string; calls: () => number }> {
  let calls = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/embeddings')) {
        res.writeHead(404).end();
        return;
      }
      calls++;
      const { input, encoding_format } = JSON.parse(body) as { input: string | string[]; encoding_format?: string };
      const texts = Array.isArray(input) ? input : [input];
      const data = texts.map((t, index) => {
        const v = model.embedOne(t);
        const embedding = encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v;
        return { object: 'embedding', index, embedding };
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data, model: 'fake-embed', usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/v1`, calls: () => calls });
    }),
  );
}

describe('OpenAI-compatible embeddings', () => {
  let fake: Awaited<ReturnType<typeof fakeOpenAI>>;
  const inner = HashedNgramEmbedder.fit(corpus, 128);

  beforeAll(async () => {
    fake = await fakeOpenAI(inner);
  });
  afterAll(() => {
    fake?.server.close();
  });

  it('embeds through @langchain/openai against any base URL, with a probed dimension', async () => {
    const e = await createOpenAIEmbedder({ apiKey: 'test-key', model: 'fake-embed', baseURL: fake.url });
    expect(e.id).toBe('openai:fake-embed');
    expect(e.dim).toBe(128);
    const [v] = await e.embed(['护照要多久']);
    expect(v!.length).toBe(128);
    expect(Math.hypot(...v!)).toBeCloseTo(1, 5);
  });

  it('is chosen by configuration and drives the knowledge base', async () => {
    const config = loadConfig({ OPENAI_API_KEY: 'test-key', OPENAI_EMBEDDING_MODEL: 'fake-embed', OPENAI_BASE_URL: fake.url });
    const e = await configuredEmbedder(config);
    expect(e?.id).toBe('openai:fake-embed');
    const db = await openDatabase({ dataDir: 'memory://', migrations: KNOWLEDGE_MIGRATIONS });
    try {
      const kb = createKnowledgeBase(db.pool, e);
      const s = await kb.ingest();
      expect(s.model).toBe('openai:fake-embed');
      expect(s.dim).toBe(128);
      const hits = await kb.search('办护照要多久');
      expect(hits.some((h) => h.serviceId === 'passport')).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('falls back to the offline embedder when the endpoint is unreachable', async () => {
    const warnings: string[] = [];
    const config = loadConfig({ OPENAI_API_KEY: 'k', OPENAI_EMBEDDING_MODEL: 'm', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_TIMEOUT_MS: '500' });
    expect(await configuredEmbedder(config, { warn: (w) => warnings.push(w), maxRetries: 0 })).toBeUndefined();
    expect(warnings[0]).toMatch(/unavailable/);
    await expect(configuredEmbedder(config, { strict: true, maxRetries: 0 })).rejects.toThrow();
  });

  it('is not used without both key and model', async () => {
    expect(await configuredEmbedder(loadConfig({ OPENAI_API_KEY: 'k' }))).toBeUndefined();
  });
});
