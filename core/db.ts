import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { vector } from '@electric-sql/pglite-pgvector';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { lockDataDir } from './dir-lock.js';
import { createEphemeralSchema } from './ephemeral-schema.js';
import { FileCache } from './file-cache.js';
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
  /**
   * PGlite data directory, or `memory://` for a throwaway in-memory database (with
   * TEST_DATABASE_URL set: a throwaway schema on that server, see ephemeral-schema.ts).
   */
  dataDir?: string;
  /** Max pool connections for a server database. */
  max?: number;
  /** Migration folders to apply before the pool is handed out (none by default). */
  migrations?: readonly MigrationDir[];
  /** Where an initialised empty embedded database is kept, so a fresh DATA_DIR skips initdb. */
  cache?: Pick<FileCache, 'get' | 'set'>;
}

/** Extensions every database must provide (both on PGlite and on a Postgres server). */
export const PGLITE_EXTENSIONS = { vector, pg_trgm };

/**
 * Settings of the embedded server. Postgres' default 128 MB of shared buffers lives in
 * PGlite's WebAssembly memory and, once touched, in the process's resident memory; the
 * embedded database (sessions, applications, a few thousand guide chunks) works within 16 MB
 * and the process at rest needs about 130 MB less.
 */
const PGLITE_CONF = ['shared_buffers=16MB'];
const PGLITE_OPTIONS = { extensions: PGLITE_EXTENSIONS, postgresqlconf: PGLITE_CONF };

/**
 * Opens the one SQL path: a node-postgres Pool, backed either by embedded PGlite (the
 * default, on disk under DATA_DIR) or by a Postgres server when a URL is given. The given
 * migrations run before the pool is handed out.
 */
export async function openDatabase(opts: DatabaseOptions = {}): Promise<Database> {
  let db: Database;
  const ephemeralServer = !opts.url && (opts.dataDir ?? '').startsWith('memory://') ? process.env.TEST_DATABASE_URL : undefined;
  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.max ?? 10 });
    db = { pool, kind: 'postgres', close: () => pool.end() };
  } else if (ephemeralServer) {
    // Tests on a server (TEST_DATABASE_URL): a throwaway in-memory database becomes a throwaway schema.
    const ephemeral = await createEphemeralSchema(ephemeralServer);
    const pool = new pg.Pool({ connectionString: ephemeral.url, max: opts.max ?? 10 });
    db = {
      pool,
      kind: 'postgres',
      close: async () => {
        await pool.end();
        await ephemeral.drop();
      },
    };
  } else {
    const dataDir = opts.dataDir ?? './data';
    let dir: string | undefined;
    if (!dataDir.startsWith('memory://')) {
      dir = resolve(dataDir, 'pg');
      mkdirSync(dir, { recursive: true });
    }
    const unlock = dir ? lockDataDir(resolve(dataDir)) : () => undefined;
    let pglite: PGlite;
    try {
      pglite = dir ? await openPgliteDir(dir, opts.cache) : await PGlite.create('memory://', PGLITE_OPTIONS);
    } catch (err) {
      unlock();
      throw err;
    }
    // One connection to the one embedded session (createPgConfig's poolSize 1), kept open:
    // no idle timer per query, and parameterised statements prepared once (see below).
    const pool = new pg.Pool({ ...createPgConfig(pglite), idleTimeoutMillis: 0 });
    pool.on('connect', preparedStatements());
    db = {
      pool,
      kind: 'pglite',
      pglite,
      close: async () => {
        try {
          await pool.end();
          await pglite.close();
        } finally {
          unlock();
        }
      },
    };
  }
  pool_errors(db.pool);
  if (opts.migrations?.length) await runMigrations(db.pool, opts.migrations);
  return db;
}

/**
 * PGlite on a data folder. A fresh folder is normally set up by initdb, about 2 s of work
 * whose result depends only on PGlite's version and settings: the first fresh start keeps
 * that result (a tarball of the empty cluster) in the cache, later fresh starts unpack it
 * instead (about 0.5 s). A folder that already holds a database is opened as it is.
 */
async function openPgliteDir(dir: string, cache: DatabaseOptions['cache']): Promise<PGlite> {
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  if (!fresh || !cache) return PGlite.create(dir, PGLITE_OPTIONS);
  const key = FileCache.key(pgliteVersion(), JSON.stringify(PGLITE_CONF), Object.keys(PGLITE_EXTENSIONS).join(','));
  const template = cache.get(TEMPLATE, key);
  if (template) {
    try {
      return await PGlite.create(dir, { ...PGLITE_OPTIONS, loadDataDir: new Blob([new Uint8Array(template)]) });
    } catch {
      // An unusable template: start over with initdb (and keep a new one).
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    }
  }
  const pglite = await PGlite.create(dir, PGLITE_OPTIONS);
  const dump = await pglite.dumpDataDir('gzip');
  cache.set(TEMPLATE, key, new Uint8Array(await dump.arrayBuffer()));
  return pglite;
}

const TEMPLATE = 'pglite-initdb';

function pgliteVersion(): string {
  // The package does not export its package.json: read it beside the resolved entry point.
  let d = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return (JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { version: string }).version;
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
