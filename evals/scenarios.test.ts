/**
 * The scenario runner against a scripted agent behind real fastify routes (the API.md
 * shapes, evals/scripted-app.ts), so the simulator, the HTTP driving and the success rules
 * are checked without the real agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../knowledge/catalogue.js';
import { ScenarioItemSchema, type ScenarioItem } from './datasets.js';
import { citizenAnswer, fieldMatches, runScenario, runScenarios, scenarioResult, scoreScenarios, MAX_CITIZEN_TURNS } from './scenarios.js';
import { startScriptedApp, type ScriptedApp } from './scripted-app.js';

const CRC = 'criminal_record_certificate';
const crc = catalogue().get(CRC)!;
const idField = crc.fields!.find((f) => f.key === 'id_number')!;

function scenario(partial: Record<string, unknown> = {}): ScenarioItem {
  return ScenarioItemSchema.parse({
    id: 's1',
    citizen: 'c-sun-ming',
    channel: 'app',
    opening: '我要开无犯罪记录证明',
    goal: {
      service: 'criminal_record_certificate',
      facts: { purpose: '出国(境)', destination: '英国' },
      say: { purpose: '出国留学用' },
    },
    expect: { outcome: 'submitted', fields: { purpose: '出国(境)', destination: '英国', id_number: '310101198803122038' }, max_turns: 4 },
    ...partial,
  });
}

describe('citizenAnswer (the simulator)', () => {
  const s = scenario();
  it('answers a field with say, else the fact, else 不知道', () => {
    expect(citizenAnswer(s, 'purpose', crc.name)).toBe('出国留学用');
    expect(citizenAnswer(s, 'destination', crc.name)).toBe('英国');
    expect(citizenAnswer(s, 'household_address', crc.name)).toBe('不知道');
  });
  it('confirms with 确认 unless say.confirm; names the service when asked which one', () => {
    expect(citizenAnswer(s, 'confirm', crc.name)).toBe('确认');
    expect(citizenAnswer(scenario({ goal: { service: 'criminal_record_certificate', say: { confirm: '对，提交吧' } } }), 'confirm', crc.name)).toBe('对，提交吧');
    expect(citizenAnswer(s, 'service', crc.name)).toBe('有无犯罪记录证明');
  });
});

describe('fieldMatches', () => {
  it('matches exactly, or a masked identifier against the expected value masked', () => {
    expect(fieldMatches('出国(境)', '出国(境)')).toBe(true);
    expect(fieldMatches('310101********2038', '310101198803122038', idField)).toBe(true);
    expect(fieldMatches('310101********2039', '310101198803122038', idField)).toBe(false);
    expect(fieldMatches(undefined, '就业')).toBe(false);
  });
  it('without the field, a masked value matches under any identifier mask', () => {
    expect(fieldMatches('310101********2038', '310101198803122038')).toBe(true);
    expect(fieldMatches('**** **** **** 0001', '6222 0000 0000 0001')).toBe(true);
    expect(fieldMatches('138****0001', '13800000001')).toBe(true);
    expect(fieldMatches('138****0001', '13900000001')).toBe(false);
  });
});

describe('scenarioResult (the one result builder)', () => {
  it('builds an unplayed result; with a reason it is a failure', () => {
    const r = scenarioResult(scenario(), 'app not available');
    expect(r).toMatchObject({ id: 's1', ok: false, turns: 0, outcome: null, failure: 'app not available', service: CRC, transcript: [] });
    expect(r.expected).toEqual({ outcome: 'submitted', max_turns: 4, fields: { purpose: '出国(境)', destination: '英国', id_number: '310101198803122038' } });
  });
});

// ------------------------------------------------------------------ scripted app

let s: ScriptedApp;
let storedFields: Record<string, string> = {};
const ok = (partial: Record<string, unknown>) => ({ service: CRC, ...partial });

beforeAll(async () => {
  s = await startScriptedApp();
  // Three turns: purpose -> confirm -> submitted.
  s.scripts.set('happy', (text, n, ctx) => {
    if (n === 1) return ok({ awaiting: 'purpose' });
    if (n === 2) return ok({ awaiting: text === '出国留学用' ? 'confirm' : 'purpose' });
    const a = ctx.store({ serviceId: CRC, status: 'issued', fields: storedFields });
    return ok({ outcome: 'submitted', application: { id: a.id, status: a.status } });
  });
  // Never finishes: keeps asking.
  s.scripts.set('loop', () => ok({ awaiting: 'destination' }));
  // Stops asking without an outcome.
  s.scripts.set('stall', () => ok({ act: 'consult', awaiting: null }));
  // Hands off at once.
  s.scripts.set('handoff', () => ok({ act: 'handoff', outcome: 'handoff', handoff: { id: 'H1', reason: 'citizen_request' } }));
  // Says submitted but stores nothing anywhere the API can find.
  s.scripts.set('phantom', () => ok({ outcome: 'submitted', application: { id: 'SA-nowhere', status: 'submitted' } }));
});

afterAll(async () => {
  await s.close();
});

/** A scenario played by script `name` (the scripted app picks the script by citizen id). */
const played = (name: string, partial: Record<string, unknown> = {}) => scenario({ citizen: name, ...partial });

