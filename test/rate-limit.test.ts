import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { limitsFromConfig } from '../channels/security/index.js';
import { loadConfig } from '../core/config.js';
import { startTestApp, type TestApp } from './app.js';

/**
 * Limits (per IP, per identity, sessions per citizen, message and body size) and security
 * headers, on the real server with small limits.
 */
const CJK = /[\u4e00-\u9fff]/;

describe('rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { limits: { windowMs: 60_000, ipMax: 40, identityMax: 4, trustProxy: true } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a client address over its limit with 429, a Chinese message and Retry-After; other addresses go on', async () => {
    const from = (ip: string) => ({ method: 'GET' as const, url: '/api/health', headers: { 'x-forwarded-for': `10.0.0.1, ${ip}` } });
    for (let i = 0; i < 40; i++) expect((await t.app.inject(from('192.0.2.7'))).statusCode).toBe(200);
    const refused = await t.app.inject(from('192.0.2.7'));
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('rate_limited');
    expect(refused.json().error.message).toMatch(CJK);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await t.app.inject(from('192.0.2.8'))).statusCode).toBe(200);
  });

  it('limits turns per identity over HTTP and the WebSocket together, not other citizens', async () => {
    const sun = await t.login('c-sun-ming');
    const s = await t.session(sun); // 1: a new session counts
    const say = (token: string, session: string) => t.app.inject({
      method: 'POST', url: `/api/sessions/${session}/messages`, headers: { authorization: `Bearer ${token}` }, payload: { text: '你好' },
    });
    expect((await say(sun, s)).statusCode).toBe(200); // 2
    expect((await say(sun, s)).statusCode).toBe(200); // 3
    // 4: over the WebSocket
    const port = (t.app.server.address() as { port: number }).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/sessions/${s}/ws`, { headers: { authorization: `Bearer ${sun}` } });
    const frames: { type: string; error?: { code: string; message: string } }[] = [];
    ws.on('message', (raw) => frames.push(JSON.parse(raw.toString()) as (typeof frames)[number]));
    const next = async (type: string) => {
      for (let i = 0; i < 2000; i++) {
        const k = frames.findIndex((f) => f.type === type);
        if (k >= 0) return frames.splice(k, 1)[0]!;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`no ${type} frame`);
    };
    await next('ready');
    ws.send(JSON.stringify({ type: 'message', text: '你好' }));
    await next('turn');
    ws.send(JSON.stringify({ type: 'message', text: '你好' })); // 5: over the limit
    const err = await next('error');
    expect(err.error?.code).toBe('rate_limited');
    expect(err.error?.message).toMatch(CJK);
    ws.close();

    const refused = await say(sun, s);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toMatchObject({ code: 'rate_limited' });
    expect(refused.json().error.message).toMatch(/秒后再试/);
    // Another citizen has a budget of their own.
    const lin = await t.login('c-lin-xiao');
    expect((await say(lin, await t.session(lin))).statusCode).toBe(200);
  });

  it('reads its limits from the configuration, generous by default and off for test runs unless set', () => {
    const limits = (env: Record<string, string>) => limitsFromConfig(loadConfig(env));
    expect(limits({ NODE_ENV: 'production' })).toEqual({ windowMs: 60_000, ipMax: 1200, identityMax: 120, trustProxy: false });
    expect(limits({ NODE_ENV: 'test' })).toMatchObject({ ipMax: 0, identityMax: 0 });
    expect(limits({ NODE_ENV: 'test', RATE_LIMIT_IDENTITY_MAX: '7', RATE_LIMIT_TRUST_PROXY: 'true' })).toMatchObject({ ipMax: 0, identityMax: 7, trustProxy: true });
    expect(() => limits({ NODE_ENV: 'production', RATE_LIMIT_IP_MAX: 'many' })).toThrow(/RATE_LIMIT_IP_MAX/);
  });
});

describe('other limits and security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('allows 50 open sessions per citizen, then says to close some', async () => {
    const token = await t.login('c-chen-guiying');
    for (let i = 0; i < 50; i++) await t.session(token);
    const r = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: { authorization: `Bearer ${token}` }, payload: { channel: 'app' } });
    expect(r.statusCode).toBe(429);
    expect(r.json().error).toMatchObject({ code: 'too_many_sessions' });
    expect(r.json().error.message).toMatch(CJK);
  });

  it('caps message length and body size with 413 and a Chinese message', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    const h = { authorization: `Bearer ${token}` };
    const long = await t.app.inject({ method: 'POST', url: `/api/sessions/${s}/messages`, headers: h, payload: { text: '好'.repeat(2001) } });
    expect(long.statusCode).toBe(413);
    expect(long.json().error.message).toMatch(/最多 2000 字/);
    const body = await t.app.inject({ method: 'POST', url: '/api/auth/sandbox-login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ citizenId: 'x'.repeat(400_000) }) });
    expect(body.statusCode).toBe(413);
    expect(body.json().error.message).toMatch(CJK);
  });

  it('sends security headers, and a CSP everywhere: the pages keep their own, /docs allows Swagger UI styles', async () => {
    const api = await t.app.inject({ method: 'GET', url: '/api/health' });
    expect(api.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
    });
    expect(api.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(api.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(api.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(api.headers['x-powered-by']).toBeUndefined();

    const page = await t.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    // The page itself is inline-free: no <script> body, no inline handlers, no style attributes.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/);
    expect(page.body).not.toMatch(/\son[a-z]+\s*=/i);

    const docs = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-security-policy']).toMatch(/style-src 'self' 'unsafe-inline'/);
    expect(docs.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);

    const err = await t.app.inject({ method: 'GET', url: '/api/nope' });
    expect(err.statusCode).toBe(404);
    expect(err.headers['content-security-policy']).toBeDefined();
  });
});
