import { describe, expect, it } from 'vitest';
import { normalize } from './normalize.js';

describe('normalize', () => {
  it('turns traditional Chinese into simplified', () => {
    expect(normalize('我要開無犯罪記錄證明')).toBe('我要开无犯罪记录证明');
    expect(normalize('請問社會保障卡怎麼辦理')).toBe('请问社会保障卡怎么办理');
  });

  it('turns full-width letters, digits and punctuation into half-width', () => {
    expect(normalize('ＡＢＣ１２３，社保卡')).toBe('abc123,社保卡');
    expect(normalize('我要办社保卡！！')).toBe('我要办社保卡');
  });

  it('folds case and keeps single spaces only between Latin words', () => {
    expect(normalize('Social   Security  CARD')).toBe('social security card');
    expect(normalize('我 要 办  社保卡')).toBe('我要办社保卡');
    expect(normalize('帮我办个 police certificate 吧')).toBe('帮我办个police certificate吧');
  });

  it('keeps a question mark as a single "?" and other clause punctuation as ","', () => {
    expect(normalize('居住证要多久？？')).toBe('居住证要多久?');
    expect(normalize('我要开证明。出国用；去英国')).toBe('我要开证明,出国用,去英国');
  });

  it('corrects ASR homophones and typos from the data file', () => {
    expect(normalize('我要开无犯罪记录正明')).toBe('我要开无犯罪记录证明');
    expect(normalize('社保咔身领')).toBe('社保卡申领');
    expect(normalize('公鸡金提取')).toBe('公积金提取');
    expect(normalize('随身办上能办吗')).toBe('随申办上能办吗');
  });

  it('reads Shanghainese negation (勿 / 覅) as 不 / 不要', () => {
    expect(normalize('勿办了')).toBe('不办了');
    expect(normalize('覅弄了')).toBe('不要弄了');
  });

  it('drops leading fillers but keeps a message that is only a filler', () => {
    expect(normalize('嗯，那个，我要办社保卡')).toBe('我要办社保卡');
    expect(normalize('嗯嗯')).toBe('嗯嗯');
    expect(normalize('额度是多少')).toBe('额度是多少');
  });

  it('keeps abbreviations readable', () => {
    expect(normalize("U.S. visa, don't know")).toBe('us visa,dont know');
  });
});
