import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Throwaway databases on a Postgres server, for `memory://` when TEST_DATABASE_URL is set:
 * each one is a schema of its own (`xiaoshen_t_…`), created when opened and dropped when
 * closed, and reached through a search path of that schema then `public` (where a superuser
 * installed the extensions). The whole test suite, and every server process a test starts,
 * then runs against the server without knowing it, and leaves the database as it found it.
 */
export const EPHEMERAL_PREFIX = 'xiaoshen_t_';

export interface EphemeralSchema {
  schema: string;
  /** The server URL with this schema first on the search path. */
  url: string;
  drop(): Promise<void>;
}

export async function createEphemeralSchema(serverUrl: string): Promise<EphemeralSchema> {
  const schema = `${EPHEMERAL_PREFIX}${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`;
  await withClient(serverUrl, (c) => c.query(`CREATE SCHEMA ${schema}`));
  return {
    schema,
    url: withSearchPath(serverUrl, `${schema},public`),
    drop: () => withClient(serverUrl, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => undefined),
  };
}

/** Drops the throwaway schemas left by processes that died before closing them. */
export async function dropEphemeralSchemas(serverUrl: string): Promise<number> {
  return withClient(serverUrl, async (c) => {
    const { rows } = await c.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${EPHEMERAL_PREFIX}%`]);
    for (const r of rows) await c.query(`DROP SCHEMA IF EXISTS ${r.nspname} CASCADE`);
    return rows.length;
  });
}

/** A connection string whose sessions start with the given search path (libpq `options`). */
export function withSearchPath(url: string, searchPath: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${searchPath}`);
  return u.toString();
}

/** One connection to the server for `fn`, closed after it. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
