import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { vector } from '@electric-sql/pglite-pgvector';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { runMigrations, type MigrationDir } from './migrate.js';

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
  /** Migration folders to apply before the pool is handed out (none by default). */
  migrations?: readonly MigrationDir[];
}

/** Extensions every database must provide (both on PGlite and on a Postgres server). */
export const PGLITE_EXTENSIONS = { vector, pg_trgm };

/**
 * Opens the one SQL path: a node-postgres Pool, backed either by embedded PGlite (the
 * default, on disk under DATA_DIR) or by a Postgres server when a URL is given. The given
 * migrations run before the pool is handed out.
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
    // One connection to the one embedded session (createPgConfig's poolSize 1), kept open:
    // no idle timer per query, and parameterised statements prepared once (see below).
    const pool = new pg.Pool({ ...createPgConfig(pglite), idleTimeoutMillis: 0 });
    pool.on('connect', preparedStatements());
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
  if (opts.migrations?.length) await runMigrations(db.pool, opts.migrations);
  return db;
}

/**
 * For the embedded database: every parameterised query (text plus values) runs as a named
 * prepared statement, so PGlite parses and plans it once per process instead of on every call
 * (a turn's queries are the same few statements over and over). Safe because PGlite is a
 * single session behind a single pool connection; names derive from the SQL text, so a client
 * replaced after an error reuses them. At most `max` statements are prepared; queries without
 * values (DDL, multi-statement migrations) are left alone.
 */
function preparedStatements(max = 1000): (client: pg.PoolClient) => void {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (!name && names.size < max) {
      name = `x${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
      names.set(text, name);
    }
    return name;
  };
  return (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
      if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
        const name = nameOf(config);
        if (name) return query({ name, text: config, values }, callback);
      }
      return query(config, values, callback);
    };
  };
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
