import type pg from 'pg';
import { maskBankAccount, maskIdNumber, maskPhone } from '../../core/mask.js';
import type { Profile } from '../contract.js';

/** A row of the shared population data (never sent out as is: see `toProfile`). */
export interface CitizenRow {
  id: string;
  name: string;
  gender: string | null;
  id_number: string;
  birth_date: string;
  phone: string | null;
  hukou_shanghai: boolean;
  household_address: string | null;
  residence_address: string | null;
  record_on_file: boolean;
  insured_maternity: boolean;
  child_birth_date: string | null;
  employed_in_shanghai: boolean;
  fund_account: string | null;
  bank_account: string | null;
  /** Extra shared-data facts of the sandbox record (named in the catalogue's `facts`). */
  facts: Record<string, string | number | boolean | null>;
}

const COLUMNS = `id, name, gender, id_number, to_char(birth_date, 'YYYY-MM-DD') AS birth_date, phone, hukou_shanghai,
  household_address, residence_address, record_on_file, insured_maternity,
  to_char(child_birth_date, 'YYYY-MM-DD') AS child_birth_date, employed_in_shanghai, fund_account, bank_account, facts`;

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export async function findCitizen(db: Queryable, id: string): Promise<CitizenRow | undefined> {
  return (await db.query<CitizenRow>(`SELECT ${COLUMNS} FROM citizens WHERE id = $1`, [id])).rows[0];
}

export async function findCitizenByIdNumber(db: Queryable, idNumber: string): Promise<CitizenRow | undefined> {
  return (await db.query<CitizenRow>(`SELECT ${COLUMNS} FROM citizens WHERE id_number = $1`, [idNumber.trim().toUpperCase()])).rows[0];
}

/** Whole years between a `YYYY-MM-DD` birth date and `today`. */
export function ageOn(birthDate: string, today: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let age = today.getFullYear() - y;
  const month = today.getMonth() + 1;
  if (month < m || (month === m && today.getDate() < d)) age--;
  return age;
}

/** The caller's own profile, identifiers masked; `record_on_file` is never part of it. */
export function toProfile(c: CitizenRow, today: Date): Profile {
  return {
    citizenId: c.id,
    name: c.name,
    gender: c.gender,
    idNumber: maskIdNumber(c.id_number),
    birthDate: c.birth_date,
    age: ageOn(c.birth_date, today),
    phone: c.phone ? maskPhone(c.phone) : null,
    household: { shanghai: c.hukou_shanghai, address: c.household_address },
    residenceAddress: c.residence_address,
    bankAccount: c.bank_account ? maskBankAccount(c.bank_account) : null,
    fundAccount: c.fund_account,
  };
}
