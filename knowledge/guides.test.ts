import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue as projectCatalogue } from './catalogue.js';
import { chunkGuide, MAX_CHUNK_CHARS, splitText } from './chunk.js';
import { GUIDES_DIR, GuideError, loadGuides, parseGuide, SECTIONS } from './guides.js';

const catalogue = projectCatalogue().services;

describe('bundled guides', () => {
  const loaded = loadGuides(GUIDES_DIR, catalogue);

  it.each(catalogue.map((s) => s.id))('%s has a guide with every section', (id) => {
    const file = join(GUIDES_DIR, id, 'guide.md');
    expect(existsSync(file), `${file} is missing`).toBe(true);
    const problems = loaded.issues.filter((i) => i.file === file).map((i) => `${i.severity}: ${i.problem}`);
    expect(problems, `${file}`).toEqual([]);
    const g = loaded.guides.find((x) => x.id === id);
    expect(g, `${file} did not load`).toBeDefined();
    expect(g!.sections.map((s) => s.name)).toEqual([...SECTIONS]);
    for (const s of g!.sections) expect(s.content.length, `${id}: ## ${s.name} is empty`).toBeGreaterThan(0);
    expect(g!.faq.length, `${id}: FAQ pairs`).toBeGreaterThanOrEqual(3);
    expect(g!.name).toBe(catalogue.find((s) => s.id === id)!.name);
  });

  it('has no guide outside the catalogue', () => {
    const ids = new Set(catalogue.map((s) => s.id));
    expect(loaded.guides.map((g) => g.id).filter((id) => !ids.has(id))).toEqual([]);
  });
});

const GOOD = `---
id: passport
name: 普通护照申领
department: 市公安局出入境管理局
updated: 2026-11
references:
  - 《中华人民共和国护照法》
---

## 服务简介
护照简介。

## 申请条件
- 中国公民

## 申请材料
- 身份证（免于提交：电子证照）

## 办理流程
1. 申请

## 办理渠道
- 随申办

## 办理时限
7个工作日。

## 收费标准
以窗口告知为准。

## 设定依据
- 护照法

## 常见问题
### 问：一？
答：一。

### 问：二？
答：二。

### 问：三？
答：三。
`;

