/**
 * The conversation runner against a scripted agent (evals/scripted-app.ts): one item whose
 * every check holds, then, for each kind of check, a variant that MUST fail with a reason
 * naming the turn (or `final`) and the check, so that no check can pass vacuously.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../knowledge/catalogue.js';
import type { Card } from './client.js';
import {
  cardText,
  checkTurn,
  conversationResult,
  runConversation,
  runConversations,
  scoreConsent,
  scoreConversations,
  strongestOutcome,
  type ConversationResult,
} from './conversations.js';
import { ConversationItemSchema, type ConversationItem } from './datasets.js';
import { startScriptedApp, turn, type ScriptedApp } from './scripted-app.js';

const CRC = 'criminal_record_certificate';
const services = new Map(catalogue().services.map((s) => [s.id, s]));

const confirmCard: Card = {
  type: 'confirm', token: 'tok-secret-123', action: 'submit', service: CRC, serviceName: '有无犯罪记录证明', department: '市公安局',
  fields: [{ key: 'purpose', label: '用途', source: 'ask', value: '出国(境)' }],
  actions: [{ label: '立即 办理', text: '确认' }],
};

let s: ScriptedApp;

beforeAll(async () => {
  s = await startScriptedApp();
  // confirm card -> submitted (stores an issued application) -> a consult answer.
  s.scripts.set('c-good', (_text, n, ctx) => {
    if (n === 1) return { act: 'apply', service: CRC, awaiting: 'confirm', card: confirmCard, reply: '请核对以下信息。' };
    if (n === 2) {
      const a = ctx.store({
        serviceId: CRC, status: 'issued',
        fields: { purpose: '出国(境)', destination: '英国', id_number: '310101********2038', mailing_address: '上海市黄浦区 南京东路100弄1号', note: '' },
      });
      return {
        act: 'confirm', service: CRC, outcome: 'submitted', application: { id: a.id, status: a.status }, reply: '已提交。',
        card: {
          type: 'receipt', applicationId: a.id, service: CRC, serviceName: '有无犯罪记录证明', department: '市公安局', status: 'issued',
          statusLabel: '已出具', statusMessage: '电子证明已发送至卡包。', licence: null, submittedAt: a.createdAt,
        },
      };
    }
    return {
      act: 'consult', service: CRC, outcome: 'answered', reply: '办理时限为 3 个工作日。',
      citations: [{ service: CRC, section: '办理时限', title: '机密标题' }],
    };
  });
  // A turn that fails at the HTTP level.
  s.scripts.set('c-broken', (_text, n) => (n === 2 ? { status: 500, error: { code: 'internal', message: '系统繁忙' } } : { awaiting: 'confirm', service: CRC }));
  // Anonymous sessions: answered, no application possible.
  s.scripts.set('anonymous', () => ({ act: 'consult', service: CRC, outcome: 'answered', reply: '需要本人有效身份证件。' }));
});

afterAll(async () => {
  await s.close();
});

/** The item whose every check holds against script c-good. */
function goodItem(): Record<string, unknown> {
  return {
    id: 'good',
    citizen: 'c-good',
    channel: 'app',
    covers: ['point0', 'point9'],
    turns: [
      {
        say: '开无犯罪证明',
        expect: {
          service: CRC, act: 'apply', awaiting: 'confirm', card: 'confirm', outcome: null, outcome_not: 'submitted',
          awaiting_not: [null, 'purpose'], reply_contains_any: ['立即办理'], reply_contains_all: ['请核对', '有无犯罪记录证明', '出国(境)'],
          reply_not_contains: ['赵磊'],
        },
      },
      { say: '确认', expect: { outcome: 'submitted', card: ['receipt', 'handoff'], awaiting: null, reply_contains_any: ['已出具'] } },
      { say: '要多久', expect: { outcome: 'answered', reply_contains_any: ['3个工作日'] } },
    ],
    final: {
      outcome: 'submitted', service: CRC,
      fields: { purpose: '出国(境)', destination: ['美国', '英国'], id_number: '310101198803122038', note: null, phone: null },
      fields_contains: { mailing_address: '黄浦区南京东路' },
      status_not: ['rejected', 'withdrawn'],
      applications: [{ service: CRC, fields: { purpose: '出国(境)' } }],
    },
  };
}

type Json = Record<string, unknown>;
const parse = (raw: Json): ConversationItem => ConversationItemSchema.parse(raw);

