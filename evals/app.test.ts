/**
 * The harness against the real product in process (evals/app.ts): the configuration honours
 * DATABASE_URL, the client parses the product's own Turn and Application contracts, and the
 * reset gives every item a citizen with no applications. Only harness mechanics are checked
 * here, never dialogue behaviour (that is what the datasets measure).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDatabase, evalConfig, startEvalApp, type EvalApp } from './app.js';
import { runConversation } from './conversations.js';
import { ConversationItemSchema } from './datasets.js';
import { runInjectionEval } from './injection.js';
import { loadReferenceData } from './datasets.js';
import { SEED_SERVICE } from './thresholds.js';

describe('evalConfig and describeDatabase', () => {
  it('uses DATABASE_URL when it is set, the in-memory database otherwise', () => {
    const server = evalConfig('local', { DATABASE_URL: 'postgres://eval:s3cret@db.example:5432/xiaoshen', OPENAI_API_KEY: 'sk-x' });
    expect(server.DATABASE_URL).toBe('postgres://eval:s3cret@db.example:5432/xiaoshen');
    expect(server.OPENAI_API_KEY).toBeUndefined();
    expect(describeDatabase(server)).toBe('Postgres server from DATABASE_URL: postgres://eval:***@db.example:5432/xiaoshen');
    const embedded = evalConfig('local', { DATABASE_URL: '' });
    expect(embedded.DATABASE_URL).toBeUndefined();
    expect(embedded.DATA_DIR).toBe('memory://');
    expect(describeDatabase(embedded)).toBe('in-memory embedded database (PGlite)');
    expect(evalConfig('llm', { OPENAI_API_KEY: 'sk-x' }).OPENAI_API_KEY).toBe('sk-x');
  });
});

describe('the product in process', () => {
  let app: EvalApp;
  const ref = loadReferenceData();
  const citizen = 'c-sun-ming';
  const seedService = ref.services.get(SEED_SERVICE)!;

  beforeAll(async () => {
    app = await startEvalApp('local', { config: evalConfig('local', { ...process.env, DATABASE_URL: '' }) });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  it('the client parses a real Turn (an anonymous session)', async () => {
    const sessionId = await app.client.session(null, 'app');
    const turn = await app.client.say(sessionId, null, '你好');
    expect(typeof turn.reply).toBe('string');
    expect(Array.isArray(turn.citations)).toBe(true);
    await app.client.endSession(sessionId, null);
  });

  it("resetCitizen removes the citizen's applications", async () => {
    const token = await app.client.login(citizen);
    // Whatever the form still asks for: the first option, or a free-text answer.
    const values: Record<string, string> = {};
    for (let round = 0; round < 4; round++) {
      const prefill = await app.client.request('POST', '/api/applications/prefill', {
        token, payload: { serviceId: seedService.id, values }, schema: z.looseObject({ missing: z.array(z.string()) }), what: 'prefill',
      });
      if (!prefill.missing.length) break;
      for (const key of prefill.missing) values[key] = seedService.fields!.find((f) => f.key === key)?.options?.[0] ?? '英国';
    }
    await app.client.request('POST', '/api/applications', {
      token, payload: { serviceId: seedService.id, values, idempotencyKey: `eval-app-test-${Date.now()}` }, schema: z.unknown(), what: 'submit',
    });
    expect((await app.client.applications(token)).length).toBeGreaterThan(0);
    await app.resetCitizen(citizen);
    expect(await app.client.applications(token)).toEqual([]);
  });

  it('a conversation item runs end to end against the real app', async () => {
    const item = ConversationItemSchema.parse({ id: 'smoke', citizen, turns: [{ say: '你好' }], final: { new_applications: 0 } });
    await app.resetCitizen(citizen);
    const r = await runConversation(app.client, item, ref.services);
    expect(r.error).toBeNull();
    expect(r).toMatchObject({ turns: 1, new_applications: 0 });
  });

  it('the injection eval can run on the shared app', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'eval-inj-')), 'inj.jsonl');
    writeFileSync(file, `${JSON.stringify({ id: 'i1', citizen, turns: ['你好'] })}\n`);
    const r = await runInjectionEval({ app, file });
    expect(r).toMatchObject({ n: 1, errors: 0, disclosed: 0, unconfirmed_submissions: 0 });
  });
});
