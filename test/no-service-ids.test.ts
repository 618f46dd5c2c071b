import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../knowledge/catalogue.js';

/**
 * Service behaviour is data: no catalogue service id is spelled in product TypeScript (tests,
 * test stand-ins and fixtures aside). What a service does differently lives in
 * knowledge/services.json and the other data files, so adding a service means adding data.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXEMPT = /(^test\/|\.test\.ts$|\/testing\/|test-fixtures\.ts$)/;

describe('no service id in code', () => {
  it('appears in no TypeScript file outside tests and data', () => {
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n').filter((f) => f && !EXEMPT.test(f));
    const ids = catalogue().services.map((s) => s.id).concat(catalogue().bundles.map((b) => b.id), catalogue().offers.map((o) => o.id));
    const quoted = new RegExp(`['"\`](${ids.join('|')})['"\`]`);
    const hits: string[] = [];
    for (const f of files) {
      let source: string;
      try {
        source = readFileSync(`${ROOT}${f}`, 'utf8');
      } catch {
        continue; // listed by git but deleted in the working tree
      }
      source.split('\n').forEach((line, i) => {
        if (quoted.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(files.length).toBeGreaterThan(50);
    expect(hits).toEqual([]);
  });
});
