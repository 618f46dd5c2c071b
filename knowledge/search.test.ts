import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cueSpans, fuse, loadSectionCues, matchQuestionKinds, matchSectionCues, namedSection, RRF_K, type VectorRow } from './search.js';

const cues = loadSectionCues();
const kinds = (q: string) => matchQuestionKinds(q, cues).map((k) => k.kind.name);

describe('section cues (section-cues.yaml)', () => {
  it('never takes a service name for a cue word, and knows a section named outright', () => {
    const named = loadSectionCues(undefined, undefined, ['医保费用零星报销', '结婚登记预约']);
    expect(matchQuestionKinds('医保费用零星报销要满足哪些条件', named).map((k) => k.kind.name)).toEqual(['申请条件']);
    expect(matchQuestionKinds('结婚登记预约对年龄有要求吗', named)[0]?.kind.name).toBe('申请条件');
    expect(namedSection('居住证办理的法律依据', cues)).toBe('设定依据');
    expect(namedSection('residence permit eligibility', cues)).toBe('申请条件');
    expect(namedSection('processing time of the passport', cues)).toBe('办理时限');
    // Latin headings only as whole words; a plain request names none.
    expect(namedSection('coffees and feeds', cues)).toBeNull();
    expect(namedSection('我要办居住证', cues)).toBeNull();
  });

  it('reads a question for what it asks, the longest cue word first', () => {
    expect(kinds('护照换发需要什么条件')[0]).toBe('申请条件');
    expect(kinds('居住证申请要交哪些东西')[0]).toBe('申请材料');
    expect(kinds('开公司要交什么费用')[0]).toBe('收费标准');
    expect(kinds('退休手续去哪里办')[0]).toBe('办理渠道');
    expect(kinds('办护照的依据是什么')[0]).toBe('设定依据');
  });

  it('takes a section named outright as what is asked', () => {
    expect(kinds('上海市居住证办理的办理时限')[0]).toBe('办理时限');
    expect(kinds('不动产登记收费标准是哪个文件规定的')[0]).toBe('收费标准');
  });

  it('does not count a cue word inside a longer one', () => {
    // "多久" inside "多久就不能用" asks about validity, not processing time.
    expect(kinds('良民证开出来放多久就不能用了')).toEqual(['有效期']);
    expect(kinds('良民证开出来要多久')).toEqual(['办理时限']);
  });

  it('tells amounts paid out from fees', () => {
    expect(kinds('租房提取公积金一次能提多少')[0]).toBe('待遇金额');
    expect(kinds('65岁的老年津贴每月多少钱')[0]).toBe('待遇金额');
    expect(kinds('办护照要多少钱')[0]).toBe('收费标准');
  });

  it('puts what is asked before the situation it is asked in, and generic asking last', () => {
    expect(kinds('身份证丢了补一张多少钱')).toEqual(['收费标准', '补领']);
    expect(kinds('社保卡掉了怎么办')).toEqual(['补领', '怎么办']);
    expect(kinds('驾照到期了去哪里换证')[0]).toBe('办理渠道');
  });

  it('matches cue patterns with a gap, after plain cue words', () => {
    // A yes/no question: its own weak kind, which looks in 申请条件 once no FAQ entry asks the same.
    const m = matchQuestionKinds('租房子能把公积金取出来吗', cues);
    expect(m[0]).toMatchObject({ kind: { name: '能否', weak: true, sections: ['申请条件'] }, loose: true });
    // The gap of a pattern is no cue word: only its literal parts are spans.
    const q = '能把公积金取出来吗';
    expect(cueSpans(q, cues)).toEqual([
      [0, 1],
      [8, 9],
    ]);
  });

  it("gives the agent a type's sections in its stead", () => {
    expect(matchSectionCues('居住证能用几年', cues)[0]).toBe('常见问题');
    expect(matchSectionCues('居住证能用几年', cues)).toContain('办理时限');
    expect(matchSectionCues('要带什么材料', cues)).toEqual(['申请材料']);
    expect(matchSectionCues('帮我订一张去北京的机票', cues)).toEqual([]);
    // Generic asking names no section for the agent ("怎么" of a recipe question).
    expect(matchSectionCues('红烧肉怎么做', cues)).toEqual([]);
    expect(kinds('红烧肉怎么做')).toEqual(['怎么办']);
  });

  it('rejects unknown sections and bad evidence patterns, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cues-'));
    const bad = (body: string) => {
      const f = join(dir, `${Math.random()}.yaml`);
      writeFileSync(f, body);
      return () => loadSectionCues(f);
    };
    expect(bad('sections:\n  其他: [x]\n')).toThrow(/unknown section '其他'/);
    expect(bad('sections: {}\ntypes:\n  t:\n    words: [a]\n    sections: [其他]\n')).toThrow(/type 't': unknown section/);
    expect(bad('sections: {}\ntypes:\n  t:\n    words: [a]\n    sections: [常见问题]\n    evidence: ["("]\n')).toThrow(/bad evidence pattern/);
  });
});

describe('fusion', () => {
  const row = (id: string, service: string, section: VectorRow['section']): VectorRow => ({ id, service, section, distance: 0.5 });

  it('boosts the asked section relative to its own service, never lifting an unrelated one', () => {
    // The question is about "a"; "b" only has a weak chunk of the section asked for.
    const vector = [row('a#常见问题#0', 'a', '常见问题'), row('a#申请材料#0', 'a', '申请材料'), ...Array.from({ length: 20 }, (_, i) => row(`x${i}`, 'x', '服务简介')), row('b#申请材料#0', 'b', '申请材料')];
    const keyword = { rows: vector.slice(0, 2).map((r) => ({ id: r.id, service: r.service, section: r.section, score: 1, matchedIdf: 1 })), totalIdf: 1 };
    const fused = fuse({ vector, keyword, cueSections: ['申请材料'], cueBoost: 0.5 });
    const at = (id: string) => fused.findIndex((f) => f.id === id);
    expect(at('a#申请材料#0')).toBe(0);
    expect(at('b#申请材料#0')).toBeGreaterThan(at('a#常见问题#0'));
    const b = fused.find((f) => f.id === 'b#申请材料#0')!;
    expect(b.score).toBeCloseTo(b.base * 1.5);
    expect(fused[0]!.base).toBeCloseTo(1 / (RRF_K + 2) * 2);
  });

  it('adds the topic list (the question without its cue words) with its weight', () => {
    const fused = fuse({ vector: [], keyword: { rows: [], totalIdf: 0 }, topic: [row('a', 'a', '服务简介')], topicWeight: 0.5, cueSections: [], cueBoost: 0 });
    expect(fused[0]!.base).toBeCloseTo(0.5 / (RRF_K + 1));
  });
});
