import { PGLITE_EXTENSIONS } from '../core/db.js';
import { dropEphemeralSchemas, withClient } from '../core/ephemeral-schema.js';
import { missingExtensionsAdvice } from '../core/migrate.js';

/**
 * `TEST_DATABASE_URL=postgres://… npm test`: the suite on a Postgres server. Every throwaway
 * database a test opens (`memory://`) is a schema of its own there (core/ephemeral-schema.ts),
 * dropped when closed; this checks the server once before the run and drops what a killed
 * process left behind, before and after. Without TEST_DATABASE_URL it does nothing.
 */
export async function setup(): Promise<(() => Promise<void>) | void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const needed = Object.keys(PGLITE_EXTENSIONS);
  const { missing, database } = await withClient(url, async (c) => {
    const { rows } = await c.query<{ extname: string }>(`SELECT extname FROM pg_extension WHERE extname = ANY($1)`, [needed]);
    const db = (await c.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    return { missing: needed.filter((e) => !rows.some((r) => r.extname === e)), database: db };
  }).catch((err: Error) => {
    throw new Error(`TEST_DATABASE_URL: cannot reach the server (${err.message})`);
  });
  if (missing.length) throw new Error(`TEST_DATABASE_URL: ${missingExtensionsAdvice(missing, database)}`);
  await dropEphemeralSchemas(url);
  return async () => {
    await dropEphemeralSchemas(url);
  };
}
