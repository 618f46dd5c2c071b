import { connect } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../tools/http/app.js';
import { DEMO_KIOSK_DEVICE_KEY } from '../tools/identity/identity-provider.js';
import { startTestApp, type TestApp } from './app.js';
import { apiDeps, createTestContext, type TestContext } from './context.js';

/**
 * Findings of the outside attack suite (issue: security by attack), one test each: staff login
 * throttling, kiosk tokens that end with the visit, logout, MCP sessions one identity cannot
 * use to evict another's, stalled request bodies, and identifiers masked however they are typed.
 */
const CHINESE = /[\u4e00-\u9fff]/;
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ STAFF_LOGIN_MAX_FAILURES: 3, STAFF_LOCKOUT_SECONDS: 600, KIOSK_IDLE_SECONDS: 1, KIOSK_TOKEN_TTL_SECONDS: 1200 });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url, payload: payload as object, headers });
const me = (token: string) => t.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
const kioskLogin = async () => {
  const r = await post('/api/auth/kiosk-card-login', { idNumber: '310105195508184027', name: '陈桂英' }, { 'x-kiosk-device-key': DEMO_KIOSK_DEVICE_KEY });
  expect(r.statusCode).toBe(200);
  return r.json<{ token: string; expiresAt: string }>();
};

describe('staff login throttling', () => {
  it('locks a username after repeated failures, even for the right password, says so in Chinese and audits it', async () => {
    const { STAFF_USERNAME: username, STAFF_PASSWORD: password } = t.ctx.config;
    for (let i = 0; i < 3; i++) expect((await post('/api/auth/staff-login', { username, password: `wrong-${i}-password` })).statusCode).toBe(401);
    const locked = await post('/api/auth/staff-login', { username, password });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.message).toMatch(/锁定/);
    expect(locked.json().error.message).toMatch(CHINESE);
    const audit = await t.ctx.db.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.lockout'`);
    expect(audit.rows[0].n).toBeGreaterThanOrEqual(1);
    // Another username from the same address is locked too (the address's own count).
    expect((await post('/api/auth/staff-login', { username: 'someone-else', password: 'x'.repeat(10) })).statusCode).toBe(429);
    await t.ctx.db.pool.query('DELETE FROM login_attempts');
    expect((await post('/api/auth/staff-login', { username, password })).statusCode).toBe(200);
  });
});

describe('tokens that end with the visit', () => {
  it('gives a kiosk ID-card token a visit-long life, and takes it back when the visit ends', async () => {
    const { token, expiresAt } = await kioskLogin();
    expect(new Date(expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(1200 * 1000 + 5000);
    const s = await t.session(token, 'kiosk');
    expect((await me(token)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/sessions/${s}`, headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(204);
    const after = await me(token);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.message).toMatch(CHINESE);
  });

  it('ends an abandoned kiosk visit on the server and revokes its token (the page never said goodbye)', async () => {
    const { token } = await kioskLogin();
    await t.session(token, 'kiosk');
    expect((await me(token)).statusCode).toBe(200);
    await expect.poll(async () => (await me(token)).statusCode, { timeout: 10_000, interval: 500 }).toBe(401);
  });

  it('logs out: the token stops working at once', async () => {
    const token = await t.login('c-sun-ming');
    expect((await post('/api/auth/logout', {}, { authorization: `Bearer ${token}` })).statusCode).toBe(204);
    expect((await me(token)).statusCode).toBe(401);
    // The sandbox login of another citizen is untouched.
    const other = await t.login('c-lin-xiao');
    expect((await me(other)).statusCode).toBe(200);
  });
});

describe('identifiers masked however they are typed', () => {
  it('keeps a spaced ID number and a dashed phone out of the staff view of a handoff', async () => {
    const token = await t.login('c-lin-xiao');
    const s = await t.session(token);
    await t.say(s, token, '我的社保卡要寄到别处，电话 138-0000-0006，卡号 6222 0000 0000 0006，转人工');
    const staff = await t.staffToken();
    const list = (await t.app.inject({ method: 'GET', url: '/api/staff/handoffs', headers: { authorization: `Bearer ${staff}` } })).json<{ id: string }[]>();
    const detail = await t.app.inject({ method: 'GET', url: `/api/staff/handoffs/${list[0]!.id}`, headers: { authorization: `Bearer ${staff}` } });
    expect(detail.statusCode).toBe(200);
    const body = detail.body;
    expect(body).not.toMatch(/138-0000-0006|6222 0000 0000 0006/);
    expect(body).toMatch(/138\*\*\*\*0006/);
  });
});

describe('the API server on its own', () => {
  let ctx: TestContext;
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ctx = await createTestContext('pglite');
    const app = await createApiServer({ ...apiDeps(ctx), mcp: { maxSessions: 4, maxSessionsPerIdentity: 2 }, requestTimeoutMs: 1500 });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    close = async () => {
      await app.close();
      await ctx.close();
    };
  });
  afterAll(async () => close?.());

  it('lets no identity evict another identity\'s MCP sessions', async () => {
    const tokenOf = async (citizenId: string) => (await ctx.identity.login({ method: 'sandbox', citizenId })).token;
    const open = async (token: string) => {
      const client = new Client({ name: 'limits', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL('/mcp', url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
      await client.connect(transport);
      return { client, transport };
    };
    const victim = await open(await tokenOf('c-sun-ming'));
    const attacker = await tokenOf('c-zhao-lei');
    const theirs = [];
    for (let i = 0; i < 8; i++) theirs.push(await open(attacker));
    // The victim's session still answers; the attacker only ever replaced their own.
    const r = await victim.client.listTools();
    expect(r.tools.length).toBeGreaterThan(5);
    const stillOpen = await Promise.all(theirs.map(async (c) => c.client.listTools().then(() => true, () => false)));
    expect(stillOpen.filter(Boolean).length).toBeLessThanOrEqual(2);
    await Promise.all([victim, ...theirs].map((c) => c.client.close().catch(() => undefined)));
  });

  it('cuts off a request whose body never arrives, with 408, instead of holding it open', async () => {
    const { hostname, port } = new URL(url);
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(port), hostname, () => {
        sock.write('POST /api/auth/sandbox-login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"citizen');
      });
      let data = '';
      sock.on('data', (d) => (data += d.toString()));
      sock.on('close', () => resolve(data));
      sock.on('error', reject);
      setTimeout(() => {
        sock.destroy();
        resolve(data || 'still open');
      }, 8000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });
});
