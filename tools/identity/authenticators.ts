import { createHash, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { AppError, forbidden, unauthorized } from '../../core/errors.js';
import { findCitizen, findCitizenByIdNumber } from '../sandbox/citizens.js';
import { isValidIdNumber } from '../sandbox/id-number.js';
import { DUMMY_HASH, verifyPassword } from './passwords.js';
import type { Authenticator } from './provider.js';

/** Sandbox real-name login: any seeded citizen by id. Never enabled in production. */
export function sandboxAuthenticator(pool: pg.Pool): Authenticator<'sandbox'> {
  return {
    method: 'sandbox',
    async authenticate({ citizenId }) {
      const c = await findCitizen(pool, citizenId);
      if (!c) throw unauthorized('沙箱中没有该市民，请检查市民编号。');
      return { kind: 'citizen', citizenId: c.id, name: c.name, via: 'sandbox' };
    },
  };
}

/** Staff directory login (username + scrypt-hashed password). */
export function staffPasswordAuthenticator(pool: pg.Pool): Authenticator<'staff_password'> {
  return {
    method: 'staff_password',
    async authenticate({ username, password }) {
      const r = await pool.query<{ id: string; name: string; password_hash: string }>(
        'SELECT id, name, password_hash FROM staff WHERE username = $1', [username]);
      const row = r.rows[0];
      const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
      if (!row || !ok) throw unauthorized('用户名或密码不正确。');
      return { kind: 'staff', staffId: row.id, name: row.name };
    },
  };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * An in-hall kiosk posts what its ID-card reader read (ID number + name), authenticated by
 * the kiosk's device key. The card must match a person in the shared population data.
 */
export function kioskCardAuthenticator(pool: pg.Pool, deviceKey: string): Authenticator<'kiosk_card'> {
  const expected = sha256(deviceKey);
  return {
    method: 'kiosk_card',
    async authenticate({ idNumber, name, deviceKey: given }) {
      if (!given || !timingSafeEqual(sha256(given), expected)) throw forbidden('该设备未获授权使用身份证登录。');
      const id = idNumber.trim().toUpperCase();
      if (!isValidIdNumber(id)) throw new AppError('invalid_card', 400, '读取到的身份证号码无效，请重新放置身份证。');
      const c = await findCitizenByIdNumber(pool, id);
      if (!c || c.name !== name.trim()) throw unauthorized('身份证信息核验未通过，请到人工窗口办理。');
      return { kind: 'citizen', citizenId: c.id, name: c.name, via: 'kiosk_card' };
    },
  };
}