describe('parseGuide', () => {
  it('parses front matter, the nine sections and FAQ pairs', () => {
    const g = parseGuide(GOOD, '/x/passport/guide.md', { catalogue, folder: 'passport' });
    expect(g.id).toBe('passport');
    expect(g.updated).toBe('2026-11');
    expect(g.sections).toHaveLength(9);
    expect(g.faq).toEqual([
      { question: '一？', answer: '一。' },
      { question: '二？', answer: '二。' },
      { question: '三？', answer: '三。' },
    ]);
    expect(g.aliases).toContain('护照');
  });

  const fails = (src: string, re: RegExp, folder = 'passport') => {
    let err: unknown;
    try {
      parseGuide(src, '/x/passport/guide.md', { catalogue, folder });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GuideError);
    expect((err as GuideError).file).toBe('/x/passport/guide.md');
    expect((err as GuideError).message).toMatch(/^\/x\/passport\/guide\.md: /);
    expect((err as GuideError).problem).toMatch(re);
  };

  it('names a missing section', () => fails(GOOD.replace(/## 收费标准\n[^\n]*\n/, ''), /missing section: ## 收费标准/));
  it('names an empty section', () => fails(GOOD.replace('7个工作日。', ''), /empty section: ## 办理时限/));
  it('rejects an unknown section', () => fails(GOOD.replace('## 设定依据', '## 其他'), /unknown section '## 其他'/));
  it('rejects a duplicated section', () => fails(GOOD + '\n## 申请条件\n- 再来\n', /appears twice/));
  it('rejects a missing front matter', () => fails(GOOD.replace(/^---[\s\S]*?---\n/, ''), /missing YAML front matter/));
  it('rejects a front matter without references', () => fails(GOOD.replace(/references:\n.*\n/, ''), /front matter: references/));
  it('rejects an id that differs from the folder', () => fails(GOOD, /does not equal its folder name 'visa'/, 'visa'));
  it('rejects an FAQ question without answer', () => fails(GOOD.replace('答：三。', ''), /question '三？' has no answer/));

  it('warns about a name that differs from the catalogue and too few FAQ pairs', () => {
    const warnings: string[] = [];
    parseGuide(GOOD.replace('name: 普通护照申领', 'name: 护照').replace(/### 问：三？\n答：三。\n/, ''), 'f', {
      catalogue,
      warn: (w) => warnings.push(w),
    });
    expect(warnings.join('\n')).toMatch(/differs from the catalogue name/);
    expect(warnings.join('\n')).toMatch(/2 Q\/A pair/);
  });

  it('merges catalogue, front matter and phrasings aliases', () => {
    const g = parseGuide(GOOD.replace('references:', 'aliases: [出国护照]\nreferences:'), 'f', {
      catalogue,
      phrasings: 'aliases: [因私护照]\napply: [我要办护照]\n',
    });
    expect(g.aliases).toEqual(expect.arrayContaining(['护照', '办护照', '出国护照', '因私护照']));
    expect(g.aliases).not.toContain('我要办护照');
  });

  it('hash changes with the text and with the aliases', () => {
    const a = parseGuide(GOOD, 'f', { catalogue });
    expect(parseGuide(GOOD, 'f', { catalogue }).hash).toBe(a.hash);
    expect(parseGuide(GOOD.replace('7个', '8个'), 'f', { catalogue }).hash).not.toBe(a.hash);
    expect(parseGuide(GOOD, 'f', { catalogue, phrasings: 'aliases: [x]' }).hash).not.toBe(a.hash);
  });
});

describe('chunking', () => {
  it('makes one chunk per section and one per FAQ pair', () => {
    const g = parseGuide(GOOD, 'f', { catalogue });
    const chunks = chunkGuide(g);
    expect(chunks).toHaveLength(8 + 3);
    const faq = chunks.filter((c) => c.section === '常见问题');
    expect(faq.map((c) => c.title)).toEqual(['一？', '二？', '三？']);
    expect(faq[0]!.text).toBe('问：一？\n答：一。');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(chunks.length);
  });

  it('splits a long section at paragraph boundaries and keeps the title', () => {
    const para = (n: number) => `第${n}段：` + '本段内容用于测试分块。'.repeat(12);
    const long = [1, 2, 3, 4].map(para).join('\n\n');
    const g = parseGuide(GOOD.replace('护照简介。', long), 'f', { catalogue });
    const pieces = chunkGuide(g).filter((c) => c.section === '服务简介');
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) {
      expect(p.title).toBe('服务简介');
      expect(p.text.length).toBeLessThanOrEqual(MAX_CHUNK_CHARS);
      expect(p.text).toMatch(/^第\d段：/); // starts at a paragraph boundary
    }
    expect(pieces.map((p) => p.text).join('\n\n')).toBe(long);
  });

  it('falls back to line and sentence boundaries', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `- 第${i}项材料说明。`).join('\n');
    const out = splitText(lines, 100);
    expect(out.length).toBeGreaterThan(1);
    for (const p of out) expect(p.length).toBeLessThanOrEqual(100);
    expect(out.join('\n')).toBe(lines);
    const sentence = '这是一个很长的句子。'.repeat(30);
    const bySentence = splitText(sentence, 100);
    expect(bySentence.every((p) => p.length <= 100 && p.endsWith('。'))).toBe(true);
    expect(bySentence.join('')).toBe(sentence);
  });

  it('bundled guides chunk within limits', () => {
    const loaded = loadGuides(GUIDES_DIR, catalogue);
    for (const g of loaded.guides) {
      for (const c of chunkGuide(g)) {
        if (c.section !== '常见问题') expect(c.text.length).toBeLessThanOrEqual(MAX_CHUNK_CHARS);
        expect(c.text.trim().length).toBeGreaterThan(0);
      }
    }
  });
});
