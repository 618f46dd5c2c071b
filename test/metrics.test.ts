import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.js';
import { TEST_DB_KIND } from './context.js';

/** GET /metrics (Prometheus text format) and GET /api/health (a real database query). */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({}, { metricsToken: 'scrape-token-0123456789', limits: { identityMax: 2 } });
});
afterAll(async () => {
  await t?.close();
});

const scrape = async () => {
  const r = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-token-0123456789' } });
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.body;
};

/** The value of one sample line, e.g. `xiaoshen_turns_total{service="x",outcome="y"}`. */
const sample = (body: string, series: string) => {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : null;
};

describe('/metrics', () => {
  it('needs the scrape token when one is configured', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(r.statusCode).toBe(401);
    expect(r.json().error.message).toMatch(/METRICS_TOKEN/);
  });

  it('counts turn latency, outcomes by service, handoffs, errors and refusals', async () => {
    const flow = async (citizen: string) => {
      const token = await t.login(citizen);
      const s = await t.session(token);
      for (const text of ['我要开无犯罪记录证明', '出国留学用，去英国', '确认']) {
        const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${s}/messages`, headers: { authorization: `Bearer ${token}` }, payload: { text } });
        if (r.statusCode !== 200) return r;
      }
      return null;
    };
    // identityMax 2 (session + one turn): the second turn of each flow is refused.
    const refused = await flow('c-sun-ming');
    expect(refused?.statusCode).toBe(429);
    await t.app.inject({ method: 'GET', url: '/api/sessions/ses_nope', headers: {} });

    const body = await scrape();
    expect(sample(body, 'xiaoshen_turn_duration_seconds_count{channel="http"}')).toBe(1);
    expect(body).toMatch(/xiaoshen_turn_duration_seconds_bucket\{le="0\.05",channel="http"\} \d/);
    expect(sample(body, 'xiaoshen_turns_total{service="criminal_record_certificate",outcome="none"}')).toBe(1);
    expect(sample(body, 'xiaoshen_rate_limited_total{scope="identity"}')).toBe(1);
    expect(sample(body, 'xiaoshen_http_errors_total{route="/api/sessions/:id/messages",status="429"}')).toBe(1);
    expect(sample(body, 'xiaoshen_http_errors_total{route="/api/sessions/:id",status="404"}')).toBe(1);
    expect(sample(body, 'xiaoshen_turns_in_flight')).toBe(0);
    expect(sample(body, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(body).toMatch(/# TYPE nodejs_eventloop_lag_seconds gauge/);
  });

  it('shows a record holder\'s submission exactly as a clean citizen\'s: nothing about a person is inferable', async () => {
    const app = await startTestApp({}, {});
    try {
      /** The counters of the public surface (latency histograms and process metrics aside). */
      const counters = async () => {
        const body = (await app.app.inject({ method: 'GET', url: '/metrics' })).body;
        return new Map(body.split('\n').filter((l) => /^xiaoshen_(turns_total|handoffs_total|turn_errors_total|http_errors_total)/.test(l))
          .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))] as const));
      };
      const delta = (a: Map<string, number>, b: Map<string, number>) =>
        Object.fromEntries([...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)]).filter(([, v]) => v !== 0));
      const submitAs = async (citizen: string) => {
        const token = await app.login(citizen);
        const s = await app.session(token);
        const before = await counters();
        const turns = [];
        for (const text of ['我要开无犯罪记录证明', '出国留学用，去英国', '确认']) turns.push(await app.say(s, token, text));
        return { change: delta(before, await counters()), last: turns[2]! };
      };
      const clean = await submitAs('c-sun-ming');
      const record = await submitAs('c-zhao-lei');
      expect(clean.last.outcome).toBe('submitted');
      expect(record.last.outcome).toBe('handoff'); // the citizen is told: staff review
      expect(record.change).toEqual(clean.change);
      expect(clean.change).toMatchObject({ 'xiaoshen_turns_total{service="criminal_record_certificate",outcome="submitted"}': 1 });
      // A handoff the citizen asks for is counted, by reason only.
      const token = await app.login('c-lin-xiao');
      await app.say(await app.session(token), token, '转人工');
      const body = (await app.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(sample(body, 'xiaoshen_handoffs_total{reason="citizen_request"}')).toBe(1);
      expect(body).not.toMatch(/reason="review"/);
    } finally {
      await app.close();
    }
  });

  it('is not served in production without a token', async () => {
    const prod = await startTestApp({ NODE_ENV: 'production', KIOSK_DEVICE_KEY: 'kiosk-device-key-for-tests-0123' }, {});
    try {
      expect((await prod.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    } finally {
      await prod.close();
    }
  });
});

describe('/api/health', () => {
  it('queries the database: 200 while it answers, 503 when it does not', async () => {
    const ok = await t.app.inject({ method: 'GET', url: '/api/health' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, db: TEST_DB_KIND });

    const pool = t.ctx.db.pool;
    const query = pool.query.bind(pool);
    let queried = 0;
    (pool as { query: unknown }).query = (...args: unknown[]) => {
      queried += 1;
      return Promise.reject(new Error('database unavailable'));
    };
    try {
      const down = await t.app.inject({ method: 'GET', url: '/api/health' });
      expect(queried).toBeGreaterThan(0);
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ ok: false });
    } finally {
      (pool as { query: unknown }).query = query;
    }
  });
});
