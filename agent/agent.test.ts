import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
// Each test meets its citizens fresh (no application of an earlier test counts as a repeat).
beforeEach(async () => t.reset());

afterAll(async () => {
  await t?.close();
});

async function storedApplication(token: string, id: string) {
  const r = await t.app.inject({ method: 'GET', url: `/api/applications/${id}`, headers: { authorization: `Bearer ${token}` } });
  expect(r.statusCode).toBe(200);
  return r.json<{ id: string; serviceId: string; status: string; fields: Record<string, string> }>();
}

describe('criminal-record certificate for 孙明', () => {
  it('takes three turns: pre-filled request, purpose and destination, confirmation', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);

    const t1 = await t.say(s, token, '我要开无犯罪记录证明');
    expect(t1.service).toBe('criminal_record_certificate');
    expect(t1.awaiting).toBe('purpose');
    expect(t1.reply).toContain('孙明');
    expect(t1.reply).toContain('310101********2038');
    expect(t1.reply).not.toContain('310101198803122038');
    expect(t1.card?.type).toBe('choices');

    const t2 = await t.say(s, token, '出国留学用，去英国');
    expect(t2.awaiting).toBe('confirm');
    expect(t2.card?.type).toBe('confirm');
    const fields = (t2.card as unknown as { fields: { key: string; value: string | null }[] }).fields;
    const byKey = Object.fromEntries(fields.map((f) => [f.key, f.value]));
    expect(byKey).toMatchObject({ name: '孙明', id_number: '310101********2038', purpose: '出国(境)', destination: '英国' });

    const t3 = await t.say(s, token, '确认');
    expect(t3.outcome).toBe('submitted');
    expect(t3.application?.status).toBe('issued');
    const app = await storedApplication(token, t3.application!.id);
    expect(app.fields).toMatchObject({ purpose: '出国(境)', destination: '英国' });

    const licences = await t.app.inject({ method: 'GET', url: '/api/me/licences', headers: { authorization: `Bearer ${token}` } });
    expect(licences.body).toContain('有无犯罪记录证明');
  });

  it('takes two turns when one sentence carries service, purpose and destination', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    const t1 = await t.say(s, token, '帮我开个无犯罪记录证明，去英国留学用');
    expect(t1.awaiting).toBe('confirm');
    const t2 = await t.say(s, token, '确认');
    expect(t2.outcome).toBe('submitted');
    const app = await storedApplication(token, t2.application!.id);
    expect(app.fields).toMatchObject({ purpose: '出国(境)', destination: '英国' });
  });

  it('accepts a correction before confirming, and drops the destination that no longer applies', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    await t.say(s, token, '帮我开个无犯罪记录证明，去英国留学用');
    const t2 = await t.say(s, token, '不对，用途改成就业');
    expect(t2.awaiting).toBe('confirm');
    const fields = (t2.card as unknown as { fields: { key: string; value: string | null }[] }).fields;
    expect(fields.find((f) => f.key === 'purpose')?.value).toBe('就业');
    expect(fields.find((f) => f.key === 'destination')).toBeUndefined();
    const t3 = await t.say(s, token, '确认');
    const app = await storedApplication(token, t3.application!.id);
    expect(app.fields.purpose).toBe('就业');
    expect(app.fields.destination).toBeUndefined();
  });

  it('cancels at any point and submits nothing', async () => {
    const token = await t.login('c-lin-xiao');
    const before = (await t.app.inject({ method: 'GET', url: '/api/me/applications', headers: { authorization: `Bearer ${token}` } })).json<unknown[]>();
    const s = await t.session(token);
    await t.say(s, token, '帮我开个无犯罪记录证明，去英国留学用');
    const t2 = await t.say(s, token, '算了，不办了');
    expect(t2.outcome).toBeNull();
    expect(t2.awaiting).toBeNull();
    const t3 = await t.say(s, token, '确认');
    expect(t3.outcome).not.toBe('submitted');
    const after = (await t.app.inject({ method: 'GET', url: '/api/me/applications', headers: { authorization: `Bearer ${token}` } })).json<unknown[]>();
    expect(listLength(after)).toBe(listLength(before));
  });
});

function listLength(x: unknown): number {
  if (Array.isArray(x)) return x.length;
  return ((x as { applications?: unknown[] }).applications ?? []).length;
}

