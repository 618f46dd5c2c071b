import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './db.js';
import { extensionHint, runMigrations } from './migrate.js';

const dir = mkdtempSync(join(tmpdir(), 'xiaoshen-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migrations', () => {
  it('say which SQL a superuser must run when an extension cannot be created', async () => {
    writeFileSync(join(dir, '001_ext.sql'), 'CREATE EXTENSION IF NOT EXISTS xiaoshen_missing_extension;\n');
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      const err = await runMigrations(db.pool, [{ module: 'probe', dir }]).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      const message = (err as Error).message;
      expect(message).toMatch(/Migration probe\/migrations\/001_ext.sql failed/);
      expect(message).toContain('A superuser must run, in that database:');
      expect(message).toContain('CREATE EXTENSION IF NOT EXISTS xiaoshen_missing_extension;');
      // Nothing was recorded: the next start tries again.
      const recorded = await db.pool.query(`SELECT count(*)::int AS n FROM schema_migrations WHERE id LIKE 'probe/%'`);
      expect(recorded.rows[0].n).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('give no extension advice for other failures', () => {
    expect(extensionHint('CREATE TABLE t (x int);', 'syntax error', 'db')).toBe('');
    expect(extensionHint('CREATE EXTENSION vector;', 'permission denied to create extension "vector"', 'xiaoshen')).toContain('in that database');
    expect(extensionHint('CREATE EXTENSION vector;', 'permission denied to create extension "vector"', 'xiaoshen')).toContain('"xiaoshen"');
  });
});
