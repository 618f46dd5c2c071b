import { afterAll, beforeAll } from 'vitest';
import { openDatabase, type Database } from '../core/db.js';
import { createKnowledgeBase, KNOWLEDGE_MIGRATIONS, type IngestSummary, type KnowledgeBase } from './kb.js';

/**
 * For tests: an in-memory database with the bundled guides ingested, opened before the
 * file's tests and closed after them. Read `kb` (and `ingest`, what the ingest did) in tests.
 */
export function useBundledKnowledgeBase(): { readonly kb: KnowledgeBase; readonly ingest: IngestSummary | null } {
  let db: Database | undefined;
  let kb: KnowledgeBase | undefined;
  let ingest: IngestSummary | null = null;
  beforeAll(async () => {
    db = await openDatabase({ dataDir: 'memory://', migrations: KNOWLEDGE_MIGRATIONS });
    kb = createKnowledgeBase(db.pool);
    ingest = await kb.ensureIngested();
  });
  afterAll(async () => {
    await db?.close();
  });
  return {
    get kb() {
      if (!kb) throw new Error('knowledge base not ready (use it inside a test)');
      return kb;
    },
    get ingest() {
      return ingest;
    },
  };
}