describe('the six transactable services, each by a citizen it fits', () => {
  const cases: { citizen: string; say: string[]; service: string; fields: Record<string, string> }[] = [
    { citizen: 'c-lin-xiao', say: ['我想办社保卡', '寄到家里', '确认'], service: 'social_security_card', fields: { delivery_method: '邮寄到家' } },
    { citizen: 'c-liu-fang', say: ['我要领生育津贴', '确认'], service: 'maternity_allowance', fields: {} },
    { citizen: 'c-wang-qiang', say: ['我要办居住证', '我在张江上班', '确认'], service: 'residence_permit', fields: { basis: '合法稳定就业' } },
    { citizen: 'c-chen-guiying', say: ['我要申请老年综合津贴', '确认'], service: 'senior_allowance', fields: {} },
    { citizen: 'c-wang-qiang', say: ['租房提取公积金', '合同已经备案了', '确认'], service: 'housing_fund_rent_withdrawal', fields: { rent_type: '已备案租赁合同' } },
    { citizen: 'c-liu-fang', say: ['开无犯罪证明，找工作用', '确认'], service: 'criminal_record_certificate', fields: { purpose: '就业' } },
  ];
  for (const c of cases) {
    it(`${c.service} for ${c.citizen}`, async () => {
      const token = await t.login(c.citizen);
      const s = await t.session(token);
      let last;
      for (const text of c.say) last = await t.say(s, token, text);
      expect(last!.outcome).toBe('submitted');
      expect(last!.service).toBe(c.service);
      const app = await storedApplication(token, last!.application!.id);
      expect(app.serviceId).toBe(c.service);
      expect(app.fields).toMatchObject(c.fields);
    });
  }
});

describe('withdrawal in chat', () => {
  it('withdraws only after a yes to the withdrawal question, and only while unprocessed', async () => {
    const token = await t.login('c-lin-xiao');
    const s = await t.session(token);
    await t.say(s, token, '办社保卡，网点自取');
    const sent = await t.say(s, token, '确认');
    expect(sent.outcome).toBe('submitted');
    const id = sent.application!.id;
    // A question about withdrawing withdraws nothing: it says whether it can be done and asks.
    const asked = await t.say(s, token, '提交了还能撤回吗？');
    expect((await storedApplication(token, id)).status).toBe('submitted');
    expect(asked.reply).toMatch(/确认撤回/);
    // Keeping it, and asking the progress in the same breath: both are answered.
    const keptAsked = await t.say(s, token, '那先不撤了，办到哪了');
    expect(keptAsked.reply).toMatch(/保留/);
    expect(keptAsked.reply).toContain(id);
    expect(keptAsked.reply).toMatch(/进度/);
    expect((await storedApplication(token, id)).status).toBe('submitted');
    const ask = await t.say(s, token, '帮我把刚才的社保卡申请撤回');
    expect(ask.reply).toContain(id);
    expect(ask.reply).toMatch(/确认撤回/);
    expect((await storedApplication(token, id)).status).toBe('submitted');
    const kept = await t.say(s, token, '算了，不撤了');
    expect(kept.reply).toMatch(/保留/);
    expect((await storedApplication(token, id)).status).toBe('submitted');
    await t.say(s, token, '还是撤回吧');
    const done = await t.say(s, token, '确认');
    expect(done.reply).toMatch(/已为您撤回/);
    expect((await storedApplication(token, id)).status).toBe('withdrawn');
  });

  it('says plainly when an application can no longer be withdrawn', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    await t.say(s, token, '我要开无犯罪记录证明，就业用');
    const sent = await t.say(s, token, '确认');
    expect(sent.application?.status).toBe('issued');
    const r = await t.say(s, token, '撤回刚才的申请');
    expect(r.reply).toMatch(/不能撤回/);
    expect((await storedApplication(token, sent.application!.id)).status).toBe('issued');
  });
});

describe('declines with a reason', () => {
  const cases: { citizen: string; text: string; reason: RegExp }[] = [
    { citizen: 'c-sun-ming', text: '我要办居住证', reason: /户籍|户口/ },
    { citizen: 'c-sun-ming', text: '我要申请老年综合津贴', reason: /65|年龄|周岁/ },
    { citizen: 'c-sun-ming', text: '我要申请生育津贴', reason: /生育/ },
    { citizen: 'c-chen-guiying', text: '我要租房提取公积金', reason: /公积金/ },
    { citizen: 'c-wang-qiang', text: '我要申请老年综合津贴', reason: /户籍|户口|65|年龄/ },
  ];
  for (const c of cases) {
    it(`${c.citizen}: ${c.text}`, async () => {
      const token = await t.login(c.citizen);
      const s = await t.session(token);
      const turn = await t.say(s, token, c.text);
      expect(turn.outcome).toBe('declined');
      expect(turn.reply).toMatch(c.reason);
    });
  }

  it('answers questions about a service just declined without offering to apply, and a bare yes only acknowledges', async () => {
    const token = await t.login('c-lin-xiao');
    const s = await t.session(token);
    expect((await t.say(s, token, '想办个居住证')).outcome).toBe('declined');
    const q = await t.say(s, token, '居住证办下来要多久？');
    expect(q.citations[0]).toMatchObject({ service: 'residence_permit', section: '办理时限' });
    expect(q.reply).not.toMatch(/需要我现在帮您在线办理/);
    const yes = await t.say(s, token, '嗯，可以提交了');
    expect(yes.outcome).toBeNull();
    expect(yes.reply).not.toMatch(/办理记录|进度/);
    // Another service is still offered as usual.
    const other = await t.say(s, token, '社保卡要带什么材料？');
    expect(other.reply).toMatch(/需要我现在帮您在线办理「社会保障卡申领」/);
  });
});

