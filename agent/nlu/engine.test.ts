import { beforeAll, describe, expect, it } from 'vitest';
import { createLocalEngine, type LocalNluEngine } from './engine.js';

let engine: LocalNluEngine;
beforeAll(() => {
  engine = createLocalEngine();
});

const CRC = 'criminal_record_certificate';

describe('local NLU engine: services and acts', () => {
  it('understands the seed request', async () => {
    const r = await engine.understand('我要开无犯罪记录证明');
    expect(r).toMatchObject({ act: 'apply', service: CRC, needsClarification: false });
    expect(r.confidence).toBeGreaterThan(0.8);
  });

  it('understands traditional Chinese and full-width input', async () => {
    expect(await engine.understand('我要開無犯罪記錄證明')).toMatchObject({ act: 'apply', service: CRC });
    expect(await engine.understand('我想辦張社會保障卡！')).toMatchObject({ act: 'apply', service: 'social_security_card' });
    expect((await engine.understand('ＳＯＣＩＡＬ ＳＥＣＵＲＩＴＹ ＣＡＲＤ')).service).toBe('social_security_card');
  });

  it('survives ASR homophones', async () => {
    expect(await engine.understand('我要开无犯罪记录正明')).toMatchObject({ act: 'apply', service: CRC });
    expect(await engine.understand('社保咔身领')).toMatchObject({ service: 'social_security_card' });
  });

  it('extracts slots stated up front', async () => {
    const r = await engine.understand('帮我开个无犯罪记录证明，去英国留学用');
    expect(r).toMatchObject({ act: 'apply', service: CRC, slots: { purpose: '出国(境)', destination: '英国' } });
  });

  it('tells consult and progress from apply', async () => {
    expect(await engine.understand('居住证办下来要多久')).toMatchObject({ act: 'consult', service: 'residence_permit' });
    expect(await engine.understand('开无犯罪证明要带什么材料')).toMatchObject({ act: 'consult', service: CRC });
    expect(await engine.understand('我的居住证办到哪一步了')).toMatchObject({ act: 'progress', service: 'residence_permit' });
    expect(await engine.understand('申请的进度')).toMatchObject({ act: 'progress', service: null });
  });

  it('works in English and mixed Chinese-English', async () => {
    expect(await engine.understand('I want to apply for a social security card')).toMatchObject({
      act: 'apply',
      service: 'social_security_card',
    });
    expect(await engine.understand('帮我办个police certificate')).toMatchObject({ act: 'apply', service: CRC });
    expect(await engine.understand('how long does a passport take')).toMatchObject({ act: 'consult', service: 'passport' });
  });

  it('hands off to a person, with or without a service', async () => {
    expect(await engine.understand('转人工')).toMatchObject({ act: 'handoff', service: null });
    expect(await engine.understand('talk to a human please')).toMatchObject({ act: 'handoff', service: null });
    expect(await engine.understand('社保卡的事我要找人工')).toMatchObject({ act: 'handoff', service: 'social_security_card' });
  });

  it('recognises greetings, cancellations and out-of-scope chatter with no service', async () => {
    expect(await engine.understand('你好')).toMatchObject({ act: 'greeting', service: null });
    expect(await engine.understand('算了，不办了')).toMatchObject({ act: 'cancel', service: null });
    expect(await engine.understand('今天天气怎么样')).toMatchObject({ act: 'out_of_scope', service: null });
    expect(await engine.understand('帮我订一张去伦敦的机票')).toMatchObject({ act: 'out_of_scope', service: null, slots: {} });
    expect(await engine.understand('讲个笑话吧')).toMatchObject({ act: 'out_of_scope', service: null });
  });

  it('keeps chatter that only mentions a service word out of scope', async () => {
    expect(await engine.understand('驾照的英文怎么写')).toMatchObject({ act: 'out_of_scope', service: null });
  });

  it('masks only the service\'s own names for slots: another service\'s name is ordinary wording', async () => {
    // 营业执照 names business_startup, and here says how the citizen works (basis 合法稳定就业).
    const r = await engine.understand('营业执照是我自己的，办居住证');
    expect(r).toMatchObject({ act: 'apply', service: 'residence_permit', slots: { basis: '合法稳定就业' } });
  });

  it('tells a progress question from a request when the wording ends on "still not"', async () => {
    expect(await engine.understand('申请了两周了居住证还没下来')).toMatchObject({ act: 'progress', service: 'residence_permit' });
    expect(await engine.understand('覅办了')).toMatchObject({ act: 'cancel', service: null });
  });

  it('asks for clarification on a vague request instead of guessing', async () => {
    const r = await engine.understand('我想办个证');
    expect(r.needsClarification).toBe(true);
    expect(r.service).toBeNull();
    expect(r.candidates.length).toBeGreaterThan(0);
    const clear = await engine.understand('我要办社保卡');
    expect(clear.confidence).toBeGreaterThan(r.confidence);
  });

  it('returns ranked candidates and the normalised text', async () => {
    const r = await engine.understand('居住證積分怎麼算？');
    expect(r.service).toBe('residence_points');
    expect(r.candidates[0]?.service).toBe('residence_points');
    expect(r.normalized).toBe('居住证积分怎么算?');
  });
});

