import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ApiServer } from './app.js';
import { apiDeps, createTestContext, TEST_DB_KIND, type TestContext } from '../../test/context.js';

/** The HTTP API through the API server (fastify inject): auth, ownership, staff, bad input. */
const CHINESE = /[\u4e00-\u9fff]/;

describe('HTTP API', () => {
  let ctx: TestContext;
  let app: ApiServer;
  let sun: string;
  let zhao: string;
  let staff: string;
  let zhaoApplication: string;

  const call = async (method: 'GET' | 'POST', url: string, opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.raw !== undefined) headers['content-type'] ??= 'application/json';
    const r = await app.inject({
      method, url, headers,
      ...(opts.raw !== undefined ? { payload: opts.raw } : opts.body !== undefined ? { payload: opts.body as object } : {}),
    });
    return { status: r.statusCode, body: r.body ? r.json() : null, headers: r.headers };
  };
  const expectError = (r: { status: number; body: { error?: { code: string; message: string } } }, status: number) => {
    expect(r.status).toBe(status);
    expect(r.body.error?.code).toEqual(expect.any(String));
    expect(r.body.error?.message).toMatch(CHINESE);
  };

  beforeAll(async () => {
    ctx = await createTestContext('pglite');
    app = await createApiServer(apiDeps(ctx));
    sun = (await call('POST', '/api/auth/sandbox-login', { body: { citizenId: 'c-sun-ming' } })).body.token;
    zhao = (await call('POST', '/api/auth/sandbox-login', { body: { citizenId: 'c-zhao-lei' } })).body.token;
    staff = (await call('POST', '/api/auth/staff-login', { body: { username: 'staff01', password: 'shanghai-staff-demo' } })).body.token;
    const r = await call('POST', '/api/applications', { token: zhao, body: { serviceId: 'criminal_record_certificate', values: { purpose: '就业' }, idempotencyKey: 'zhao-http-0001' } });
    zhaoApplication = r.body.application.id;
  });
  afterAll(async () => {
    await app?.close();
    await ctx?.close();
  });

  describe('the seed case: 孙明\'s certificate over HTTP', () => {
    it('pre-fills, submits (Idempotency-Key header), repeats, and shows the certificate in 卡包', async () => {
      const pre = await call('POST', '/api/applications/prefill', { token: sun, body: { serviceId: 'criminal_record_certificate' } });
      expect(pre.status).toBe(200);
      expect(pre.body.missing).toEqual(['purpose']);
      expect(pre.body.fields.find((f: { key: string }) => f.key === 'name').value).toBe('孙明');
      const body = { serviceId: 'criminal_record_certificate', values: { purpose: '出国(境)', destination: '英国' } };
      const first = await call('POST', '/api/applications', { token: sun, body, headers: { 'idempotency-key': 'sun-http-0001' } });
      expect(first.status).toBe(201);
      expect(first.body.application.status).toBe('issued');
      const again = await call('POST', '/api/applications', { token: sun, body, headers: { 'idempotency-key': 'sun-http-0001' } });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ duplicate: true, application: { id: first.body.application.id } });
      const licences = await call('GET', '/api/me/licences', { token: sun });
      expect(licences.body.map((l: { name: string }) => l.name)).toContain('有无犯罪记录证明');
      const mine = await call('GET', '/api/me/applications', { token: sun });
      expect(mine.body.map((a: { id: string }) => a.id)).toEqual([first.body.application.id]);
      expect((await call('GET', `/api/applications/${first.body.application.id}`, { token: sun })).body.status).toBe('issued');
    });

    it('requires an idempotency key, and a consistent one', async () => {
      const body = { serviceId: 'criminal_record_certificate', values: { purpose: '就业' } };
      expectError(await call('POST', '/api/applications', { token: sun, body }), 400);
      expectError(await call('POST', '/api/applications', { token: sun, body: { ...body, idempotencyKey: 'aaaaaaaa1' }, headers: { 'idempotency-key': 'bbbbbbbb2' } }), 400);
    });

    it('refuses 孙明 a residence permit with the reason', async () => {
      const r = await call('POST', '/api/applications', { token: sun, body: { serviceId: 'residence_permit', values: { basis: '合法稳定居所' }, idempotencyKey: 'sun-http-rp01' } });
      expectError(r, 422);
      expect(r.body.error.message).toMatch(/上海市户籍/);
    });

    it('keeps 赵磊\'s case under review without a word about a record', async () => {
      const r = await call('GET', `/api/applications/${zhaoApplication}`, { token: zhao });
      expect(r.body.status).toBe('under_review');
      const text = JSON.stringify(r.body).replaceAll('有无犯罪记录证明', '').replaceAll('criminal_record_certificate', '');
      expect(text).not.toMatch(/记录|犯罪/);
    });
  });

  describe('ownership and roles', () => {
    it('never gives citizen A citizen B\'s profile, licences or applications', async () => {
      expectError(await call('GET', `/api/applications/${zhaoApplication}`, { token: sun }), 404);
      const me = await call('GET', '/api/me?citizenId=c-zhao-lei', { token: sun });
      expect(me.body).toMatchObject({ citizenId: 'c-sun-ming', name: '孙明', idNumber: '310101********2038', phone: '138****0001' });
      const licences = await call('GET', '/api/me/licences?citizenId=c-zhao-lei', { token: sun });
      expect(licences.body.every((l: { number: string }) => !l.number.includes('0514'))).toBe(true);
      const apps = await call('GET', '/api/me/applications', { token: sun });
      expect(apps.body.map((a: { id: string }) => a.id)).not.toContain(zhaoApplication);
      // Shared data of someone else cannot be slipped in as a value either.
      expectError(await call('POST', '/api/applications/prefill', { token: sun, body: { serviceId: 'criminal_record_certificate', values: { id_number: '310107198501010514' } } }), 400);
    });

    it('lets staff read an application but not use citizen routes', async () => {
      expect((await call('GET', `/api/applications/${zhaoApplication}`, { token: staff })).body.id).toBe(zhaoApplication);
      expectError(await call('GET', '/api/me', { token: staff }), 403);
      expectError(await call('POST', '/api/applications/prefill', { token: staff, body: { serviceId: 'criminal_record_certificate' } }), 403);
    });

    it('refuses staff routes to citizen tokens (403) and to anonymous callers (401)', async () => {
      for (const [method, url, body] of [
        ['GET', '/api/staff/handoffs', undefined], ['GET', '/api/staff/applications', undefined],
        ['POST', `/api/staff/applications/${zhaoApplication}/approve`, {}], ['POST', '/api/staff/handoffs/HO1/claim', undefined],
      ] as const) {
        expectError(await call(method, url, { token: sun, body }), 403);
        expectError(await call(method, url, { body }), 401);
      }
      expect((await call('GET', `/api/applications/${zhaoApplication}`, { token: zhao })).body.status).toBe('under_review');
      expectError(await call('GET', '/api/me', { token: 'garbage' }), 401);
      expectError(await call('GET', '/api/me', { headers: { authorization: 'Basic abc' } }), 401);
    });
  });

  describe('withdrawal', () => {
    it('lets the owner withdraw while unprocessed, nobody else, never twice; the audit log records it', async () => {
      const lin = (await call('POST', '/api/auth/sandbox-login', { body: { citizenId: 'c-lin-xiao' } })).body.token;
      const made = await call('POST', '/api/applications', { token: lin, body: { serviceId: 'social_security_card', values: { delivery_method: '网点自取' }, idempotencyKey: 'lin-http-wd-0001' } });
      expect(made.status).toBe(201);
      const id = made.body.application.id;
      expect(made.body.application).toMatchObject({ status: 'submitted', withdrawable: true });
      // Someone else's application does not exist for them; staff use their own routes.
      expectError(await call('POST', `/api/applications/${id}/withdraw`, { token: sun, body: {} }), 404);
      expectError(await call('POST', `/api/applications/${id}/withdraw`, { token: staff, body: {} }), 403);
      expectError(await call('POST', `/api/applications/${id}/withdraw`, { body: {} }), 401);
      const done = await call('POST', `/api/applications/${id}/withdraw`, { token: lin, body: { reason: '地址填错了' } });
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ id, status: 'withdrawn', statusLabel: '已撤回', withdrawable: false });
      expectError(await call('POST', `/api/applications/${id}/withdraw`, { token: lin, body: {} }), 409);
      const audit = await ctx.db.pool.query(`SELECT actor_kind, actor_id, subject_citizen_id, why, what FROM audit_log WHERE action = 'application.withdraw' ORDER BY id DESC LIMIT 1`);
      expect(audit.rows[0]).toMatchObject({ actor_kind: 'citizen', actor_id: 'c-lin-xiao', subject_citizen_id: 'c-lin-xiao', why: '市民撤回申请：地址填错了' });
      expect(JSON.stringify(audit.rows[0].what)).toContain(id);
    });

    it('refuses to withdraw what the department has already dealt with, saying why in Chinese', async () => {
      const issued = await call('POST', '/api/applications', { token: sun, body: { serviceId: 'criminal_record_certificate', values: { purpose: '就业' }, idempotencyKey: 'sun-http-wd-0001' } });
      expect(issued.body.application.status).toBe('issued');
      const r = await call('POST', `/api/applications/${issued.body.application.id}/withdraw`, { token: sun, body: {} });
      expectError(r, 409);
      expect(r.body.error.message).toMatch(/不能撤回/);
    });
  });

  describe('staff console', () => {
    it('reviews the queue, approves 赵磊\'s case, and works a handoff end to end', async () => {
      const queue = await call('GET', '/api/staff/applications', { token: staff });
      expect(queue.body.map((q: { application: { id: string } }) => q.application.id)).toContain(zhaoApplication);
      // Approval needs the review handoff claimed first (by the staff member who decides).
      expectError(await call('POST', `/api/staff/applications/${zhaoApplication}/approve`, { token: staff, body: { note: '核查无误' } }), 409);
      const review = (await call('GET', '/api/staff/handoffs', { token: staff })).body.find((x: { applicationId: string | null }) => x.applicationId === zhaoApplication);
      expect(review).toMatchObject({ reason: 'review', status: 'waiting' });
      const reviewDetail = await call('GET', `/api/staff/handoffs/${review.id}`, { token: staff });
      expect(reviewDetail.body.staffNote).toMatch(/核实|核查/);
      expect((await call('POST', `/api/staff/handoffs/${review.id}/claim`, { token: staff })).body.status).toBe('claimed');
      const approved = await call('POST', `/api/staff/applications/${zhaoApplication}/approve`, { token: staff, body: { note: '核查无误' } });
      expect(approved.body.status).toBe('issued');
      expectError(await call('POST', `/api/staff/applications/${zhaoApplication}/return`, { token: staff, body: { reason: '材料不全' } }), 409);

      const h = await ctx.gov.handoffs.create(await ctx.identity.verifyToken(sun), {
        reason: 'not_understood', transcript: [{ role: 'citizen', text: '我手机号13800000001' }], form: { phone: '13800000001' },
      });
      const list = await call('GET', '/api/staff/handoffs', { token: staff });
      expect(list.body.find((x: { id: string }) => x.id === h.id)).toMatchObject({ status: 'waiting', waitingSeconds: expect.any(Number) });
      const detail = await call('GET', `/api/staff/handoffs/${h.id}`, { token: staff });
      expect(JSON.stringify(detail.body)).not.toContain('13800000001');
      expectError(await call('POST', `/api/staff/handoffs/${h.id}/full-view`, { token: staff, body: {} }), 400);
      const full = await call('POST', `/api/staff/handoffs/${h.id}/full-view`, { token: staff, body: { why: '回拨市民核实诉求' } });
      expect(full.body.form.phone).toBe('13800000001');
      expect((await call('POST', `/api/staff/handoffs/${h.id}/claim`, { token: staff })).body.status).toBe('claimed');
      const reply = await call('POST', `/api/staff/handoffs/${h.id}/reply`, { token: staff, body: { text: '您好，请问需要办理什么业务？' } });
      expect(reply.body).toMatchObject({ authorKind: 'staff', text: '您好，请问需要办理什么业务？' });
      const mine = await call('GET', `/api/me/handoffs/${h.id}`, { token: sun });
      expect(mine.body.messages.map((m: { text: string }) => m.text)).toEqual(['您好，请问需要办理什么业务？']);
      expectError(await call('GET', `/api/me/handoffs/${h.id}`, { token: zhao }), 404);
      expect((await call('POST', `/api/staff/handoffs/${h.id}/close`, { token: staff, body: { note: '已电话联系' } })).body.status).toBe('closed');
      expectError(await call('GET', '/api/staff/handoffs/HO-unknown', { token: staff }), 404);
    });
  });

  describe('bad input never crashes the server', () => {
    it('answers malformed JSON, wrong types, unknown ids, wrong options and oversized bodies with Chinese 4xx', async () => {
      expectError(await call('POST', '/api/auth/sandbox-login', { raw: '{"citizenId": ' }), 400);
      expectError(await call('POST', '/api/applications/prefill', { token: sun, raw: '{bad json' }), 400);
      expectError(await call('POST', '/api/auth/sandbox-login', { raw: '' }), 400);
      expectError(await call('POST', '/api/auth/sandbox-login', { raw: 'citizenId=x', headers: { 'content-type': 'text/plain' } }), 400);
      expectError(await call('POST', '/api/auth/sandbox-login', { raw: '<id/>', headers: { 'content-type': 'application/xml' } }), 415);
      const wrongType = await call('POST', '/api/auth/sandbox-login', { body: { citizenId: 42 } });
      expectError(wrongType, 400);
      expect(wrongType.body.error.message).toMatch(/「citizenId」/);
      expectError(await call('POST', '/api/auth/sandbox-login', { body: { citizenId: 'c-nobody' } }), 401);
      expectError(await call('GET', '/api/services/no_such_service'), 404);
      expectError(await call('GET', '/api/applications/SA00000000000000', { token: sun }), 404);
      expectError(await call('POST', '/api/applications/prefill', { token: sun, body: { serviceId: 'no_such_service' } }), 404);
      const option = await call('POST', '/api/applications', { token: sun, body: { serviceId: 'criminal_record_certificate', values: { purpose: '旅游' }, idempotencyKey: 'sun-http-bad1' } });
      expectError(option, 400);
      expect(option.body.error.message).toMatch(/「用途」只能选择/);
      const big = await call('POST', '/api/applications/prefill', { token: sun, raw: JSON.stringify({ serviceId: 'x', values: { note: 'x'.repeat(300 * 1024) } }) });
      expectError(big, 413);
      expectError(await call('GET', '/api/services?limit=abc'), 400);
      expectError(await call('GET', '/api/no/such/route'), 404);
      const health = await call('GET', '/api/health');
      expect(health.body).toMatchObject({ ok: true, db: TEST_DB_KIND });
    });
  });

  it('serves the catalogue, a service with its guide, and OpenAPI docs', async () => {
    const all = await call('GET', '/api/services');
    expect(all.body.length).toBeGreaterThanOrEqual(30);
    expect((await call('GET', `/api/services?q=${encodeURIComponent('无犯罪证明')}`)).body[0].id).toBe('criminal_record_certificate');
    const detail = await call('GET', '/api/services/criminal_record_certificate');
    expect(detail.body).toMatchObject({ id: 'criminal_record_certificate', transactable: true });
    expect(detail.body.fields.map((f: { key: string }) => f.key)).toContain('purpose');
    expect(detail.body.guide.serviceId).toBe('criminal_record_certificate');
    const docs = await call('GET', '/docs/json');
    expect(docs.body.openapi).toMatch(/^3\./);
    for (const p of ['/api/auth/sandbox-login', '/api/auth/staff-login', '/api/auth/kiosk-card-login', '/api/me', '/api/me/licences',
      '/api/me/applications', '/api/applications/{id}', '/api/applications', '/api/applications/prefill', '/api/services',
      '/api/staff/handoffs', '/api/health']) {
      expect(Object.keys(docs.body.paths)).toContain(p);
    }
    expect(docs.body.paths['/api/applications/prefill'].post.requestBody).toBeDefined();
    expect((await app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('masks ID numbers and phone numbers in request logs', async () => {
    const { Writable } = await import('node:stream');
    const { createLogger } = await import('../../core/log.js');
    let logged = '';
    const sink = new Writable({ write(chunk, _enc, done) { logged += String(chunk); done(); } });
    const logCtx = { ...ctx, log: createLogger('info', 'test', sink) };
    const logApp = await createApiServer(apiDeps(logCtx));
    try {
      await logApp.inject({ method: 'GET', url: '/api/services?q=310101198803122038' });
      await logApp.inject({ method: 'GET', url: '/api/services/13800000001' });
    } finally {
      await logApp.close();
    }
    expect(logged).toContain('310101********2038');
    expect(logged).toContain('138****0001');
    expect(logged).not.toContain('310101198803122038');
    expect(logged).not.toContain('13800000001');
  });

  it('logs a kiosk in with its device key header', async () => {
    const body = { idNumber: '310105195508184027', name: '陈桂英' };
    const ok = await call('POST', '/api/auth/kiosk-card-login', { body, headers: { 'x-kiosk-device-key': 'xiaoshen-demo-kiosk-device-key' } });
    expect(ok.body.principal).toMatchObject({ citizenId: 'c-chen-guiying', via: 'kiosk_card' });
    expectError(await call('POST', '/api/auth/kiosk-card-login', { body }), 403);
  });
});
