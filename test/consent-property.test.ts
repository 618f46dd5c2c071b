import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.js';

/**
 * Properties of consent and of answers, over the public HTTP API:
 * - once an application is in, no run of assent words ("确认", "对", "好", "提交", "嗯", "OK" …)
 *   creates another one;
 * - text that is no option never fills an option field: the question stays open, nothing is
 *   submitted.
 * Seeded (FUZZ_SEED) like the fuzz tests, so a failure can be replayed.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 12);

const ASSENT = ['确认', '对', '好', '提交', '嗯', 'OK', '好的', '可以', '是的', '确认提交', '没问题', '对额', '行', 'yes', '嗯嗯', '提交吧', '确定'];

/** Openings that reach the confirmation card in one message, per transactable service, and their citizens. */
const TO_CARD = [
  { citizen: 'c-sun-ming', opening: '我要开无犯罪记录证明，去英国留学用' },
  { citizen: 'c-lin-xiao', opening: '办社保卡，网点自取' },
  { citizen: 'c-wang-qiang', opening: '办居住证，依据是合法稳定就业' },
  { citizen: 'c-wang-qiang', opening: '提取公积金付房租，合同已备案' },
  { citizen: 'c-chen-guiying', opening: '申请老年综合津贴' },
  { citizen: 'c-liu-fang', opening: '申请生育津贴' },
];

/** A field with options awaited after an opening, per service. */
const TO_FIELD = [
  { citizen: 'c-sun-ming', opening: '我要开无犯罪记录证明', field: 'purpose' },
  { citizen: 'c-lin-xiao', opening: '我要办社保卡', field: 'delivery_method' },
  { citizen: 'c-wang-qiang', opening: '我要办居住证', field: 'basis' },
  { citizen: 'c-wang-qiang', opening: '我要提取公积金付房租', field: 'rent_type' },
];

/**
 * Text that cannot name an option: Latin letters without vowels (no English word), digits,
 * and Han characters no option or lexicon phrase uses.
 */
const RARE_HAN = [...'鑫淼犇骉羴鱻猋焱垚燚槑囧嘂嘦奣巭昍烎砳虤飝朤叒孖'];
const gibberish = fc
  .array(fc.oneof(fc.constantFrom(...'bcdfghjklmnpqrstvwxz0123456789'), fc.constantFrom(...RARE_HAN), fc.constant(' ')), { minLength: 1, maxLength: 16 })
  .map((cs) => cs.join('').trim())
  .filter((s) => s.length > 0);

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
}, 120_000);
afterAll(async () => {
  await t?.close();
});

async function applications(token: string): Promise<unknown[]> {
  const r = await t.app.inject({ method: 'GET', url: '/api/me/applications', headers: { authorization: `Bearer ${token}` } });
  const body = r.json<unknown>();
  return Array.isArray(body) ? body : (body as { applications: unknown[] }).applications;
}

describe('consent, as a property', () => {
  it('after a submission, any run of assent words creates no new application', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TO_CARD), fc.array(fc.constantFrom(...ASSENT), { minLength: 1, maxLength: 5 }), async (path, words) => {
        await t.reset(path.citizen);
        const token = await t.login(path.citizen);
        const s = await t.session(token);
        const card = await t.say(s, token, path.opening);
        expect(card.awaiting).toBe('confirm');
        const done = await t.say(s, token, '确认');
        expect(done.outcome).toBe('submitted');
        for (const w of words) {
          const turn = await t.say(s, token, w);
          expect(turn.outcome).not.toBe('submitted');
          expect(turn.awaiting).toBeNull();
        }
        expect(await applications(token)).toHaveLength(1);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 300_000);

  it('text that is no option never fills an option field, and nothing is submitted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TO_FIELD), fc.array(gibberish, { minLength: 1, maxLength: 3 }), async (path, answers) => {
        await t.reset(path.citizen);
        const token = await t.login(path.citizen);
        const s = await t.session(token);
        expect((await t.say(s, token, path.opening)).awaiting).toBe(path.field);
        for (const a of answers) {
          const turn = await t.say(s, token, a);
          // Still asking (or handed to a person after repeated misses), never past the field.
          expect(turn.outcome === 'handoff' || turn.awaiting === path.field).toBe(true);
          if (turn.outcome === 'handoff') break;
        }
        // Assent right after cannot submit what was never answered.
        const after = await t.say(s, token, '确认');
        expect(after.outcome).not.toBe('submitted');
        expect(await applications(token)).toHaveLength(0);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 300_000);
});
