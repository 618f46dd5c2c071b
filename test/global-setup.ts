import pg from 'pg';
import { dropEphemeralSchemas } from '../core/ephemeral-schema.js';

/**
 * `TEST_DATABASE_URL=postgres://… npm test`: the suite on a Postgres server. Every throwaway
 * database a test opens (`memory://`) is a schema of its own there (core/ephemeral-schema.ts),
 * dropped when closed; this checks the server once before the run and drops what a killed
 * process left behind, before and after. Without TEST_DATABASE_URL it does nothing.
 */
export async function setup(): Promise<(() => Promise<void>) | void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`TEST_DATABASE_URL: cannot connect (${(err as Error).message})`);
  }
  try {
    const { rows } = await c.query<{ extname: string }>(`SELECT extname FROM pg_extension WHERE extname IN ('vector', 'pg_trgm')`);
    const missing = ['vector', 'pg_trgm'].filter((e) => !rows.some((r) => r.extname === e));
    if (missing.length) {
      const db = (await c.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
      throw new Error(`TEST_DATABASE_URL: database "${db}" lacks ${missing.join(', ')}. A superuser must run, in it:\n${missing.map((e) => `  CREATE EXTENSION IF NOT EXISTS ${e};`).join('\n')}`);
    }
  } finally {
    await c.end();
  }
  await dropEphemeralSchemas(url);
  return async () => {
    await dropEphemeralSchemas(url);
  };
}
