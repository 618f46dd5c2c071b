import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { AppError } from '../../core/errors.js';
import { createTestContext, TEST_TOKEN_SECRET, type TestContext } from '../../test/context.js';
import { createIdentityProvider, DEMO_KIOSK_DEVICE_KEY } from './identity-provider.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { seedStaff } from './staff-seed.js';
import { TokenSigner } from './tokens.js';

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('identity', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext('pglite', { KIOSK_DEVICE_KEY: 'kiosk-hall-01-secret-key' });
  });
  afterAll(async () => ctx?.close());

  it('logs a sandbox citizen in and verifies the token back to the principal', async () => {
    const r = await ctx.identity.login({ method: 'sandbox', citizenId: 'c-sun-ming' });
    expect(r.principal).toEqual({ kind: 'citizen', citizenId: 'c-sun-ming', name: '孙明', via: 'sandbox' });
    expect(await ctx.identity.verifyToken(r.token)).toEqual(r.principal);
    expect((await rejection(ctx.identity.login({ method: 'sandbox', citizenId: 'c-nobody' }))).status).toBe(401);
  });

  it('logs staff in with the seeded password only', async () => {
    const r = await ctx.identity.login({ method: 'staff_password', username: 'staff01', password: 'shanghai-staff-demo' });
    expect(r.principal).toMatchObject({ kind: 'staff', staffId: 'st-staff01' });
    expect(await ctx.identity.verifyToken(r.token)).toEqual(r.principal);
    const wrong = await rejection(ctx.identity.login({ method: 'staff_password', username: 'staff01', password: 'wrong-password' }));
    expect(wrong.status).toBe(401);
    expect(wrong.message).toBe('用户名或密码不正确。');
    expect((await rejection(ctx.identity.login({ method: 'staff_password', username: 'nobody', password: 'x' }))).message).toBe('用户名或密码不正确。');
    const stored = (await ctx.db.pool.query(`SELECT password_hash FROM staff WHERE username = 'staff01'`)).rows[0].password_hash as string;
    expect(stored).toMatch(/^scrypt\$/);
    expect(stored).not.toContain('shanghai-staff-demo');
  });

  it('logs a kiosk ID-card reading in with the device key, as kiosk_card', async () => {
    const card = { idNumber: '310105195508184027', name: '陈桂英' };
    const r = await ctx.identity.login({ method: 'kiosk_card', ...card, deviceKey: 'kiosk-hall-01-secret-key' });
    expect(r.principal).toEqual({ kind: 'citizen', citizenId: 'c-chen-guiying', name: '陈桂英', via: 'kiosk_card' });
    expect((await ctx.identity.verifyToken(r.token))).toMatchObject({ via: 'kiosk_card' });
    expect((await rejection(ctx.identity.login({ method: 'kiosk_card', ...card, deviceKey: DEMO_KIOSK_DEVICE_KEY }))).status).toBe(403);
    expect((await rejection(ctx.identity.login({ method: 'kiosk_card', ...card, deviceKey: undefined }))).status).toBe(403);
    expect((await rejection(ctx.identity.login({ method: 'kiosk_card', idNumber: card.idNumber, name: '王五', deviceKey: 'kiosk-hall-01-secret-key' }))).status).toBe(401);
    expect((await rejection(ctx.identity.login({ method: 'kiosk_card', idNumber: '310105195508184028', name: '陈桂英', deviceKey: 'kiosk-hall-01-secret-key' }))).code).toBe('invalid_card');
  });

  it('audits logins and failed logins', async () => {
    const rows = (await ctx.db.pool.query(`SELECT action, actor_kind FROM audit_log WHERE action LIKE 'auth.%'`)).rows;
    expect(rows.some((r) => r.action === 'auth.login' && r.actor_kind === 'citizen')).toBe(true);
    expect(rows.some((r) => r.action === 'auth.login' && r.actor_kind === 'staff')).toBe(true);
    expect(rows.some((r) => r.action === 'auth.login_failed' && r.actor_kind === 'anonymous')).toBe(true);
  });

  it('rejects tampered, foreign, expired and malformed tokens with 401', async () => {
    const { token } = await ctx.identity.login({ method: 'sandbox', citizenId: 'c-sun-ming' });
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ kind: 'citizen', sub: 'c-zhao-lei', name: '赵磊', via: 'sandbox', iss: 'xiaoshen', aud: 'xiaoshen-api' })).toString('base64url')}.${s}`;
    expect((await rejection(ctx.identity.verifyToken(forged))).status).toBe(401);
    const other = await new TokenSigner(new TextEncoder().encode('another-secret-another-secret-another'), 60).sign({ kind: 'citizen', citizenId: 'c-zhao-lei', name: '赵磊', via: 'sandbox' });
    expect((await rejection(ctx.identity.verifyToken(other.token))).status).toBe(401);
    const expired = await new SignJWT({ kind: 'citizen', name: '孙明', via: 'sandbox' }).setProtectedHeader({ alg: 'HS256' })
      .setSubject('c-sun-ming').setIssuer('xiaoshen').setAudience('xiaoshen-api').setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(TEST_TOKEN_SECRET));
    expect((await rejection(ctx.identity.verifyToken(expired))).message).toMatch(/重新登录/);
    expect((await rejection(ctx.identity.verifyToken('not-a-token'))).status).toBe(401);
  });

  it('disables the sandbox login in production, and the kiosk login there without a configured key', async () => {
    const signer = new TokenSigner(new TextEncoder().encode(TEST_TOKEN_SECRET), 60);
    const prod = createIdentityProvider({ pool: ctx.db.pool, signer, nodeEnv: 'production' });
    expect(prod.methods).toEqual(['staff_password']);
    const err = await rejection(prod.login({ method: 'sandbox', citizenId: 'c-sun-ming' }));
    expect(err).toMatchObject({ status: 403, code: 'login_disabled' });
    expect(err.message).toMatch(/生产环境/);
    expect((await rejection(prod.login({ method: 'kiosk_card', idNumber: '310105195508184027', name: '陈桂英', deviceKey: DEMO_KIOSK_DEVICE_KEY }))).status).toBe(403);
    const dev = createIdentityProvider({ pool: ctx.db.pool, signer, nodeEnv: 'development' });
    expect((await dev.login({ method: 'kiosk_card', idNumber: '310105195508184027', name: '陈桂英', deviceKey: DEMO_KIOSK_DEVICE_KEY })).principal).toMatchObject({ citizenId: 'c-chen-guiying' });
  });

  it('hashes passwords with scrypt and re-seeds staff idempotently', async () => {
    const h = await hashPassword('secret-pass');
    expect(await verifyPassword('secret-pass', h)).toBe(true);
    expect(await verifyPassword('secret-pasS', h)).toBe(false);
    expect(await seedStaff(ctx.db.pool, 'staff01', 'shanghai-staff-demo')).toBe('unchanged');
    expect(await seedStaff(ctx.db.pool, 'staff01', 'a-new-password-1')).toBe('updated');
    expect((await ctx.identity.login({ method: 'staff_password', username: 'staff01', password: 'a-new-password-1' })).principal.kind).toBe('staff');
    expect(Number((await ctx.db.pool.query(`SELECT count(*) n FROM staff`)).rows[0].n)).toBe(1);
  });
});
