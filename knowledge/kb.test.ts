import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as OpenCC from 'opencc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue as projectCatalogue } from './catalogue.js';
import { openDatabase, type Database } from '../core/db.js';
import { HashedNgramEmbedder, type Embedder } from './embeddings.js';
import { GUIDES_DIR, SECTIONS } from './guides.js';
import { createKnowledgeBase, KNOWLEDGE_MIGRATIONS } from './kb.js';
import { useBundledKnowledgeBase } from './testing.js';
import { evaluateRetrieval, readRetrievalItems } from './retrieval-eval.js';

const catalogue = projectCatalogue().services;
const DEV = new URL('./dev-questions.jsonl', import.meta.url).pathname;

/** Wraps an embedder and counts the texts it is asked to embed. */
function counting(inner: Embedder, id = inner.id): Embedder & { count: number } {
  const e = {
    id,
    dim: inner.dim,
    count: 0,
    async embed(texts: string[]) {
      e.count += texts.length;
      return inner.embed(texts);
    },
  };
  return e;
}

describe('knowledge base over the bundled guides', () => {
  const bundled = useBundledKnowledgeBase();
  beforeAll(() => {
    expect(bundled.ingest?.skipped).toBe(0);
  });

  it('holds all catalogue services with every section', async () => {
    const services = new Map((await bundled.kb.services()).map((s) => [s.serviceId, s]));
    for (const svc of catalogue) {
      const s = services.get(svc.id);
      expect(s, `${svc.id} missing from the knowledge base`).toBeDefined();
      expect([...s!.sections].sort(), `${svc.id} sections`).toEqual([...SECTIONS].sort());
    }
  });

  it('records model id and dimension with each chunk', async () => {
    const e = await bundled.kb.embedder();
    const r = await bundled.kb.pool.query<{ embedding_model: string; embedding_dim: number; n: string }>(
      'SELECT embedding_model, embedding_dim, count(*) AS n FROM kb_chunks GROUP BY 1, 2',
    );
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]!.embedding_model).toBe(e!.id);
    expect(r.rows[0]!.embedding_dim).toBe(512);
    const idx = await bundled.kb.pool.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'kb_chunks_hnsw_512'`);
    expect(idx.rows[0]?.indexdef).toMatch(/USING hnsw/);
  });

  it('ensureIngested is cheap when up to date', async () => {
    const t0 = performance.now();
    expect(await bundled.kb.ensureIngested()).toBeNull();
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it('re-ingesting unchanged guides writes nothing', async () => {
    const before = await bundled.kb.pool.query<{ m: Date }>('SELECT max(updated_at) AS m FROM kb_chunks');
    const s = await bundled.kb.ingest();
    expect(s).toMatchObject({ embedded: 0, written: 0, deleted: 0, refit: false });
    expect(s.unchanged).toBe(s.chunks);
    expect(s.ms).toBeLessThan(3000);
    const after = await bundled.kb.pool.query<{ m: Date }>('SELECT max(updated_at) AS m FROM kb_chunks');
    expect(after.rows[0]!.m).toEqual(before.rows[0]!.m);
  });

  it('finds the materials chunk for the seed question', async () => {
    const hits = await bundled.kb.search('开无犯罪证明要带什么材料');
    expect(hits[0]).toMatchObject({ serviceId: 'criminal_record_certificate', section: '申请材料' });
    expect(hits[0]!.score).toBeGreaterThan(0);
    expect(hits[0]!.vectorRank ?? hits[0]!.keywordRank).not.toBeNull();
  });

  it('filters by service', async () => {
    const hits = await bundled.kb.search('多少钱', { serviceId: 'passport', k: 8 });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.serviceId === 'passport')).toBe(true);
    expect(hits[0]!.section).toBe('收费标准');
  });

  it('maps question words to sections (section-cues.yaml)', async () => {
    const cases: [string, string][] = [
      ['办护照要多久', '办理时限'],
      ['护照在哪里办', '办理渠道'],
      ['办护照收费吗', '收费标准'],
      ['办护照要带什么', '申请材料'],
    ];
    for (const [q, section] of cases) {
      const hits = await bundled.kb.search(q, { serviceId: 'passport', k: 3 });
      expect(hits[0]?.section, q).toBe(section);
    }
  });

  it('retrieves the dev set (recall@5 >= 0.95)', async () => {
    const r = await evaluateRetrieval(bundled.kb, readRetrievalItems(DEV));
    console.log(`dev set: n=${r.n} recall@5=${r.recall_at_5.toFixed(3)} MRR=${r.mrr.toFixed(3)}`);
    expect(r.recall_at_5).toBeGreaterThanOrEqual(0.95);
  });

  it('retrieves traditional-character questions as well as simplified ones', async () => {
    const toTraditional = OpenCC.Converter({ from: 'cn', to: 'tw' });
    const items = readRetrievalItems(DEV).filter((i) => !i.id.startsWith('t'));
    const trad = items.map((i) => ({ ...i, question: toTraditional(i.question) }));
    expect(trad.filter((t, i) => t.question !== items[i]!.question).length).toBeGreaterThan(items.length * 0.8);
    const s = await evaluateRetrieval(bundled.kb, items);
    const t = await evaluateRetrieval(bundled.kb, trad);
    console.log(`simplified recall@5=${s.recall_at_5.toFixed(3)} MRR=${s.mrr.toFixed(3)}; traditional recall@5=${t.recall_at_5.toFixed(3)} MRR=${t.mrr.toFixed(3)}`);
    expect(t.recall_at_5).toBeGreaterThanOrEqual(s.recall_at_5 - 0.02);
    expect(t.mrr).toBeGreaterThanOrEqual(s.mrr - 0.03);
    const a = await bundled.kb.search('開無犯罪證明要帶什麼材料');
    const b = await bundled.kb.search('开无犯罪证明要带什么材料');
    expect(a.map((h) => h.chunkId)).toEqual(b.map((h) => h.chunkId));
  });

  it('returns nothing for empty queries', async () => {
    expect(await bundled.kb.search('   ')).toEqual([]);
    expect(await bundled.kb.search('！？。')).toEqual([]);
  });
});

describe('incremental ingestion of a folder of guides', () => {
  let db: Database;
  let dir: string;

  beforeAll(async () => {
    db = await openDatabase({ dataDir: 'memory://', migrations: KNOWLEDGE_MIGRATIONS });
    dir = mkdtempSync(join(tmpdir(), 'kb-guides-'));
    cpSync(GUIDES_DIR, dir, { recursive: true });
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-embeds only the changed chunks of an edited guide, deletes removed ones', async () => {
    const kb = createKnowledgeBase(db.pool);
    const first = await kb.ingest(dir);
    expect(first.embedded).toBe(first.chunks);
    expect(first.refit).toBe(true);

    const again = await kb.ingest(dir);
    expect(again).toMatchObject({ embedded: 0, written: 0, deleted: 0 });

    // Edit one section of one guide.
    const file = join(dir, 'passport', 'guide.md');
    const src = readFileSync(file, 'utf8');
    const edited = src.replace(/## 收费标准\n/, '## 收费标准\n（本段已于测试中修改。）\n');
    expect(edited).not.toBe(src);
    writeFileSync(file, edited);
    const fees = (await db.pool.query(`SELECT count(*)::int AS n FROM kb_chunks WHERE id LIKE 'passport#收费标准#%'`)).rows[0].n as number;
    const third = await kb.ingest(dir);
    expect(third.refit).toBe(false);
    expect(third.embedded).toBe(fees);
    expect(third.written).toBe(fees);
    expect(third.unchanged).toBe(third.chunks - fees);
    const row = await db.pool.query(`SELECT text FROM kb_chunks WHERE id = 'passport#收费标准#0'`);
    expect(row.rows[0].text).toMatch(/本段已于测试中修改/);

    // Remove one FAQ pair: its chunk is deleted (later pairs shift and are re-embedded).
    const faqs = edited.split(/^### /m);
    const withoutLast = faqs.slice(0, -1).join('### ');
    writeFileSync(file, withoutLast.trimEnd() + '\n');
    const fourth = await kb.ingest(dir);
    expect(fourth.deleted).toBe(1);
    expect(fourth.embedded).toBe(0);

    // Remove a whole guide: all its chunks go.
    const n = (await db.pool.query(`SELECT count(*)::int AS n FROM kb_chunks WHERE service_id = 'urban_issue_report'`)).rows[0].n as number;
    rmSync(join(dir, 'urban_issue_report'), { recursive: true });
    const fifth = await kb.ingest(dir);
    expect(fifth.deleted).toBe(n);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM kb_documents WHERE service_id = 'urban_issue_report'`)).rows[0].n).toBe(0);
  });

  it('keeps a broken guide out and its old chunks in, reporting file and problem', async () => {
    const kb = createKnowledgeBase(db.pool);
    const file = join(dir, 'retirement', 'guide.md');
    const before = (await db.pool.query(`SELECT count(*)::int AS n FROM kb_chunks WHERE service_id = 'retirement'`)).rows[0].n as number;
    writeFileSync(file, readFileSync(file, 'utf8').replace(/## 办理时限[\s\S]*?(?=## 收费标准)/, ''));
    const s = await kb.ingest(dir);
    expect(s.skipped).toBe(1);
    expect(s.issues).toContainEqual({ file, severity: 'error', problem: 'missing section: ## 办理时限' });
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM kb_chunks WHERE service_id = 'retirement'`)).rows[0].n).toBe(before);
  });

  it('accepts a user guide outside the catalogue (with a warning) and finds it', async () => {
    const kb = createKnowledgeBase(db.pool);
    const own = mkdtempSync(join(tmpdir(), 'kb-own-'));
    try {
      mkdirSync(join(own, 'pet_licence'));
      const src = readFileSync(join(GUIDES_DIR, 'passport', 'guide.md'), 'utf8')
        .replace(/^id: .*$/m, 'id: pet_licence')
        .replace(/^name: .*$/m, 'name: 犬只登记\naliases: [养狗登记, 狗证]')
        .replace(/## 服务简介\n/, '## 服务简介\n养犬人办理犬只登记、领取犬牌的服务。\n');
      writeFileSync(join(own, 'pet_licence', 'guide.md'), src);
      const s = await kb.ingest(own);
      expect(s.files).toBe(1);
      expect(s.issues.some((i) => i.severity === 'warning' && /not in the service catalogue/.test(i.problem))).toBe(true);
      const hits = await kb.search('养狗要办狗证吗');
      expect(hits[0]?.serviceId).toBe('pet_licence');
      // Ingesting the user folder leaves the other guides alone.
      expect((await kb.services()).length).toBeGreaterThan(25);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('re-embeds everything when the embedding model changes', async () => {
    const base = createKnowledgeBase(db.pool);
    const local = (await base.embedder()) as HashedNgramEmbedder;
    const total = (await db.pool.query(`SELECT count(*)::int AS n FROM kb_chunks`)).rows[0].n as number;

    // Same dimension, another model id.
    const other = counting(local, 'test-model-a');
    const kbA = createKnowledgeBase(db.pool, other);
    const a = await kbA.ingest(dir);
    expect(other.count).toBe(total); // this folder's chunks and the other folder's chunks
    expect(a.embedded).toBe(total);
    expect(a.model).toBe('test-model-a');
    other.count = 0;
    expect((await kbA.ingest(dir)).embedded).toBe(0);
    expect(other.count).toBe(0);

    // Another dimension: a new HNSW index for it, and search still works.
    const small = HashedNgramEmbedder.fit(['犬只登记', '护照', '身份证'], 256);
    const smallC = counting(small, 'test-model-256');
    const kbB = createKnowledgeBase(db.pool, smallC);
    const b = await kbB.ingest(dir);
    expect(b.embedded).toBe(total);
    expect(b.dim).toBe(256);
    const dims = await db.pool.query(`SELECT DISTINCT embedding_dim FROM kb_chunks`);
    expect(dims.rows).toEqual([{ embedding_dim: 256 }]);
    const idx = await db.pool.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'kb_chunks_hnsw_256'`);
    expect(idx.rowCount).toBe(1);
    const hits = await kbB.search('办护照要多久');
    expect(hits.some((h) => h.serviceId === 'passport')).toBe(true);
    expect(hits.some((h) => h.vectorRank !== null)).toBe(true);
  });
});
