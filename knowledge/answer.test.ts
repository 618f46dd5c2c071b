import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { answerQuestion, nameMention, trim } from './answer.js';
import { GUIDES_DIR } from './guides.js';
import { useBundledKnowledgeBase } from './testing.js';
import { readRetrievalItems } from './retrieval-eval.js';

const dev = readRetrievalItems(new URL('./dev-questions.jsonl', import.meta.url).pathname);
const negatives = readFileSync(new URL('./dev-negatives.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as { id: string; question: string });

describe('answerQuestion', () => {
  const bundled = useBundledKnowledgeBase();

  it('answers the seed question with the materials and a citation', async () => {
    const a = await answerQuestion(bundled.kb, '开无犯罪证明要带什么材料');
    expect(a.found).toBe(true);
    expect(a.serviceId).toBe('criminal_record_certificate');
    expect(a.section).toBe('申请材料');
    expect(a.transactable).toBe(true);
    expect(a.answer.startsWith('关于有无犯罪记录证明的申请材料：\n')).toBe(true);
    expect(a.citations[0]).toMatchObject({ service: 'criminal_record_certificate', section: '申请材料', title: '申请材料' });
    // The body is the guide's own text.
    const guide = readFileSync(join(GUIDES_DIR, 'criminal_record_certificate', 'guide.md'), 'utf8');
    const materials = guide.split(/^## /m).find((s) => s.startsWith('申请材料'))!;
    const firstItem = materials.split('\n').find((l) => l.startsWith('- '))!;
    expect(a.answer).toContain(firstItem);
  });

  it('answers the same in traditional characters', async () => {
    const a = await answerQuestion(bundled.kb, '開無犯罪證明要帶什麼材料');
    expect(a).toMatchObject({ found: true, serviceId: 'criminal_record_certificate', section: '申请材料' });
  });

  it('says not found for a flight booking', async () => {
    const a = await answerQuestion(bundled.kb, '帮我订一张去北京的机票');
    expect(a.found).toBe(false);
    expect(a.answer).toBe('');
    expect(a.citations).toEqual([]);
  });

  it('says not found for every out-of-scope dev question', async () => {
    const found: string[] = [];
    for (const n of negatives) {
      const a = await answerQuestion(bundled.kb, n.question);
      if (a.found) found.push(`${n.question} -> ${a.serviceId}`);
    }
    expect(found).toEqual([]);
  });

  it('answers in-scope dev questions from the right service', async () => {
    let found = 0;
    let right = 0;
    for (const item of dev) {
      const a = await answerQuestion(bundled.kb, item.question);
      if (a.found) found++;
      if (a.found && a.serviceId === item.service) right++;
    }
    console.log(`answers: found ${found}/${dev.length}, right service ${right}/${dev.length}`);
    expect(found / dev.length).toBeGreaterThanOrEqual(0.9);
    expect(right / dev.length).toBeGreaterThanOrEqual(0.9);
  });

  it('composes answers only from guide text', async () => {
    const corpus = (await bundled.kb.pool.query<{ text: string }>('SELECT text FROM kb_chunks')).rows.map((r) => r.text).join('\n');
    for (const item of dev.slice(0, 30)) {
      const a = await answerQuestion(bundled.kb, item.question);
      if (!a.found) continue;
      const body = a.answer.split('\n').slice(1);
      for (const line of body) {
        const l = line.replace(/……$/, '').trim();
        if (!l) continue;
        expect(corpus, `${item.question}: ${l}`).toContain(l);
      }
    }
  });

  it('follows the section a question asks about within a known service', async () => {
    const cases: [string, string, string][] = [
      ['要多久', 'passport', '办理时限'],
      ['要带什么', 'residence_permit', '申请材料'],
      ['收费吗', 'marriage_registration', '收费标准'],
      ['在哪里办', 'social_security_card', '办理渠道'],
      ['我能不能办', 'public_rental_housing', '申请条件'],
    ];
    for (const [q, serviceId, section] of cases) {
      const a = await answerQuestion(bundled.kb, q, { serviceId });
      expect(a.found, `${q} @ ${serviceId}`).toBe(true);
      expect(a.section, `${q} @ ${serviceId}`).toBe(section);
      expect(a.serviceId).toBe(serviceId);
    }
    expect((await answerQuestion(bundled.kb, '帮我订一张去北京的机票', { serviceId: 'passport' })).found).toBe(false);
  });

  it('answers an FAQ with its answer and cites the question', async () => {
    const a = await answerQuestion(bundled.kb, '以前有过犯罪记录还能开无犯罪证明吗');
    expect(a.found).toBe(true);
    expect(a.serviceId).toBe('criminal_record_certificate');
    if (a.section === '常见问题') {
      expect(a.citations[0]!.title).toMatch(/犯罪记录/);
      expect(a.answer).not.toMatch(/\n答：/);
    }
  });
});

describe('helpers', () => {
  it('trims at a line boundary', () => {
    const t = trim(['第一行内容。', '第二行内容。', '第三行内容很长很长很长。'].join('\n'), 16);
    expect(t).toBe('第一行内容。\n第二行内容。\n……');
    expect(trim('短。', 10)).toBe('短。');
  });

  it('recognises a service named by alias or a distinctive part of its name', () => {
    const curated = new Map([
      ['criminal_record_certificate', ['有无犯罪记录证明', '无犯罪证明', '良民证']],
      ['residence_permit', ['上海市居住证办理', '居住证']],
      ['residence_points', ['居住证积分申请', '积分']],
      ['retirement', ['退休申请', '办退休']],
      ['minimum_living_allowance', ['最低生活保障申请', '低保']],
    ]);
    const all = new Map([...curated].map(([k, v]) => [k, [...v, ...(k === 'retirement' ? ['退休手续怎么办理'] : [])]]));
    const names = { curated, all };
    expect(nameMention('良民证在哪开', 'criminal_record_certificate', names)).toBe(3);
    expect(nameMention('开个犯罪记录证明', 'criminal_record_certificate', names)).toBeGreaterThanOrEqual(4);
    expect(nameMention('帮我订机票', 'criminal_record_certificate', names)).toBe(0);
    // 申请 is part of several names: generic, not a mention.
    expect(nameMention('我想申请', 'retirement', names)).toBe(0);
    expect(nameMention('退休手续怎么办理呀', 'retirement', names)).toBe(8);
  });
});
