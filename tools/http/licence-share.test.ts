import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ApiServer } from './app.js';
import { apiDeps, createTestContext, type TestContext } from '../../test/context.js';
import { maskName } from '../../core/mask.js';
import { deriveLicenceShareKey, ShareCodec } from '../sandbox/licence-share.js';
import { shanghaiDay } from '../sandbox/repeats.js';

/**
 * 出示 and 核验 of e-licences (issue #14) over HTTP: only the holder gets a code; a good code
 * verifies with nothing sensitive in the answer; forged, altered, truncated and foreign codes
 * are refused in Chinese without saying whether the licence exists; expired and withdrawn
 * licences verify as 无效 with a reason.
 */
const CHINESE = /[\u4e00-\u9fff]/;
const ID_NUMBER = /[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]/;
const SUN_ID = '310101198803122038';

describe('licence 出示 and verification', () => {
  let ctx: TestContext;
  let app: ApiServer;
  let sun: string;
  let wang: string;
  let licenceId: string;
  let licenceNumber: string;
  let applicationId: string;
  let code: string;

  const call = async (url: string, token?: string) => {
    const r = await app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: r.statusCode, text: r.body, body: r.headers['content-type']?.toString().includes('json') ? r.json() : null, headers: r.headers };
  };
  const expectRefused = async (c: string) => {
    const r = await call(`/api/verify/${encodeURIComponent(c)}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_code');
    expect(r.body.error.message).toMatch(CHINESE);
    expect(r.body.error.message).toContain('无法验证');
    expect(r.headers['cache-control']).toBe('no-store');
    return r;
  };
  /** Replaces the character at i with another of the base64url alphabet. */
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

  beforeAll(async () => {
    ctx = await createTestContext('pglite');
    app = await createApiServer(apiDeps(ctx));
    const login = async (citizenId: string) =>
      (await app.inject({ method: 'POST', url: '/api/auth/sandbox-login', payload: { citizenId } })).json().token as string;
    sun = await login('c-sun-ming');
    wang = await login('c-wang-qiang');
    const made = await app.inject({
      method: 'POST', url: '/api/applications', headers: { authorization: `Bearer ${sun}` },
      payload: { serviceId: 'criminal_record_certificate', values: { purpose: '出国(境)', destination: '英国' }, idempotencyKey: 'sun-share-0001' },
    });
    expect(made.statusCode).toBe(201);
    applicationId = made.json().application.id;
    const licences = (await call('/api/me/licences', sun)).body as Array<{ id: string; name: string; number: string; applicationId: string | null }>;
    const cert = licences.find((l) => l.applicationId === applicationId)!;
    licenceId = cert.id;
    licenceNumber = cert.number;
  });
  afterAll(async () => {
    await app?.close();
    await ctx?.close();
  });

  it('gives the holder a signed code, a verification URL and an SVG QR code, not to be cached', async () => {
    const r = await call(`/api/me/licences/${licenceId}/share`, sun);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    code = r.body.code;
    expect(code).toMatch(/^1\.[A-Za-z0-9_-]+\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(code.length).toBeLessThan(100);
    expect(r.body.url).toBe(`http://localhost:80/verify?c=${code}`); // inject's Host header
    expect(r.body.qr).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(r.body.qr.split(',')[1], 'base64').toString()).toContain('<svg');
    expect(r.body.licence).toEqual({
      name: '有无犯罪记录证明', issuer: expect.stringMatching(CHINESE), holder: '孙*',
      issuedOn: shanghaiDay(new Date()), validUntil: null, validity: '长期有效', // this certificate has no expiry
    });
    expect(r.body.valid).toBe(true);
    expect(r.body.filename).toMatch(/^有无犯罪记录证明-\d{4}-\d{2}-\d{2}\.svg$/);
    expect(r.text).not.toMatch(ID_NUMBER);
  });

  it('behind the TLS proxy, the QR URL is https (X-Forwarded-Proto)', async () => {
    const r = await app.inject({ method: 'GET', url: `/api/me/licences/${licenceId}/share`, headers: { authorization: `Bearer ${sun}`, 'x-forwarded-proto': 'https', host: 'ywtb.example.cn' } });
    expect(r.json().url).toBe(`https://ywtb.example.cn/verify?c=${code}`);
  });

  it('another citizen, or nobody, cannot get the code: 404 / 401', async () => {
    const other = await call(`/api/me/licences/${licenceId}/share`, wang);
    expect(other.status).toBe(404);
    expect(other.body.error.message).toMatch(CHINESE);
    expect(other.text).not.toContain(licenceId.slice(3));
    expect((await call(`/api/me/licences/${licenceId}/card`, wang)).status).toBe(404);
    expect((await call(`/api/me/licences/el-nope/share`, sun)).status).toBe(404);
    expect((await call(`/api/me/licences/${licenceId}/share`)).status).toBe(401);
  });

  it('verifies a good code without login: what a verifier needs, and nothing sensitive', async () => {
    const r = await call(`/api/verify/${code}`);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toMatchObject({
      valid: true, status: 'valid', label: '有效', reason: null,
      licence: { name: '有无犯罪记录证明', holder: '孙*', issuedOn: shanghaiDay(new Date()) },
    });
    expect(Object.keys(r.body.licence).sort()).toEqual(['holder', 'issuedOn', 'issuer', 'name', 'validUntil', 'validity']);
    expect(r.text).not.toMatch(ID_NUMBER);
    expect(r.text).not.toContain(SUN_ID.slice(6, 14));
    expect(r.text).not.toContain(licenceNumber);
    expect(r.text).not.toContain('c-sun-ming');
    expect(r.text).not.toContain('孙明');
    expect(r.text).not.toContain(applicationId);
    // Logged as an anonymous verification in the audit trail.
    const a = await ctx.db.pool.query(`SELECT actor_kind FROM audit_log WHERE action = 'licence.verify' ORDER BY id DESC LIMIT 1`);
    expect(a.rows[0]?.actor_kind).toBe('anonymous');
  });

  it('refuses altered, truncated, foreign and garbage codes in Chinese, never a 500, the same for unknown licences', async () => {
    const [v, id64, ts, sig] = code.split('.') as [string, string, string, string];
    // A character of the payload flipped (the licence id, then the timestamp), and of the signature.
    await expectRefused(`${v}.${flip(id64, 4)}.${ts}.${sig}`);
    await expectRefused(`${v}.${id64}.${flip(ts, 0)}.${sig}`);
    await expectRefused(`${v}.${id64}.${ts}.${flip(sig, 5)}`);
    await expectRefused(`${v}.${id64}.${ts}.${flip(sig, sig.length - 1)}`);
    await expectRefused(`2.${id64}.${ts}.${sig}`);
    // Truncated: the signature cut short, the last part missing, half the code.
    await expectRefused(code.slice(0, -1));
    await expectRefused(`${v}.${id64}.${ts}`);
    await expectRefused(code.slice(0, Math.floor(code.length / 2)));
    // Another licence id with the old signature; a code signed with another secret.
    await expectRefused(`${v}.${Buffer.from('el-someone-else').toString('base64url')}.${ts}.${sig}`);
    const foreign = new ShareCodec(deriveLicenceShareKey(new TextEncoder().encode('another-secret-0123456789-abcdefghijklmnop')));
    const forged = await expectRefused(foreign.encode({ licenceId, issuedAt: parseInt(ts, 36) }));
    const unknown = await expectRefused(foreign.encode({ licenceId: 'el-does-not-exist', issuedAt: parseInt(ts, 36) }));
    // A bad signature says nothing about whether the licence exists.
    expect(unknown.text).toBe(forged.text);
    for (const junk of ['x', '....', '1.%E4%B8%AD.a.b', 'A'.repeat(90), '1.' + 'A'.repeat(300) + '.a.' + 'B'.repeat(22)]) {
      const r = await call(`/api/verify/${junk}`);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body.error.message).toMatch(CHINESE);
    }
  });

  it('the certificate card downloads as a self-contained SVG with a Chinese file name', async () => {
    const r = await call(`/api/me/licences/${licenceId}/card`, sun);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('image/svg+xml');
    expect(r.headers['cache-control']).toBe('no-store');
    const disposition = String(r.headers['content-disposition']);
    expect(disposition).toMatch(/^attachment;/);
    expect(decodeURIComponent(disposition.split("UTF-8''")[1]!)).toMatch(/^有无犯罪记录证明-\d{4}-\d{2}-\d{2}\.svg$/);
    expect(r.text).toMatch(/^<\?xml/);
    expect(r.text).toContain('有无犯罪记录证明');
    expect(r.text).toContain('孙*');
    expect(r.text).not.toMatch(ID_NUMBER);
    expect(r.text).not.toContain(licenceNumber);
    expect(r.text).not.toMatch(/<script|href=|xlink/i);
  });

  it('an expired licence verifies as 无效 with the date; a withdrawn application\'s certificate as 无效', async () => {
    await ctx.db.pool.query(`UPDATE e_licences SET valid_until = current_date - 3 WHERE id = $1`, [licenceId]);
    const expired = await call(`/api/verify/${code}`);
    expect(expired.status).toBe(200);
    expect(expired.body).toMatchObject({ valid: false, status: 'expired', label: '无效' });
    expect(expired.body.reason).toMatch(/已于 \d{4}-\d{2}-\d{2} 过期/);
    // The holder can still show it; it says so.
    expect((await call(`/api/me/licences/${licenceId}/share`, sun)).body.valid).toBe(false);

    await ctx.db.pool.query(`UPDATE e_licences SET valid_until = NULL WHERE id = $1`, [licenceId]);
    const lasting = await call(`/api/verify/${code}`);
    expect(lasting.body).toMatchObject({ valid: true, licence: { validUntil: null, validity: '长期有效' } });

    await ctx.db.pool.query(`UPDATE applications SET status = 'withdrawn' WHERE id = $1`, [applicationId]);
    const revoked = await call(`/api/verify/${code}`);
    expect(revoked.body).toMatchObject({ valid: false, status: 'revoked', label: '无效', reason: expect.stringContaining('撤回') });
    await ctx.db.pool.query(`UPDATE applications SET status = 'issued' WHERE id = $1`, [applicationId]);
  });

  it('a re-issued licence (new issue time) or a cancelled one makes old codes 无效, without its details', async () => {
    const [v, , ts] = code.split('.') as [string, string, string];
    const codec = new ShareCodec(deriveLicenceShareKey(new TextEncoder().encode('test-secret-0123456789-abcdefghijklmnopqrstuvwxyz')));
    // Codes signed with the test context's own key: an older issue time, and a licence that is gone.
    const older = codec.encode({ licenceId, issuedAt: parseInt(ts, 36) - 86400 });
    expect(older.startsWith(`${v}.`)).toBe(true);
    const r = await call(`/api/verify/${older}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ valid: false, status: 'superseded', licence: null, reason: expect.stringMatching(CHINESE) });
    const gone = await call(`/api/verify/${codec.encode({ licenceId: 'el-cancelled', issuedAt: 1 })}`);
    expect(gone.body).toMatchObject({ valid: false, status: 'superseded', licence: null });
  });

  it('any other code (random, or a good one mutated anywhere) is refused with a 4xx, never a 500 or a result', async () => {
    const alphabet = fc.constantFrom(...'ABCabc019_-.%~中'.split(''));
    await fc.assert(fc.asyncProperty(
      fc.oneof(
        fc.string({ maxLength: 120 }),
        fc.tuple(fc.nat({ max: code.length - 1 }), alphabet).map(([i, ch]) => code.slice(0, i) + ch + code.slice(i + 1)),
        fc.nat({ max: code.length - 1 }).map((n) => code.slice(0, n)),
      ).filter((c) => c !== code),
      async (c) => {
        const r = await call(`/api/verify/${encodeURIComponent(c) || '%20'}`);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(r.text).not.toContain('有无犯罪记录证明');
      },
    ), { numRuns: 150 });
  });

  it('is described in the OpenAPI document', async () => {
    const docs = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    for (const p of ['/api/me/licences/{id}/share', '/api/me/licences/{id}/card', '/api/verify/{code}']) expect(Object.keys(docs.paths)).toContain(p);
    expect(docs.paths['/api/verify/{code}'].get.security).toBeUndefined();
  });

  it('masks names', () => {
    expect(maskName('孙明')).toBe('孙*');
    expect(maskName('陈桂英')).toBe('陈**');
    expect(maskName('A')).toBe('A*');
  });
});