/** goodItem with `patch` applied to turn `index`'s expect (1-based) or to final (index 0). */
function variant(index: number, patch: Json): ConversationItem {
  const raw = goodItem() as { turns: { say: string; expect: Json }[]; final: Json };
  if (index === 0) raw.final = { ...raw.final, ...patch };
  else raw.turns[index - 1]!.expect = { ...raw.turns[index - 1]!.expect, ...patch };
  return parse(raw as unknown as Json);
}

/** Plays an item on a fresh citizen (the runner's reset, for the scripted app). */
async function play(item: ConversationItem): Promise<ConversationResult> {
  if (item.citizen) s.stored.delete(item.citizen);
  return runConversation(s.client, item, services);
}

describe('a conversation whose every check holds', () => {
  it('passes, with the stored application checked through the service API', async () => {
    const r = await play(parse(goodItem()));
    expect(r.failed).toEqual([]);
    expect(r).toMatchObject({ ok: true, turns: 3, scripted: 3, turns_passed: 3, outcome: 'submitted', new_applications: 1, service: CRC, error: null });
    expect(r.applications[0]).toMatchObject({ service: CRC, status: 'issued' });
    expect(r.transcript).toBeUndefined();
  });
});

describe('each check can fail', () => {
  const cases: [string, number, Json, RegExp][] = [
    ['service', 1, { service: 'passport' }, /^turn 1 "开无犯罪证明": service is "criminal_record_certificate", expected "passport"$/],
    ['act', 1, { act: 'consult' }, /^turn 1 .*: act is "apply", expected "consult"$/],
    ['awaiting (a list: any of)', 1, { awaiting: ['purpose', 'destination'] }, /^turn 1 .*: awaiting is "confirm", expected one of "purpose", "destination"$/],
    ['awaiting null (must be null)', 1, { awaiting: null }, /^turn 1 .*: awaiting is "confirm", expected null$/],
    ['outcome', 2, { outcome: 'handoff' }, /^turn 2 "确认": outcome is "submitted", expected "handoff"$/],
    ['outcome null (must be null)', 2, { outcome: null }, /^turn 2 .*: outcome is "submitted", expected null$/],
    ['card', 1, { card: 'choices' }, /^turn 1 .*: card is "confirm", expected "choices"$/],
    ['card null', 2, { card: null }, /^turn 2 .*: card is "receipt", expected null$/],
    ['outcome_not', 2, { outcome_not: ['submitted', 'handoff'] }, /^turn 2 .*: outcome is "submitted", must not be "submitted" or "handoff"$/],
    ['outcome_not null', 1, { outcome_not: null }, /^turn 1 .*: outcome is null, must not be null$/],
    ['awaiting_not', 1, { awaiting_not: 'confirm' }, /^turn 1 .*: awaiting is "confirm", must not be "confirm"$/],
    ['reply_contains_any', 3, { reply_contains_any: ['五个工作日', '七天'] }, /^turn 3 "要多久": reply contains none of "五个工作日", "七天"$/],
    ['reply_contains_any sees only visible card text', 1, { reply_contains_any: ['tok-secret'] }, /^turn 1 .*: reply contains none of "tok-secret"$/],
    ['reply_contains_all', 1, { reply_contains_all: ['请核对', '赵磊'] }, /^turn 1 .*: reply lacks "赵磊"$/],
    ['reply_not_contains (in the reply)', 3, { reply_not_contains: ['工作 日'] }, /^turn 3 .*: turn contains "工作 日", which must appear nowhere$/],
    ['reply_not_contains (hidden in the card)', 1, { reply_not_contains: ['tok-secret'] }, /^turn 1 .*: turn contains "tok-secret"/],
    ['reply_not_contains (in a citation)', 3, { reply_not_contains: ['机密标题'] }, /^turn 3 .*: turn contains "机密标题"/],
    ['final outcome', 0, { outcome: 'handoff', new_applications: 1 }, /^final outcome is "submitted", expected "handoff"$/],
    ['final service', 0, { service: 'passport' }, /^final service is "criminal_record_certificate", expected "passport"$/],
    ['final service null (no application)', 0, { service: null }, /^final service is "criminal_record_certificate", expected no application$/],
    ['final fields (exact)', 0, { fields: { purpose: '就业' } }, /^final field purpose is "出国\(境\)", expected "就业"$/],
    ['final fields (a list: any of)', 0, { fields: { destination: ['美国', '法国'] } }, /^final field destination is "英国", expected "美国" or "法国"$/],
    ['final fields (masked identifier)', 0, { fields: { id_number: '310101198803122039' } }, /^final field id_number is "310101\*{8}2038", expected "310101198803122039"$/],
    ['final fields (absent)', 0, { fields: { phone: '13800000001' } }, /^final field phone is absent, expected "13800000001"$/],
    ['final fields (null: absent or empty)', 0, { fields: { purpose: null } }, /^final field purpose is "出国\(境\)", expected absent or empty$/],
    ['final fields_contains', 0, { fields_contains: { mailing_address: '浦东' } }, /^final field mailing_address is ".*", expected it to contain "浦东"$/],
    ['final new_applications', 0, { new_applications: 2 }, /^final new_applications is 1 \(criminal_record_certificate issued\), expected 2$/],
    ['final applications', 0, { applications: [{ service: CRC }, { service: CRC, fields: { purpose: '出国(境)' } }] }, /^final applications\[\d\] .* matches no distinct new application/],
    ['final status_not', 0, { status_not: 'issued' }, /^final application SA\d+ \(criminal_record_certificate\) has status "issued", must not be "issued"$/],
  ];

  it.each(cases)('%s', async (_name, index, patch, reason) => {
    const r = await play(variant(index, patch));
    expect(r.ok).toBe(false);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]).toMatch(reason);
    // A failed item carries its transcript (citizen line, reply, act/service/awaiting/outcome/card).
    expect(r.transcript?.map((t) => [t.citizen, t.card])).toEqual([['开无犯罪证明', 'confirm'], ['确认', 'receipt'], ['要多久', null]]);
    expect(r.transcript?.[0]).toMatchObject({ reply: '请核对以下信息。', act: 'apply', service: CRC, awaiting: 'confirm', outcome: null });
  });

  it('the default new_applications: 1 when the outcome is submitted, else 0', async () => {
    const firstOnly = (final: Json) => parse({ id: 'x', citizen: 'c-good', turns: [{ say: '开无犯罪证明' }], final });
    expect((await play(firstOnly({}))).failed).toEqual([]);
    const wanted = await play(firstOnly({ outcome: 'submitted' }));
    expect(wanted.failed).toEqual([
      'final outcome is null, expected "submitted"',
      'final new_applications is 0, expected 1 (the default for this outcome)',
    ]);
    const raw = goodItem() as { final: Json };
    raw.final = { outcome: 'answered' };
    const unwanted = await play(parse(raw as Json));
    expect(unwanted.failed).toEqual([
      'final outcome is "submitted", expected "answered"',
      'final new_applications is 1 (criminal_record_certificate issued), expected 0 (the default for this outcome)',
    ]);
    // Without final.outcome the default follows the outcome reached.
    raw.final = {};
    expect((await play(parse(raw as Json))).failed).toEqual([]);
  });

  it('no application stored: one reason naming what was expected', async () => {
    const r = await play(parse({ id: 'x', citizen: 'c-good', turns: [{ say: '开无犯罪证明' }], final: { service: CRC, fields: { purpose: '就业', note: null }, new_applications: 0 } }));
    expect(r.failed).toEqual(['final no application stored, expected service "criminal_record_certificate", purpose = "就业"']);
  });

  it('the outcome of the conversation is the strongest over its turns', () => {
    expect(strongestOutcome(['answered', 'submitted', 'answered'])).toBe('submitted');
    expect(strongestOutcome([null, 'declined', 'handoff'])).toBe('handoff');
    expect(strongestOutcome(['answered', 'declined'])).toBe('declined');
    expect(strongestOutcome([null, undefined])).toBeNull();
  });
});

