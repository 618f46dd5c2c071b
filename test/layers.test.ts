import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

/**
 * The import rules of .dependency-cruiser.cjs, enforced: the tree has no backwards import and
 * no cycle, and the rules do catch one (fixtures under test/fixtures/layering).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const rules = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as { forbidden: unknown[]; options: Record<string, unknown> };

async function violations(baseDir: string, paths: string[]): Promise<{ rule: string; from: string; to: string }[]> {
  const r = await cruise(paths, {
    ...rules.options,
    baseDir,
    validate: true,
    ruleSet: { forbidden: rules.forbidden } as never,
    tsConfig: { fileName: `${ROOT}tsconfig.json` },
  } as never);
  const out = r.output as ICruiseResult;
  return out.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe('import rules', () => {
  it('hold for the whole tree: straight layers, no cycles', async () => {
    expect(await violations(ROOT, ['core', 'knowledge', 'tools', 'agent', 'channels', 'app', 'evals', 'bench', 'test'])).toEqual([]);
  }, 60_000);

  it('catch a backwards import and a cycle', async () => {
    const found = await violations(`${ROOT}test/fixtures/layering`, ['core', 'agent']);
    expect(found).toContainEqual(expect.objectContaining({ rule: 'core-imports-only-below', from: 'core/backwards.ts', to: 'agent/policy.ts' }));
    expect(found.some((v) => v.rule === 'no-circular')).toBe(true);
  }, 60_000);
});
