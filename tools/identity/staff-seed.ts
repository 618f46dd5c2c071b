import type pg from 'pg';
import { hashPassword, verifyPassword } from './passwords.js';

/**
 * Seeds the sandbox staff account from STAFF_USERNAME / STAFF_PASSWORD. Idempotent: an
 * existing account is kept, its hash replaced only when the configured password changed.
 */
export async function seedStaff(pool: pg.Pool, username: string, password: string): Promise<'inserted' | 'updated' | 'unchanged'> {
  const id = `st-${username}`;
  const existing = (await pool.query<{ password_hash: string }>('SELECT password_hash FROM staff WHERE username = $1', [username])).rows[0];
  if (existing && (await verifyPassword(password, existing.password_hash))) return 'unchanged';
  const hash = await hashPassword(password);
  if (existing) {
    await pool.query('UPDATE staff SET password_hash = $2 WHERE username = $1', [username, hash]);
    return 'updated';
  }
  const r = await pool.query(
    `INSERT INTO staff (id, username, name, password_hash) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING`,
    [id, username, `窗口工作人员（${username}）`, hash],
  );
  return r.rowCount ? 'inserted' : 'unchanged';
}