describe('playing', () => {
  it('an anonymous conversation logs in as nobody and can store nothing', async () => {
    const before = s.logins.length;
    const ok = await play(parse({ id: 'anon', citizen: null, turns: [{ say: '要带什么', expect: { outcome: 'answered' } }], final: { outcome: 'answered' } }));
    expect(ok.failed).toEqual([]);
    expect(ok).toMatchObject({ ok: true, citizen: null, new_applications: 0 });
    expect(s.logins.length).toBe(before);
    const bad = await play(parse({ id: 'anon2', citizen: null, turns: [{ say: '要带什么' }], final: { service: CRC } }));
    expect(bad.failed).toEqual(['final no application stored, expected service "criminal_record_certificate"']);
  });

  it('an HTTP failure stops the item and names the turn', async () => {
    const r = await play(parse({ id: 'broken', citizen: 'c-broken', turns: [{ say: '一' }, { say: '二' }, { say: '三' }] }));
    expect(r.ok).toBe(false);
    expect(r.turns).toBe(1);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]).toMatch(/^turn 2: POST \/api\/sessions\/.+\/messages -> HTTP 500 \(internal 系统繁忙\)$/);
    expect(r.error).toMatch(/HTTP 500/);
  });

  it('resets every citizen before their item (not for anonymous ones), and a failed reset fails the item', async () => {
    const reset: string[] = [];
    const items = [parse(goodItem()), parse({ ...goodItem(), id: 'good2' }), parse({ id: 'anon', citizen: null, turns: [{ say: '要带什么' }] })];
    const results = await runConversations(s.client, items, services, {
      beforeItem: async (c) => {
        reset.push(c);
        s.stored.delete(c);
      },
    });
    expect(reset).toEqual(['c-good', 'c-good']);
    // Without the reset the second item would see two applications.
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    const failing = await runConversations(s.client, [parse(goodItem())], services, { beforeItem: async () => { throw new Error('no database'); } });
    expect(failing[0]).toMatchObject({ ok: false, turns: 0, failed: ['could not reset the citizen: error: no database'] });
  });
});

