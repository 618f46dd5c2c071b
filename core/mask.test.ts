import { describe, expect, it } from 'vitest';
import { maskSensitiveText } from './mask.js';

const fullWidth = (t: string) => t.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));

describe('masking identifiers in free text', () => {
  it('masks ID numbers, mobiles and accounts however they are written', () => {
    const cases: [string, string][] = [
      ['310107198501010514', '310107********0514'],
      ['310107 19850101 0514', '310107********0514'],
      ['3101-0719-8501-0105-14', '310107********0514'],
      [fullWidth('310107198501010514'), '310107********0514'],
      ['11010519491231002X', '110105********002X'],
      ['13800000005', '138****0005'],
      ['138-0000-0005', '138****0005'],
      ['138 0000 0005', '138****0005'],
      [fullWidth('13800000005'), '138****0005'],
      ['6222 0000 0000 0001', '**** **** **** 0001'],
      ['6222-0000-0000-0001', '**** **** **** 0001'],
      ['622200000000000123', '**** **** **** 0123'],
    ];
    for (const [raw, masked] of cases) {
      expect(maskSensitiveText(`号码：${raw}。`), raw).toBe(`号码：${masked}。`);
    }
  });

  it('leaves dates, amounts, application numbers and codes alone', () => {
    for (const t of ['2026-10-02', '47,400元', '申请编号 SA20261201000001', '公积金账号 SHGJJ-0003', '热线 12345', '邮编 200030', '0571-88888888']) {
      expect(maskSensitiveText(t)).toBe(t);
    }
  });
});
