import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadResponses, placeholdersOf, RESPONSE_SLOTS, say, type ResponseKey } from './responses.js';

const ROOT = new URL('..', import.meta.url).pathname;
const templates = loadResponses();
const keys = Object.keys(RESPONSE_SLOTS) as ResponseKey[];

/** The product's TypeScript sources (tests and fixtures left out). */
function sources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'testing' && e.name !== 'fixtures') walk(p);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push({ file: relative(ROOT, p), text: readFileSync(p, 'utf8') });
    }
  };
  for (const d of ['agent', 'channels', 'tools', 'app']) walk(join(ROOT, d));
  return out;
}

describe('response templates (agent/policy/responses.yaml)', () => {
  it('renders every template with its slots filled, leaving no placeholder and no empty slot', () => {
    for (const key of keys) {
      const vars = Object.fromEntries(RESPONSE_SLOTS[key].map((s) => [s, `〈${s}〉`]));
      const text = (say as (k: ResponseKey, v: Record<string, string>) => string)(key, vars);
      expect(text, key).not.toMatch(/\{\w+\}/);
      for (const s of RESPONSE_SLOTS[key]) expect(text, `${key}: {${s}}`).toContain(`〈${s}〉`);
      // The words around a slot never stand without it: nothing like "还没有的办理记录" can come out.
      expect(text.trim().length, key).toBeGreaterThan(0);
    }
  });

  it('refuses a missing or empty slot instead of printing a sentence with a hole in it', () => {
    const render = say as (k: ResponseKey, v: Record<string, string>) => string;
    expect(() => render('progress_none_for', {})).toThrow(/no value for \{service\}/);
    expect(() => render('progress_none_for', { service: '' })).toThrow(/empty value for \{service\}/);
    expect(() => render('progress_none_for', { service: '  ' })).toThrow(/empty value/);
    expect(render('progress_none_for', { service: '社会保障卡申领' })).toBe(templates.progress_none_for.replace('{service}', '社会保障卡申领'));
  });

  it('uses every template somewhere, and only declared ones', () => {
    const code = sources();
    const all = code.map((c) => c.text).join('\n');
    const unused = keys.filter((k) => !all.includes(`'${k}'`));
    expect(unused).toEqual([]);
    // Every literal key handed to say(), including both sides of a conditional, is declared.
    const used = new Set<string>();
    for (const { text } of code) {
      for (const m of text.matchAll(/\bsay\(([^;]*?)(?:,\s*\{|\))/g)) for (const k of m[1]!.matchAll(/'([a-z_]+)'/g)) used.add(k[1]!);
    }
    expect(used.size).toBeGreaterThan(40);
    expect([...used].filter((k) => !(k in RESPONSE_SLOTS))).toEqual([]);
  });

  it('declares exactly the placeholders each template uses', () => {
    for (const key of keys) expect(placeholdersOf(templates[key]).sort(), key).toEqual([...RESPONSE_SLOTS[key]].sort());
  });
});