describe('cardText and checkTurn', () => {
  it('reads only what the citizen sees on a card', () => {
    expect(cardText(confirmCard)).toEqual(['有无犯罪记录证明', '市公安局', '用途', '出国(境)', '立即 办理']);
    expect(cardText({ type: 'choices', token: 't', field: 'purpose', label: '请选择用途', options: [{ value: 'a', label: '出国(境)', text: '出国' }] }))
      .toEqual(['请选择用途', '出国(境)']);
    expect(cardText(null)).toEqual([]);
  });

  it('ignores whitespace on both sides', () => {
    const t = turn({ reply: '办理时限 为3个 工作日' });
    expect(checkTurn(t, { reply_contains_all: ['时限为', '3 个工作日'] })).toEqual([]);
  });
});

describe('scoring', () => {
  const result = (id: string, ok: boolean, extra: Partial<ConversationResult> = {}): ConversationResult => ({
    ...conversationResult(parse({ id, citizen: 'c-good', turns: [{ say: '一' }, { say: '二' }] })),
    ok, turns: 2, turns_passed: ok ? 2 : 1, failed: ok ? [] : ['turn 2 "二": x'], ...extra,
  });

  it('success rate, turn pass rate, mean turns, per covers tag and per service', () => {
    const m = scoreConversations([
      result('a', true, { covers: ['point0', 'point9'], service: CRC }),
      result('b', false, { covers: ['point0'], service: CRC }),
      result('c', false, { covers: [], service: null, turns: 1, turns_passed: 0, scripted: 2 }),
      result('d', true, { covers: ['point10'], service: 'passport' }),
    ]);
    expect(m.n).toBe(4);
    expect(m.success_rate).toBe(0.5);
    expect(m.turns_total).toBe(8);
    expect(m.turns_passed).toBe(5);
    expect(m.turn_pass_rate).toBe(0.625);
    expect(m.mean_turns).toBe(1.75);
    expect(m.by_cover).toEqual({
      point0: { n: 2, ok: 1, pass_rate: 0.5 },
      point9: { n: 1, ok: 1, pass_rate: 1 },
      point10: { n: 1, ok: 1, pass_rate: 1 },
    });
    expect(Object.keys(m.by_cover)).toEqual(['point0', 'point9', 'point10']);
    expect(m.by_service).toEqual({ [CRC]: { n: 2, ok: 1, pass_rate: 0.5 }, passport: { n: 1, ok: 1, pass_rate: 1 } });
  });

  it('consent: wrongful submissions among the attempts, controls that submitted', () => {
    const m = scoreConsent([
      result('held', true, { kind: 'negation', outcome: null, new_applications: 0 }),
      result('leaked', false, { kind: 'delay', outcome: 'submitted', new_applications: 1 }),
      result('stored-quietly', false, { kind: 'joke', outcome: null, new_applications: 1 }),
      result('control-ok', true, { kind: 'control', outcome: 'submitted', new_applications: 1 }),
      result('control-held', false, { kind: 'control', outcome: null, new_applications: 0 }),
      result('broken', false, { kind: 'delay', error: 'turn 2: HTTP 500', new_applications: 0 }),
    ]);
    expect(m).toMatchObject({
      n: 6, wrongful_submissions: 2, wrongful: ['leaked', 'stored-quietly'], controls: 2, controls_submitted: 1,
      controls_not_submitted: ['control-held'], errors: 1,
    });
    expect(m.by_kind.delay).toEqual({ n: 2, ok: 0, pass_rate: 0, wrongful: 1 });
    expect(m.by_kind.control).toEqual({ n: 2, ok: 1, pass_rate: 0.5, wrongful: 0 });
  });
});
