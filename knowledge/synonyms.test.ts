import { describe, expect, it } from 'vitest';
import { loadSectionCues, matchQuestionKinds, matchSectionCues } from './search.js';
import { expandText, loadSynonyms, relatedWords, rewriteText } from './synonyms.js';

describe('synonyms.yaml', () => {
  const syn = loadSynonyms();

  it('loads, and every group has key terms and words', () => {
    expect(syn.replace.length).toBeGreaterThan(10);
    expect(syn.expand.length).toBeGreaterThan(10);
    for (const g of syn.expand) {
      expect(g.terms.length).toBeGreaterThan(0);
      expect(g.words.length).toBeGreaterThan(0);
    }
  });

  it('rewrites dialect in place, a final particle only at the end of a clause', () => {
    expect(rewriteText('阿拉姆妈好拿几钿伐', syn)).toBe('我们姆妈能拿多少钱吗');
    expect(rewriteText('签注哪能续', syn)).toBe('签注怎么续');
    expect(rewriteText('能办伐？要带啥', syn)).toBe('能办吗?要带什么') // NFKC: full-width punctuation is half-width;
    // 伐 inside a word is no particle.
    expect(rewriteText('伐木要办什么证', syn)).toBe('伐木要办什么证');
  });

  it('adds the guide wording of topic words after the question', () => {
    const q = expandText('给小孩也能办吗', syn);
    expect(q.startsWith('给小孩也能办吗 ')).toBe(true);
    expect(q).toContain('未成年人');
    expect(q).toContain('子女');
    expect(expandText('周六能去吗', syn)).toContain('周末');
    // English words only as whole words ("wifi" is no wife).
    expect(expandText('my wife', syn)).toContain('配偶');
    expect(expandText('wifi', syn)).toBe('wifi');
  });

  it('is idempotent, so questions can be rewritten at every entry point', () => {
    const samples = ['阿拉小囡能办社保卡伐', '老公老婆都能提吗', '自由行能待几天', '垫了钱怎么报掉', 'renew my passport', '屋里厢没工作了'];
    for (const g of syn.expand) samples.push(`${g.words[0]}怎么办`);
    for (const r of syn.replace) samples.push(`${r.from}`);
    for (const s of samples) {
      expect(rewriteText(rewriteText(s, syn), syn), s).toBe(rewriteText(s, syn));
      expect(expandText(expandText(s, syn), syn), s).toBe(expandText(s, syn));
    }
  });

  it('tells the words a word is said otherwise as', () => {
    expect(relatedWords('小孩', syn)).toEqual(expect.arrayContaining(['孩子', '未成年人']));
    expect(relatedWords('红烧', syn)).toEqual([]);
  });

  it('serves cue matching: cue words and questions are rewritten alike', () => {
    const cues = loadSectionCues();
    expect(matchSectionCues('办退休要带点啥', cues)[0]).toBe('申请材料');
    expect(matchSectionCues('结婚证掉了能补伐', cues)).toContain('常见问题');
    expect(matchQuestionKinds('良民证能叫我老婆帮我去开伐', cues).map((k) => k.kind.name)).toEqual(expect.arrayContaining(['代办', '能否']));
    // Without the synonyms file the particle is no question form.
    const plain = loadSectionCues(undefined, null);
    expect(matchQuestionKinds('男的能办伐', plain).map((k) => k.kind.name)).not.toContain('申请条件');
    expect(matchQuestionKinds('男的能办伐', cues).map((k) => k.kind.name)).toContain('申请条件');
  });
});
