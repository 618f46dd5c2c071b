import { loadSeedCitizens } from '../tools/sandbox/seed.js';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config.js';
import { createAppContext } from './context.js';

/** A restart on the same disk data dir: no migrations re-applied, no seed row duplicated, tokens still valid. */
describe('createAppContext on a disk DATA_DIR', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xiaoshen-ctx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({}, { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dir });
  const TABLES = ['citizens', 'e_licences', 'staff', 'schema_migrations'];

  it('migrates and seeds once; a second start applies and inserts nothing', async () => {
    const first = await createAppContext(config);
    let counts: Record<string, number> = {};
    let token: string;
    try {
      expect(first.startup.migrationsApplied).toContain('tools/migrations/001_sandbox.sql');
      expect(first.startup.seed.citizensInserted).toBe(loadSeedCitizens().length);
      expect(first.startup.seed.licencesInserted).toBeGreaterThanOrEqual(12);
      expect(first.startup.staff).toBe('inserted');
      counts = await countRows(first, TABLES);
      token = (await first.identity.login({ method: 'sandbox', citizenId: 'c-sun-ming' })).token;
      await first.gov.applications.submit((await first.identity.verifyToken(token)), {
        serviceId: 'criminal_record_certificate', values: { purpose: '就业' }, idempotencyKey: 'restart-0001',
      });
    } finally {
      await first.close();
    }
    const secret = readFileSync(join(dir, 'token-secret'), 'utf8');
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, 'token-secret')).mode & 0o077).toBe(0);

    const second = await createAppContext(config);
    try {
      expect(second.startup.migrationsApplied).toEqual([]);
      expect(second.startup.seed).toEqual({ citizensInserted: 0, citizensUpdated: 0, licencesInserted: 0 });
      expect(second.startup.staff).toBe('unchanged');
      const after = await countRows(second, TABLES);
      expect(after.citizens).toBe(counts.citizens);
      expect(after.staff).toBe(counts.staff);
      expect(after.schema_migrations).toBe(counts.schema_migrations);
      expect(after.e_licences).toBe(counts.e_licences! + 1); // + the certificate issued before the restart
      // Data and the token secret survive the restart.
      const principal = await second.identity.verifyToken(token);
      expect((await second.gov.applications.listMine(principal)).map((a) => a.status)).toEqual(['issued']);
    } finally {
      await second.close();
    }
    expect(readFileSync(join(dir, 'token-secret'), 'utf8')).toBe(secret);
  });
});

async function countRows(ctx: { db: { pool: { query: (sql: string) => Promise<{ rows: { n: string }[] }> } } }, tables: string[]) {
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = Number((await ctx.db.pool.query(`SELECT count(*) n FROM ${t}`)).rows[0]!.n);
  return out;
}
