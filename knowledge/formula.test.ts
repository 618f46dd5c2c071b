import { describe, expect, it } from 'vitest';
import { catalogue } from './catalogue.js';
import { evaluateFormula, factsIn, parseFormula } from './formula.js';

const run = (src: string, facts: Record<string, unknown> = {}) => evaluateFormula(parseFormula(src), (n) => facts[n]);

describe('offer amount formulas', () => {
  it('computes with facts, precedence, parentheses and chained conditionals', () => {
    expect(run('employer_avg_wage / 30 * maternity_leave_days', { employer_avg_wage: 9000, maternity_leave_days: 158 })).toBe(47400);
    expect(run('1 + 2 * 3')).toBe(7);
    expect(run('(1 + 2) * 3')).toBe(9);
    expect(run('-2 * -3')).toBe(6);
    const band = 'age >= 100 ? 600 : age >= 90 ? 350 : age >= 80 ? 180 : age >= 70 ? 150 : 75';
    expect([65, 70, 79, 80, 90, 100].map((age) => run(band, { age }))).toEqual([75, 150, 150, 180, 350, 600]);
    expect(run('low_income && disability_level <= 2 ? 2 : 1', { low_income: true, disability_level: 1 })).toBe(2);
  });

  it('is null, never a guess, when a fact is missing or the arithmetic has no value', () => {
    expect(run('employer_avg_wage / 30', {})).toBeNull();
    expect(run('x / 0', { x: 1 })).toBeNull();
    expect(run('x * 2', { x: '不详' })).toBeNull();
  });

  it('refuses anything but arithmetic over facts', () => {
    for (const bad of ['process.exit()', 'a.b', '"abc"', 'a[0]', '1 +', '(1', 'a ? 1', '1 2', 'Math.max(1,2)']) {
      expect(() => parseFormula(bad), bad).toThrow();
    }
    expect(factsIn(parseFormula('a + b * (c ? d : 2)'))).toEqual(['a', 'b', 'c', 'd']);
    // A name that is no fact is unknown, whatever an object's prototype holds.
    expect(run('constructor + 1')).toBeNull();
  });

  it('every offer of the project catalogue parses and names only registered facts', () => {
    for (const o of catalogue().offers) {
      if (!o.amount) continue;
      const f = parseFormula(o.amount.formula);
      for (const name of factsIn(f)) expect(Object.keys(catalogue().facts).concat(['age']), `${o.id}: ${name}`).toContain(name);
    }
  });
});
