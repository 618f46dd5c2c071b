/**
 * The scenario runner against a scripted agent behind real fastify routes (the API.md
 * shapes), so the simulator, the HTTP driving and the success rules are checked without
 * the real agent.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../core/catalogue.js';
import { ScenarioItemSchema, type ScenarioItem } from './datasets.js';
import { citizenAnswer, fieldMatches, runScenario, scoreScenarios, MAX_CITIZEN_TURNS } from './scenarios.js';

const crc = loadCatalogue().find((s) => s.id === 'criminal_record_certificate')!;

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
    expect(fieldMatches('purpose', '出国(境)', '出国(境)')).toBe(true);
    expect(fieldMatches('id_number', '310101********2038', '310101198803122038')).toBe(true);
    expect(fieldMatches('id_number', '310101********2039', '310101198803122038')).toBe(false);
    expect(fieldMatches('purpose', undefined, '就业')).toBe(false);
  });
});

// ------------------------------------------------------------------ scripted app

interface Script {
  /** Given the citizen's text and the turn number, the Turn to return. */
  (text: string, turn: number): Record<string, unknown>;
}

const turn = (partial: Record<string, unknown>) => ({
  reply: '…', act: 'apply', service: 'criminal_record_certificate', awaiting: null, card: null, outcome: null,
  application: null, handoff: null, citations: [], ...partial,
});

let app: FastifyInstance;
const scripts = new Map<string, Script>();
const received: Record<string, string[]> = {};
let storedFields: Record<string, string> = {};

beforeAll(async () => {
  app = Fastify();
  let sessions = 0;
  app.post('/api/auth/sandbox-login', async (req) => {
    const { citizenId } = req.body as { citizenId: string };
    return { token: `tok-${citizenId}` };
  });
  app.post('/api/sessions', async (req, reply) => {
    const auth = req.headers.authorization ?? '';
    const script = auth.replace('Bearer tok-', '');
    sessions++;
    const id = `sess-${sessions}-${script}`;
    received[id] = [];
    return reply.code(201).send({ sessionId: id });
  });
  app.post('/api/sessions/:id/messages', async (req, reply) => {
    const { id } = req.params as { id: string };
    const script = scripts.get(id.replace(/^sess-\d+-/, ''));
    if (!script) return reply.code(404).send({ error: { code: 'not_found', message: '未找到该会话' } });
    const text = (req.body as { text: string }).text;
    received[id]!.push(text);
    return script(text, received[id]!.length);
  });
  app.get('/api/applications/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    if (req.headers.authorization === undefined) return reply.code(401).send({ error: { code: 'unauthorized', message: '请先登录。' } });
    return { id, serviceId: 'criminal_record_certificate', status: 'submitted', fields: storedFields };
  });
  await app.ready();

  // Three turns: purpose -> confirm -> submitted.
  scripts.set('happy', (text, n) => {
    if (n === 1) return turn({ awaiting: 'purpose' });
    if (n === 2) return turn({ awaiting: text === '出国留学用' ? 'confirm' : 'purpose' });
    return turn({ outcome: 'submitted', application: { id: 'SA20250101000001', status: 'submitted' } });
  });
  // Never finishes: keeps asking.
  scripts.set('loop', () => turn({ awaiting: 'destination' }));
  // Stops asking without an outcome.
  scripts.set('stall', () => turn({ act: 'consult', awaiting: null }));
  // Hands off at once.
  scripts.set('handoff', () => turn({ act: 'handoff', outcome: 'handoff', handoff: { id: 'H1', reason: 'asked for a person' } }));
});

afterAll(async () => {
  await app.close();
});

/** A scenario played by script `name` (the scripted app picks the script by citizen id). */
const played = (name: string, partial: Record<string, unknown> = {}) => scenario({ citizen: name, ...partial });

describe('runScenario over HTTP', () => {
  it('succeeds when outcome, turns and the stored fields match (masked id accepted)', async () => {
    storedFields = { name: '孙明', id_number: '310101********2038', purpose: '出国(境)', destination: '英国' };
    const r = await runScenario(app, played('happy'), crc);
    expect(r.failure).toBeNull();
    expect(r).toMatchObject({ ok: true, turns: 3, outcome: 'submitted' });
    expect(r.transcript.map((t) => t.citizen)).toEqual(['我要开无犯罪记录证明', '出国留学用', '确认']);
    expect(r.application?.id).toBe('SA20250101000001');
  });

  it('fails on a stored field that differs from the expectation (not on chat text)', async () => {
    storedFields = { id_number: '310101********2038', purpose: '就业', destination: '英国' };
    const r = await runScenario(app, played('happy'), crc);
    expect(r.ok).toBe(false);
    expect(r.failure).toContain('field purpose = "就业", expected "出国(境)"');
  });

  it('fails when it takes more turns than max_turns', async () => {
    storedFields = { id_number: '310101********2038', purpose: '出国(境)', destination: '英国' };
    const r = await runScenario(app, played('happy', { expect: { outcome: 'submitted', max_turns: 2 } }), crc);
    expect(r.ok).toBe(false);
    expect(r.failure).toBe('3 turns, expected at most 2');
  });

  it(`gives up after ${MAX_CITIZEN_TURNS} citizen turns`, async () => {
    const r = await runScenario(app, played('loop'), crc);
    expect(r).toMatchObject({ ok: false, turns: MAX_CITIZEN_TURNS, outcome: null });
    expect(r.failure).toContain(`no outcome after ${MAX_CITIZEN_TURNS} citizen turns`);
  });

  it('stops when the agent awaits nothing and has no outcome', async () => {
    const r = await runScenario(app, played('stall'), crc);
    expect(r).toMatchObject({ ok: false, turns: 1, outcome: null });
    expect(r.failure).toContain('awaits nothing');
  });

  it('compares the outcome', async () => {
    const ok = await runScenario(app, played('handoff', { expect: { outcome: 'handoff', max_turns: 1 } }), crc);
    expect(ok.ok).toBe(true);
    const bad = await runScenario(app, played('handoff'), crc);
    expect(bad.failure).toContain('outcome handoff, expected submitted');
  });

  it('turns an HTTP error into a failure reason', async () => {
    const r = await runScenario(app, played('no-such-script'), crc);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatch(/turn 1: POST \/api\/sessions\/.+\/messages -> HTTP 404 \(not_found/);
  });

  it('scores success rate and mean turns (criminal record separately)', async () => {
    storedFields = { id_number: '310101********2038', purpose: '出国(境)', destination: '英国' };
    const results = [
      await runScenario(app, played('happy'), crc),
      await runScenario(app, played('handoff', { expect: { outcome: 'handoff' } }), crc),
      await runScenario(app, played('stall', { goal: { service: 'passport' }, expect: { outcome: 'answered' } }), undefined),
    ];
    const m = scoreScenarios(results);
    expect(m.n).toBe(3);
    expect(m.success_rate).toBe(0.6667);
    expect(m.mean_turns).toBe(1.667);
    expect(m.mean_turns_criminal_record).toBe(2);
    expect(m.mean_turns_by_service).toEqual({ criminal_record_certificate: 2, passport: 1 });
    expect(m.items.map((i) => i.ok)).toEqual([true, true, false]);
  });
});