describe('runScenario over HTTP', () => {
  it('succeeds when outcome, turns and the stored fields match (masked id accepted)', async () => {
    storedFields = { name: '孙明', id_number: '310101********2038', purpose: '出国(境)', destination: '英国' };
    const r = await runScenario(s.client, played('happy'), crc);
    expect(r.failure).toBeNull();
    expect(r).toMatchObject({ ok: true, turns: 3, outcome: 'submitted' });
    expect(r.transcript.map((t) => t.citizen)).toEqual(['我要开无犯罪记录证明', '出国留学用', '确认']);
    expect(r.application).toMatchObject({ id: expect.stringMatching(/^SA/), status: 'issued', fields: storedFields });
  });

  it('fails on a stored field that differs from the expectation (not on chat text)', async () => {
    storedFields = { id_number: '310101********2038', purpose: '就业', destination: '英国' };
    const r = await runScenario(s.client, played('happy'), crc);
    expect(r.ok).toBe(false);
    expect(r.failure).toContain('field purpose = "就业", expected "出国(境)"');
  });

  it('fails when it takes more turns than max_turns', async () => {
    storedFields = { id_number: '310101********2038', purpose: '出国(境)', destination: '英国' };
    const r = await runScenario(s.client, played('happy', { expect: { outcome: 'submitted', max_turns: 2 } }), crc);
    expect(r.ok).toBe(false);
    expect(r.failure).toBe('3 turns, expected at most 2');
  });

  it(`gives up after ${MAX_CITIZEN_TURNS} citizen turns`, async () => {
    const r = await runScenario(s.client, played('loop'), crc);
    expect(r).toMatchObject({ ok: false, turns: MAX_CITIZEN_TURNS, outcome: null });
    expect(r.failure).toContain(`no outcome after ${MAX_CITIZEN_TURNS} citizen turns`);
  });

  it('stops when the agent awaits nothing and has no outcome', async () => {
    const r = await runScenario(s.client, played('stall'), crc);
    expect(r).toMatchObject({ ok: false, turns: 1, outcome: null });
    expect(r.failure).toContain('awaits nothing');
  });

  it('compares the outcome', async () => {
    const ok = await runScenario(s.client, played('handoff', { expect: { outcome: 'handoff', max_turns: 1 } }), crc);
    expect(ok.ok).toBe(true);
    const bad = await runScenario(s.client, played('handoff'), crc);
    expect(bad.failure).toContain('outcome handoff, expected submitted');
  });

  it('turns an HTTP error into a failure reason', async () => {
    const r = await runScenario(s.client, played('no-such-script'), crc);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatch(/turn 1: POST \/api\/sessions\/.+\/messages -> HTTP 404 \(not_found/);
  });

  it('checks the application the service API stored, not the Turn', async () => {
    const r = await runScenario(s.client, played('phantom', { expect: { outcome: 'submitted' } }), crc);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatch(/fetch application: GET \/api\/applications\/SA-nowhere -> HTTP 404/);
  });

  it('resets each citizen before their scenario', async () => {
    const reset: string[] = [];
    storedFields = { purpose: '出国(境)', destination: '英国', id_number: '310101********2038' };
    const items = [played('happy'), played('handoff', { expect: { outcome: 'handoff' } })];
    const results = await runScenarios(s.client, items, new Map([[CRC, crc]]), { beforeItem: async (c) => { reset.push(c); } });
    expect(reset).toEqual(['happy', 'handoff']);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    const failing = await runScenarios(s.client, [played('happy')], new Map(), { beforeItem: async () => { throw new Error('no database'); } });
    expect(failing[0]).toMatchObject({ ok: false, turns: 0, failure: 'could not reset the citizen: error: no database' });
  });

  it('scores success rate and mean turns (criminal record separately)', async () => {
    storedFields = { id_number: '310101********2038', purpose: '出国(境)', destination: '英国' };
    const results = [
      await runScenario(s.client, played('happy'), crc),
      await runScenario(s.client, played('handoff', { expect: { outcome: 'handoff' } }), crc),
      await runScenario(s.client, played('stall', { goal: { service: 'passport' }, expect: { outcome: 'answered' } }), undefined),
    ];
    const m = scoreScenarios(results);
    expect(m.n).toBe(3);
    expect(m.success_rate).toBe(0.6667);
    expect(m.mean_turns).toBe(1.667);
    expect(m.mean_turns_criminal_record).toBe(2);
    expect(m.seed_service).toBe(CRC);
    expect(m.mean_turns_by_service).toEqual({ criminal_record_certificate: 2, passport: 1 });
    expect(scoreScenarios(results, 'passport').mean_turns_criminal_record).toBe(1);
    expect(m.items.map((i) => i.ok)).toEqual([true, true, false]);
  });
});
