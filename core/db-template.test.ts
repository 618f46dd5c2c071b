import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './db.js';
import { FileCache } from './file-cache.js';
import { CORE_MIGRATIONS } from './migrate.js';

/** The embedded database on a fresh data folder, set up by initdb or from the kept empty cluster. */
const root = mkdtempSync(join(tmpdir(), 'xiaoshen-db-template-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function roundTrip(dataDir: string, cache: FileCache): Promise<string> {
  const db = await openDatabase({ dataDir, cache, migrations: [CORE_MIGRATIONS] });
  try {
    await db.pool.query('CREATE TABLE IF NOT EXISTS probe (v text)');
    await db.pool.query('INSERT INTO probe VALUES ($1)', [dataDir]);
    const ext = await db.pool.query<{ extname: string }>(`SELECT extname FROM pg_extension WHERE extname IN ('vector', 'pg_trgm') ORDER BY 1`);
    expect(ext.rows.map((r) => r.extname)).toEqual(['pg_trgm', 'vector']);
    return (await db.pool.query<{ v: string }>('SELECT string_agg(v, \',\') AS v FROM probe')).rows[0]!.v;
  } finally {
    await db.close();
  }
}

describe('a fresh embedded data folder', () => {
  const cacheDir = join(root, 'cache');
  const cache = new FileCache(cacheDir);

  it('is set up by initdb the first time, which keeps the empty cluster', async () => {
    expect(await roundTrip(join(root, 'one'), cache)).toBe(join(root, 'one'));
    expect(readdirSync(cacheDir).some((f) => f.startsWith('pglite-initdb-'))).toBe(true);
  }, 60_000);

  it('is unpacked from the kept cluster the next time, and keeps its own data across reopening', async () => {
    expect(await roundTrip(join(root, 'two'), cache)).toBe(join(root, 'two'));
    expect(await roundTrip(join(root, 'two'), cache)).toBe(`${join(root, 'two')},${join(root, 'two')}`);
    // The first folder is untouched by the second.
    expect(await roundTrip(join(root, 'one'), cache)).toBe(`${join(root, 'one')},${join(root, 'one')}`);
  }, 60_000);

  it('falls back to initdb when the kept cluster is damaged', async () => {
    for (const f of readdirSync(cacheDir)) writeFileSync(join(cacheDir, f), 'not a tarball');
    expect(await roundTrip(join(root, 'three'), cache)).toBe(join(root, 'three'));
  }, 60_000);
});
