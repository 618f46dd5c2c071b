import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/**
 * Versioned SQL migrations. Each module keeps its own folder of `NNN_name.sql` files; they
 * run in (folder order, file name) order, each once, inside a transaction, recorded in
 * `schema_migrations` as `<module>/migrations/<file>`. A second start on the same database
 * applies nothing new. Which folders there are is the composition root's business
 * (app/migrations.ts), not this module's.
 */
export interface MigrationDir { module: string; dir: string }

/** This module's own migrations (extensions every database needs). */
export const CORE_MIGRATIONS: MigrationDir = { module: 'core', dir: fileURLToPath(new URL('./migrations/', import.meta.url)) };
export interface Migration { id: string; sql: string }

export function listMigrations(dirs: readonly MigrationDir[]): Migration[] {
  const out: Migration[] = [];
  for (const { module, dir } of dirs) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort()) {
      out.push({ id: `${module}/migrations/${file}`, sql: readFileSync(join(dir, file), 'utf8') });
    }
  }
  return out;
}

export async function runMigrations(pool: pg.Pool, dirs: readonly MigrationDir[]): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    // Serialise concurrent starters (two app replicas on one server database).
    await client.query('SELECT pg_advisory_lock(7420113)');
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    for (const m of listMigrations(dirs)) {
      if (done.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
        await client.query('COMMIT');
        applied.push(m.id);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const message = (err as Error).message;
        const database = await client.query<{ db: string }>('SELECT current_database() AS db').then((r) => r.rows[0]?.db ?? '', () => '');
        throw new Error(`Migration ${m.id} failed: ${message}${extensionHint(m.sql, message, database)}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(7420113)').catch(() => undefined);
    client.release();
  }
  return applied;
}

/**
 * What to do when a migration could not create an extension: most often the role may not
 * (pgvector is not a trusted extension) or the server lacks it. Names the SQL a superuser runs.
 */
export function extensionHint(sql: string, message: string, database: string): string {
  const names = [...sql.matchAll(/CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([\w-]+)"?/gi)].map((m) => m[1]!);
  if (!names.length || !/extension|permission denied/i.test(message)) return '';
  return `\n${missingExtensionsAdvice(names, database)}`;
}

/** What a superuser runs to give a database the extensions it lacks (also the test run's check). */
export function missingExtensionsAdvice(names: readonly string[], database: string): string {
  return [
    `The database${database ? ` "${database}"` : ''} lacks an extension this app needs, and this role may not create it (or the server does not have it).`,
    `A superuser must run, in that database:`,
    ...names.map((n) => `  CREATE EXTENSION IF NOT EXISTS ${n};`),
    'pgvector ("vector") must first be installed on the server: https://github.com/pgvector/pgvector#installation',
  ].join('\n');
}
