import type pg from 'pg';
import { maskIdNumber } from '../../core/mask.js';
import type { Licence } from '../contract.js';

/** E-licences in a citizen's card wallet (卡包). */
interface LicenceRow {
  id: string;
  name: string;
  issuer: string;
  licence_number: string;
  source: 'shared' | 'issued';
  application_id: string | null;
  issued_at: Date;
  valid_until: string | null;
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export async function listLicences(db: Queryable, citizenId: string): Promise<Licence[]> {
  const r = await db.query<LicenceRow>(
    `SELECT id, name, issuer, licence_number, source, application_id, issued_at,
            to_char(valid_until, 'YYYY-MM-DD') AS valid_until
       FROM e_licences WHERE citizen_id = $1 ORDER BY issued_at DESC, id DESC`,
    [citizenId],
  );
  return r.rows.map(toLicence);
}

function toLicence(r: LicenceRow): Licence {
  return {
    id: r.id,
    name: r.name,
    issuer: r.issuer,
    number: r.name === '居民身份证' ? maskIdNumber(r.licence_number) : r.licence_number,
    source: r.source,
    applicationId: r.application_id,
    issuedAt: r.issued_at.toISOString(),
    validUntil: r.valid_until,
  };
}

/** A citizen's e-licence ids by name (the newest of each), for fields filled from a licence (两个免于提交). */
export async function listLicenceIds(db: Queryable, citizenId: string): Promise<Map<string, string>> {
  const r = await db.query<{ id: string; name: string }>(
    `SELECT DISTINCT ON (name) id, name FROM e_licences WHERE citizen_id = $1 ORDER BY name, issued_at DESC, id DESC`, [citizenId]);
  return new Map(r.rows.map((x) => [x.name, x.id]));
}

export interface IssueLicence {
  citizenId: string;
  applicationId: string;
  name: string;
  issuer: string;
  number: string;
  validDays?: number | null;
}

/** Puts a newly issued certificate into the citizen's card wallet. */
export async function issueLicence(db: Queryable, l: IssueLicence): Promise<{ id: string; name: string }> {
  const r = await db.query<{ id: string; name: string }>(
    `INSERT INTO e_licences (id, citizen_id, name, issuer, licence_number, source, application_id, valid_until)
     VALUES ($1, $2, $3, $4, $5, 'issued', $6, CASE WHEN $7::int IS NULL THEN NULL ELSE current_date + $7::int END)
     RETURNING id, name`,
    [`el-${l.applicationId.toLowerCase()}`, l.citizenId, l.name, l.issuer, l.number, l.applicationId, l.validDays ?? null],
  );
  return r.rows[0]!;
}