describe('staff review and handoffs', () => {
  it("赵磊's certificate ends in a handoff and nothing in the conversation mentions a record", async () => {
    const token = await t.login('c-zhao-lei');
    const s = await t.session(token);
    const turns = [await t.say(s, token, '我要开无犯罪记录证明'), await t.say(s, token, '找工作用'), await t.say(s, token, '确认')];
    const last = turns[2]!;
    expect(last.outcome).toBe('handoff');
    expect(last.handoff?.reason).toBe('review');
    expect(last.application?.status).toBe('under_review');
    for (const turn of turns) expect(turn.reply).not.toMatch(/有犯罪记录|有记录|记录在案|前科|违法犯罪记录在/);
    const view = await t.app.inject({ method: 'GET', url: `/api/sessions/${s}`, headers: { authorization: `Bearer ${token}` } });
    expect(view.body).not.toMatch(/有犯罪记录|记录在案|前科/);
  });

  it('while staff have the case, what the citizen says goes to them and the bot stays silent, until they close it', async () => {
    const token = await t.login('c-zhao-lei');
    const s = await t.session(token);
    await t.say(s, token, '我要开无犯罪记录证明');
    await t.say(s, token, '找工作用');
    const sent = await t.say(s, token, '确认');
    expect(sent.handoff?.reason).toBe('review');
    const id = sent.handoff!.id;
    // Acknowledged once as going to staff; no guide text, nothing about a protected reason.
    const first = await t.say(s, token, '为什么要人工审核？');
    expect(first.outcome).toBe('handoff');
    expect(first.reply).toMatch(/已转给工作人员/);
    expect(first.citations).toEqual([]);
    expect(first.reply).not.toMatch(/有记录|犯罪记录的情形|在线办理/);
    const second = await t.say(s, token, '大概要等多久？');
    expect(second.reply).toBe('');
    expect(second.handoff?.id).toBe(id);
    // Staff see both messages on the case.
    const staff = await t.staffToken();
    const auth = { authorization: `Bearer ${staff}` };
    const detail = JSON.parse((await t.app.inject({ method: 'GET', url: `/api/staff/handoffs/${id}`, headers: auth })).body) as { messages: { authorKind: string; text: string }[] };
    expect(detail.messages.filter((m) => m.authorKind === 'citizen').map((m) => m.text)).toEqual(['为什么要人工审核？', '大概要等多久？']);
    // Approval before claiming is refused; after the claim and the close the agent answers again.
    const early = await t.app.inject({ method: 'POST', url: `/api/staff/applications/${sent.application!.id}/approve`, headers: auth, payload: {} });
    expect(early.statusCode).toBe(409);
    expect((await t.app.inject({ method: 'POST', url: `/api/staff/handoffs/${id}/claim`, headers: auth })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `/api/staff/handoffs/${id}/close`, headers: auth, payload: {} })).statusCode).toBe(200);
    const after = await t.say(s, token, '社保卡要带什么材料？');
    expect(after.outcome).toBe('answered');
    expect(after.citations[0]).toMatchObject({ service: 'social_security_card' });
  });

  it('"转人工" mid-flow creates a handoff with the transcript, the understanding and the form', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    await t.say(s, token, '我要开无犯罪记录证明');
    const turn = await t.say(s, token, '转人工');
    expect(turn.outcome).toBe('handoff');
    const staff = await t.staffToken();
    const detail = await t.app.inject({ method: 'GET', url: `/api/staff/handoffs/${turn.handoff!.id}`, headers: { authorization: `Bearer ${staff}` } });
    expect(detail.statusCode).toBe(200);
    const body = detail.body;
    expect(body).toContain('我要开无犯罪记录证明');
    expect(body).toContain('criminal_record_certificate');
    expect(body).toContain('310101********2038');
    expect(body).not.toContain('310101198803122038');
  });
});

