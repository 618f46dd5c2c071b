import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { withTransaction } from '../../core/db.js';
import { z } from 'zod';

/**
 * Seeds the sandbox shared-data service from `tools/citizens.json`: citizens and the
 * e-licences in their card wallets. Idempotent: a second run inserts nothing new, and
 * refreshes a citizen's facts only when the file changed them.
 */
export const CITIZENS_PATH = fileURLToPath(new URL('../citizens.json', import.meta.url));

const SeedCitizen = z.object({
  id: z.string().regex(/^c-[a-z0-9-]+$/),
  name: z.string(),
  gender: z.string().optional(),
  id_number: z.string(),
  birth_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  phone: z.string().optional(),
  household_register: z.object({ shanghai: z.boolean(), address: z.string() }),
  residence_address: z.string().optional(),
  e_licences: z.array(z.string()).default([]),
  record_on_file: z.boolean().default(false),
  insured_maternity: z.boolean().default(false),
  child_birth_date: z.string().optional(),
  employed_in_shanghai: z.boolean().default(false),
  fund_account: z.string().optional(),
  bank_account: z.string().optional(),
  /** Further shared-data facts the catalogue's rules may name (see knowledge/services.json `facts`). */
  facts: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
  story: z.string().optional(),
});
export type SeedCitizen = z.infer<typeof SeedCitizen>;

export function loadSeedCitizens(path = CITIZENS_PATH): SeedCitizen[] {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  return z.object({ citizens: z.array(SeedCitizen) }).parse(raw).citizens;
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/** Registry details of a shared e-licence (the sandbox stands in for the licence registry). */
export function sharedLicence(c: SeedCitizen, name: string) {
  const h = hash(`${c.id}/${name}`);
  const digits = BigInt(`0x${h.slice(0, 12)}`).toString().padStart(12, '0').slice(0, 12);
  const issuerFor: Record<string, string> = {
    居民身份证: c.household_register.shanghai ? '上海市公安局' : '户籍地公安机关',
    居民户口簿: c.household_register.shanghai ? '上海市公安局' : '户籍地公安机关',
    '出生医学证明（子女）': '上海市卫生健康委员会',
    劳动合同备案: '上海市人力资源和社会保障局',
  };
  return {
    id: `el-${c.id.slice(2)}-${h.slice(0, 8)}`,
    name,
    issuer: issuerFor[name] ?? '上海市电子证照库',
    number: name === '居民身份证' ? c.id_number : `SH${digits}`,
    issuedAt: sharedIssueDate(c, name, h),
  };
}

/**
 * When a shared licence was issued, as the registry would say: a birth medical certificate on
 * the child's birth date; an ID card or household register some years back (fixed per person
 * and licence, so every start seeds the same date), never "now".
 */
function sharedIssueDate(c: SeedCitizen, name: string, h: string): string {
  if (name.startsWith('出生医学证明') && c.child_birth_date) return `${c.child_birth_date}T10:00:00+08:00`;
  const yearsBack = 1 + (parseInt(h.slice(8, 10), 16) % 9);
  const day = 1 + (parseInt(h.slice(10, 14), 16) % 330);
  const d = new Date(Date.UTC(2026 - yearsBack, 0, 1) + day * 86_400_000);
  return `${d.toISOString().slice(0, 10)}T09:30:00+08:00`;
}

export interface SeedResult { citizensInserted: number; citizensUpdated: number; licencesInserted: number }

export async function seedSandbox(pool: pg.Pool, citizens = loadSeedCitizens()): Promise<SeedResult> {
  const result: SeedResult = { citizensInserted: 0, citizensUpdated: 0, licencesInserted: 0 };
  await withTransaction(pool, async (client) => {
    for (const c of citizens) {
      const values = [
        c.id, c.name, c.gender ?? null, c.id_number, c.birth_date, c.phone ?? null,
        c.household_register.shanghai, c.household_register.address, c.residence_address ?? null,
        c.record_on_file, c.insured_maternity, c.child_birth_date ?? null, c.employed_in_shanghai,
        c.fund_account ?? null, c.bank_account ?? null, c.story ?? null, JSON.stringify(c.facts),
      ];
      // xmax = 0 tells an insert from an update of an existing row.
      const r = await client.query<{ inserted: boolean }>(
        `INSERT INTO citizens AS t (id, name, gender, id_number, birth_date, phone, hukou_shanghai, household_address,
           residence_address, record_on_file, insured_maternity, child_birth_date, employed_in_shanghai, fund_account,
           bank_account, story, facts)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, gender = EXCLUDED.gender, id_number = EXCLUDED.id_number,
           birth_date = EXCLUDED.birth_date, phone = EXCLUDED.phone, hukou_shanghai = EXCLUDED.hukou_shanghai,
           household_address = EXCLUDED.household_address, residence_address = EXCLUDED.residence_address,
           record_on_file = EXCLUDED.record_on_file, insured_maternity = EXCLUDED.insured_maternity,
           child_birth_date = EXCLUDED.child_birth_date, employed_in_shanghai = EXCLUDED.employed_in_shanghai,
           fund_account = EXCLUDED.fund_account, bank_account = EXCLUDED.bank_account, story = EXCLUDED.story,
           facts = EXCLUDED.facts, updated_at = now()
         WHERE (t.name, t.gender, t.id_number, t.birth_date, t.phone, t.hukou_shanghai, t.household_address,
                t.residence_address, t.record_on_file, t.insured_maternity, t.child_birth_date, t.employed_in_shanghai,
                t.fund_account, t.bank_account, t.story, t.facts)
           IS DISTINCT FROM
               (EXCLUDED.name, EXCLUDED.gender, EXCLUDED.id_number, EXCLUDED.birth_date, EXCLUDED.phone,
                EXCLUDED.hukou_shanghai, EXCLUDED.household_address, EXCLUDED.residence_address, EXCLUDED.record_on_file,
                EXCLUDED.insured_maternity, EXCLUDED.child_birth_date, EXCLUDED.employed_in_shanghai,
                EXCLUDED.fund_account, EXCLUDED.bank_account, EXCLUDED.story, EXCLUDED.facts)
         RETURNING (xmax = 0) AS inserted`,
        values,
      );
      if (r.rows[0]?.inserted === true) result.citizensInserted++;
      else if (r.rows[0]) result.citizensUpdated++;
      for (const name of c.e_licences) {
        const l = sharedLicence(c, name);
        const li = await client.query(
          `INSERT INTO e_licences (id, citizen_id, name, issuer, licence_number, source, issued_at) VALUES ($1,$2,$3,$4,$5,'shared',$6)
           ON CONFLICT (id) DO UPDATE SET issued_at = EXCLUDED.issued_at WHERE e_licences.issued_at IS DISTINCT FROM EXCLUDED.issued_at`,
          [l.id, c.id, l.name, l.issuer, l.number, l.issuedAt],
        );
        result.licencesInserted += li.rowCount ?? 0;
      }
    }
  });
  return result;
}
