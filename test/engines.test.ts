import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * `npm install` warns about any installed package whose `engines.node` the project's own
 * `engines.node` does not satisfy: every installed package must accept the lowest Node the
 * project says it runs on.
 */
const ROOT = new URL('..', import.meta.url).pathname;
const own = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

function installed(dir: string, out: { name: string; range: string }[] = []): { name: string; range: string }[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.name.startsWith('@')) {
      installed(p, out);
      continue;
    }
    const pj = join(p, 'package.json');
    if (existsSync(pj)) {
      const j = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; version?: string; engines?: { node?: unknown } };
      if (typeof j.engines?.node === 'string') out.push({ name: `${j.name}@${j.version}`, range: j.engines.node });
    }
    if (existsSync(join(p, 'node_modules'))) installed(join(p, 'node_modules'), out);
  }
  return out;
}

describe('dependencies and engines', () => {
  it('every installed package accepts the lowest Node version package.json names', () => {
    const lowest = semver.minVersion(own)!.version;
    const packages = installed(join(ROOT, 'node_modules'));
    expect(packages.length).toBeGreaterThan(50);
    expect(packages.filter((p) => semver.validRange(p.range) && !semver.satisfies(lowest, p.range)).map((p) => `${p.name} wants node ${p.range}`)).toEqual([]);
  });
});