describe('local NLU engine: dialogue acts (what a message contains, not what it means)', () => {
  const acts = async (text: string, service?: string) =>
    (await engine.understand(text, { service })).acts.map((a) => {
      const { text: _t, named: _n, ...rest } = a as Record<string, unknown>;
      return rest;
    });

  it('reads answers as informs for the service in question, several at once', async () => {
    expect(await acts('出国留学用，去英国', CRC)).toEqual(expect.arrayContaining([
      { type: 'inform', field: 'purpose', value: '出国(境)' }, { type: 'inform', field: 'destination', value: '英国' },
    ]));
    expect(await acts('我自己去网点拿', 'social_security_card')).toContainEqual({ type: 'inform', field: 'delivery_method', value: '网点自取' });
    expect(await acts('合同没去备案', 'housing_fund_rent_withdrawal')).toContainEqual({ type: 'inform', field: 'rent_type', value: '未备案（按标准额度提取）' });
    expect(await acts('不是出国，是就业', CRC)).toContainEqual({ type: 'inform', field: 'purpose', value: '就业' });
  });

  it('never reads an option word inside a question as an answer', async () => {
    const r = await engine.understand('合法稳定居所算不算？', { service: 'residence_permit' });
    expect(r.signals.interrogative).toBe(true);
    expect(r.acts.some((a) => a.type === 'inform')).toBe(false);
    expect(r.acts).toContainEqual(expect.objectContaining({ type: 'ask', topics: ['申请条件'] }));
  });

  it('tells a plain assent from an assent with a but, a delay, a joke or a question', async () => {
    for (const yes of ['确认', '好的，没问题', 'yes', '对额，确认', '好伐', '嗯嗯', '确认提交', 'OK']) {
      expect((await engine.understand(yes, { service: CRC })).signals.plainAssent, yes).toBe(true);
    }
    for (const not of ['对，用途是出国，但先别提交', '是的，我还在犹豫', '提交按钮先别按', '确认😂开玩笑的', 'ok but do not submit yet', '确认吗？', '好的等一下']) {
      expect((await engine.understand(not, { service: CRC })).signals.plainAssent, not).toBe(false);
    }
    expect(await acts('是的，我还在犹豫', CRC)).toEqual(expect.arrayContaining([{ type: 'confirm' }, { type: 'delay' }]));
    expect(await acts('确认😂开玩笑的', CRC)).toContainEqual({ type: 'joke' });
  });

  it('reads changes: a field, a new value, an account number by reference', async () => {
    expect(await acts('不对，用途改成就业', CRC)).toEqual(expect.arrayContaining([{ type: 'deny' }, { type: 'edit', field: 'purpose', value: '就业' }]));
    expect(await acts('邮寄地址改成上海市徐汇区宜山路700号', 'social_security_card')).toContainEqual({ type: 'edit', field: 'mailing_address', value: '上海市徐汇区宜山路700号' });
    expect(await acts('银行卡不对，换成这张：ACCOUNTREF1', 'maternity_allowance')).toContainEqual({ type: 'edit', field: 'bank_account', value: 'accountref1' });
    expect(await acts('邮寄到家', 'social_security_card')).not.toContainEqual(expect.objectContaining({ type: 'edit' }));
  });

  it('reads two requests in one message, picks, references and withdrawals', async () => {
    expect(await acts('办社保卡，顺便问下公积金怎么提取')).toEqual([
      { type: 'request', service: 'social_security_card' },
      expect.objectContaining({ type: 'ask', service: 'housing_fund_rent_withdrawal' }),
    ]);
    expect(await acts('第二个')).toEqual([{ type: 'choose', ordinal: 2 }]);
    expect(await acts('最后那个')).toContainEqual({ type: 'choose', ordinal: -1 });
    expect(await acts('帮我申请')).toEqual([{ type: 'request', service: null }]);
    expect(await acts('撤回刚才的申请')).toContainEqual(expect.objectContaining({ type: 'withdraw' }));
  });

  it('lets the citizen leave: handoff and cancel; "不知道" is neither', async () => {
    expect(await acts('转人工', CRC)).toContainEqual(expect.objectContaining({ type: 'handoff' }));
    expect(await acts('算了不办了', CRC)).toContainEqual({ type: 'cancel' });
    expect(await acts('不知道', CRC)).toEqual([]);
  });

  it('asks each question of a message, with the kind of answer wanted', async () => {
    expect(await acts('要多久？要带什么材料？', 'residence_permit')).toEqual([
      expect.objectContaining({ type: 'ask', topics: ['办理时限'] }), expect.objectContaining({ type: 'ask', topics: ['申请材料'] }),
    ]);
    expect(await acts('居住证申请要交哪些东西')).toEqual([expect.objectContaining({ type: 'ask', service: 'residence_permit', topics: ['申请材料'] })]);
  });

  it('reads situations and questions about what the agent can do', async () => {
    expect(await acts('我生了宝宝，能领什么钱吗')).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'situation', situation: 'had_baby' }), expect.objectContaining({ type: 'ask', about: 'offers' }),
    ]));
    expect(await acts('你能办什么')).toEqual([expect.objectContaining({ type: 'ask', about: 'capabilities' })]);
  });

  it('tells a service the message names from the classifier\'s guess', async () => {
    const named = (await engine.understand('我要办社保卡')).acts.find((a) => a.type === 'request');
    expect(named).toMatchObject({ service: 'social_security_card', named: true });
    // In a conversation about a service, a guess at another one is dropped: "公司HR要" is an answer.
    expect(await acts('公司HR要', CRC)).toEqual([{ type: 'inform', field: 'purpose', value: '就业' }]);
  });

  it('reads a statement naming a service and a value as a request, whatever section words it has', async () => {
    expect(await acts('社保卡寄到家')).toEqual([
      { type: 'request', service: 'social_security_card' }, { type: 'inform', field: 'delivery_method', value: '邮寄到家' },
    ]);
    expect(await acts('办张社保卡，别寄了我自己去取')).toContainEqual({ type: 'inform', field: 'delivery_method', value: '网点自取' });
    expect(await acts('公积金交租金，办一下')).toEqual([{ type: 'request', service: 'housing_fund_rent_withdrawal' }]);
  });

  it('reads a new address with or without a verb, and a value of an option field as its option', async () => {
    expect(await acts('地址不对，寄到徐汇区肇嘉浜路1065号', 'social_security_card')).toContainEqual({ type: 'edit', field: 'mailing_address', value: '徐汇区肇嘉浜路1065号' });
    expect(await acts('寄到我爸妈家，浦东新区锦绣路2580弄8号', 'social_security_card')).toContainEqual({ type: 'edit', field: 'mailing_address', value: '浦东新区锦绣路2580弄8号' });
    expect(await acts('确认，但租房类型改成未备案', 'housing_fund_rent_withdrawal')).toContainEqual({ type: 'edit', field: 'rent_type', value: '未备案（按标准额度提取）' });
  });

  it('never reads a question about leaving as leaving, nor a refusal to submit as a cancel', async () => {
    const kinds = async (t: string) => (await acts(t, CRC)).map((a) => a.type);
    // A question about withdrawing is marked asked: never a withdrawal by itself.
    expect((await acts('提交了能撤回吗？', CRC)).filter((a) => a.type === 'withdraw')).toEqual([expect.objectContaining({ asked: true })]);
    expect(await kinds('submit之后能cancel吗？')).not.toContain('cancel');
    expect(await kinds('弗要提交，我再看看')).toEqual(expect.arrayContaining(['delay']));
    expect(await kinds('弗要提交，我再看看')).not.toContain('cancel');
  });

  it('reads "this" in a question as the service in question, and a purpose described in the citizen\'s words', async () => {
    expect(await acts('我已经领退休金了，还能领这个吗？', 'senior_allowance')).toContainEqual(expect.objectContaining({ type: 'ask', service: null }));
    expect(await acts('租房子房东要看', CRC)).toContainEqual({ type: 'inform', field: 'purpose', value: '其他', weak: true, described: true });
  });

  it('reads a plain question as a question, never as an application', async () => {
    const types = async (text: string) => (await acts(text)).map((a) => a.type);
    // A request cue inside a longer phrase that asks nothing done ("办下来", "能一起办吗", "do I need a").
    for (const q of ['社保卡办下来大概要几天', '居住证和社保卡能一起办吗', 'do I need a photo for the police clearance certificate?']) {
      expect(await types(q), q).not.toContain('request');
      expect(await types(q), q).toContain('ask');
    }
    // A question with no word of any section ("会不会…", "X不X") is still a question.
    expect(await types('申请公租房会不会查我的征信')).toEqual(['ask']);
    expect((await engine.understand('电子版的证明单位收不收')).signals.interrogative).toBe(true);
    // A section named outright, in Chinese or English, without question form.
    expect(await acts('社保卡申领的法律依据')).toContainEqual(expect.objectContaining({ type: 'ask', topics: expect.arrayContaining(['设定依据']) }));
    expect(await acts('residence permit legal basis')).toContainEqual(expect.objectContaining({ type: 'ask', service: 'residence_permit' }));
    // How progress is checked in general asks the guide; one's own progress is progress.
    expect(await types('居住证的审核进度在哪里查')).toEqual(['ask']);
    expect(await types('我的居住证申请进度怎么查')).toEqual(['progress']);
    // Asking whether a withdrawal is possible is marked as asked (it shows the card, never withdraws by itself).
    expect(await acts('刚才那个能撤回吗？')).toContainEqual(expect.objectContaining({ type: 'withdraw', asked: true }));
    expect(await acts('撤回刚才的申请')).toContainEqual({ type: 'withdraw', service: null });
    // Asked for in so many words, it is still a request.
    expect(await types('能帮我办社保卡吗')).toContain('request');
    expect(await types('could you file my maternity allowance claim?')).toContain('request');
  });

  it('follows a switch to another named service', async () => {
    expect(await acts('我还想办个社保卡', CRC)).toContainEqual({ type: 'request', service: 'social_security_card' });
  });
});