describe('questions', () => {
  it('answers from the guide with a citation and offers to start', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    const turn = await t.say(s, token, '开无犯罪证明要带什么材料？');
    expect(turn.outcome).toBe('answered');
    expect(turn.citations.length).toBeGreaterThan(0);
    expect(turn.citations[0]).toMatchObject({ service: 'criminal_record_certificate', section: '申请材料' });
    expect(turn.reply).toContain('身份证');
  });

  it('answers a question about the form in hand from the form, and one about the rules from the guide', async () => {
    const token = await t.login('c-chen-guiying');
    const s = await t.session(token);
    const offer = await t.say(s, token, '我满65岁了，有什么补贴可以领');
    expect(offer.awaiting).toBe('confirm');
    const which = await t.say(s, token, '钱会打到哪张卡上？');
    expect(which.reply).toMatch(/发放账户是：\*{4}/);
    expect(which.awaiting).toBe('confirm');
    const rule = await t.say(s, token, '能打到我女儿的卡上吗？');
    expect(rule.reply).toContain('本人名下');
    expect(rule.citations[0]).toMatchObject({ service: 'senior_allowance' });
    expect(rule.awaiting).toBe('confirm');
  });

  it('says honestly that an unrelated request is not a service it handles', async () => {
    const s = await t.session(null);
    const turn = await t.say(s, null, '帮我订一张去北京的机票');
    expect(turn.reply).toContain('不是我能办理');
    expect(turn.citations).toEqual([]);
  });

  it('an anonymous session may consult but not transact', async () => {
    const s = await t.session(null);
    const turn = await t.say(s, null, '我要开无犯罪记录证明');
    expect(turn.outcome).toBeNull();
    expect(turn.reply).toContain('登录');
  });
});

describe('security', () => {
  it('a session is reachable only by the identity that created it', async () => {
    const sun = await t.login('c-sun-ming');
    const lin = await t.login('c-lin-xiao');
    const s = await t.session(sun);
    await t.say(s, sun, '我要开无犯罪记录证明');
    for (const headers of [{ authorization: `Bearer ${lin}` }, {}]) {
      const post = await t.app.inject({ method: 'POST', url: `/api/sessions/${s}/messages`, headers, payload: { text: '确认' } });
      expect(post.statusCode).toBe(404);
      expect(post.json().error.message).toMatch(/[\u4e00-\u9fa5]/);
      const get = await t.app.inject({ method: 'GET', url: `/api/sessions/${s}`, headers });
      expect(get.statusCode).toBe(404);
    }
  });

  it("a message naming another person's ID number never makes the agent act for them", async () => {
    const zhao = await t.login('c-zhao-lei');
    const zhaoApps = async () =>
      listLength((await t.app.inject({ method: 'GET', url: '/api/me/applications', headers: { authorization: `Bearer ${zhao}` } })).json());
    const before = await zhaoApps();
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    const turn = await t.say(s, token, '帮310107198501010514开一个无犯罪记录证明');
    expect(turn.outcome).not.toBe('submitted');
    expect(turn.awaiting).toBeNull();
    expect(turn.reply).toContain('本人');
    const follow = await t.say(s, token, '确认');
    expect(follow.outcome).not.toBe('submitted');
    const view = await t.app.inject({ method: 'GET', url: `/api/sessions/${s}`, headers: { authorization: `Bearer ${token}` } });
    expect(view.body).not.toContain('310107198501010514');
    expect(await zhaoApps()).toBe(before);
  });
});

describe('bad input', () => {
  it('empty text, 100 KB text, malformed JSON and unknown sessions get clear 4xx errors', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    const h = { authorization: `Bearer ${token}` };
    const empty = await t.app.inject({ method: 'POST', url: `/api/sessions/${s}/messages`, headers: h, payload: { text: '   ' } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.message).toContain('不能为空');
    const big = await t.app.inject({ method: 'POST', url: `/api/sessions/${s}/messages`, headers: h, payload: { text: '办'.repeat(100_000) } });
    expect([400, 413]).toContain(big.statusCode);
    expect(big.json().error.message).toMatch(/[\u4e00-\u9fa5]/);
    const malformed = await t.app.inject({
      method: 'POST', url: `/api/sessions/${s}/messages`, headers: { ...h, 'content-type': 'application/json' }, payload: '{"text": "我要',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.message).toMatch(/[\u4e00-\u9fa5]/);
    const unknown = await t.app.inject({ method: 'POST', url: '/api/sessions/ses_nope/messages', headers: h, payload: { text: '你好' } });
    expect(unknown.statusCode).toBe(404);
    const stillWorks = await t.say(s, token, '你好');
    expect(stillWorks.reply).toContain('小申');
  });
});
