import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { idNumberCheckChar, isValidIdNumber } from './id-number.js';

describe('GB 11643 ID numbers', () => {
  it('accepts every sandbox citizen and rejects a wrong check character', () => {
    const data = JSON.parse(readFileSync(new URL('../citizens.json', import.meta.url), 'utf8')) as { citizens: { id_number: string }[] };
    for (const c of data.citizens) expect(isValidIdNumber(c.id_number), c.id_number).toBe(true);
    expect(isValidIdNumber('310101198803122039')).toBe(false);
    expect(isValidIdNumber('31010119880312203')).toBe(false);
    expect(isValidIdNumber('310101198802302038')).toBe(false); // 30 February
  });
  it('computes X as a check character', () => {
    const first17 = '11010519491231002';
    expect(idNumberCheckChar(first17)).toBe('X');
    expect(isValidIdNumber(`${first17}x`)).toBe(true);
  });
});
