import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { vector } from '@electric-sql/pglite-pgvector';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { runMigrations } from './migrate.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface Database {
  pool: pg.Pool;
  kind: 'pglite' | 'postgres';
  /** The embedded instance, when running on PGlite (e.g. to serve it over a socket in tests). */
  pglite?: PGlite;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A Postgres server URL; when absent the embedded PGlite is used. */
  url?: string;
  /** PGlite data directory, or `memory://` for an in-memory database. */
  dataDir?: string;
  /** Max pool connections for a server database. */
  max?: number;
  migrate?: boolean;
}

/** Extensions every database must provide (both on PGlite and on a Postgres server). */
export const PGLITE_EXTENSIONS = { vector, pg_trgm };

/**
 * Opens the one SQL path: a node-postgres Pool, backed either by embedded PGlite (the
 * default, on disk under DATA_DIR) or by a Postgres server when a URL is given. Migrations
 * run before the pool is handed out.
 */
export async function openDatabase(opts: DatabaseOptions = {}): Promise<Database> {
  let db: Database;
  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.max ?? 10 });
    db = { pool, kind: 'postgres', close: () => pool.end() };
  } else {
    const dataDir = opts.dataDir ?? './data';
    let dir: string | undefined;
    if (!dataDir.startsWith('memory://')) {
      dir = resolve(dataDir, 'pg');
      mkdirSync(dir, { recursive: true });
    }
    const pglite = await PGlite.create(dir ?? 'memory://', { extensions: PGLITE_EXTENSIONS });
    const pool = new pg.Pool(createPgConfig(pglite));
    db = {
      pool,
      kind: 'pglite',
      pglite,
      close: async () => {
        await pool.end();
        await pglite.close();
      },
    };
  }
  pool_errors(db.pool);
  if (opts.migrate !== false) await runMigrations(db.pool);
  return db;
}

function pool_errors(pool: pg.Pool): void {
  // An idle client error must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
}

/** Runs `fn` in a transaction on one client, rolling back on error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
