import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DatasetError,
  loadNluItems,
  loadReferenceData,
  loadRetrievalItems,
  loadScenarioItems,
  NluItemSchema,
  readJsonl,
} from './datasets.js';
import { parseCli } from './cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'evals-datasets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const ref = loadReferenceData();
const ok1 = JSON.stringify({ id: 'n1', text: '我要开无犯罪证明', act: 'apply', service: 'criminal_record_certificate' });
const ok2 = JSON.stringify({ id: 'n2', text: '你好', act: 'greeting', service: null });

describe('dataset lines that do not parse', () => {
  it('names the file and the line of invalid JSON', () => {
    const path = file('bad-json.jsonl', [ok1, '', '{"id":"n2","text":"你好",', ok2]);
    let caught: unknown;
    try {
      readJsonl(path, NluItemSchema);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DatasetError);
    const e = caught as DatasetError;
    expect(e.file).toBe(path);
    expect(e.line).toBe(3);
    expect(e.message).toContain(`${path} line 3`);
    expect(e.message).toContain('not valid JSON');
  });

  it('names the file, the line and the field of a line that breaks the schema', () => {
    const path = file('bad-act.jsonl', [ok1, JSON.stringify({ id: 'n2', text: '买房', act: 'buy', service: null })]);
    expect(() => readJsonl(path, NluItemSchema)).toThrow(DatasetError);
    try {
      readJsonl(path, NluItemSchema);
    } catch (err) {
      expect((err as DatasetError).line).toBe(2);
      expect((err as DatasetError).message).toMatch(/line 2: act:/);
    }
  });

  it('reports a missing file', () => {
    expect(() => readJsonl(join(dir, 'nope.jsonl'), NluItemSchema)).toThrow(/nope\.jsonl: file not found/);
  });

  it('the CLI exits non-zero naming file and line, without a stack trace', () => {
    const path = file('cli-bad.jsonl', [ok1, ok2, '{"id":"n3","text":"x","act":"apply"', ok1]);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'evals/cli.ts', '--nlu', path, '--out', join(dir, 'out-bad')], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('could not run');
    expect(r.stderr).toContain('cli-bad.jsonl line 3');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});

describe('unknown ids are reported and skipped, not crashed on', () => {
  it('skips an NLU item with an unknown service id and ignores an unknown slot key', () => {
    const path = file('unknown-service.jsonl', [
      ok1,
      JSON.stringify({ id: 'n2', text: '我要办火星签证', act: 'apply', service: 'mars_visa' }),
      JSON.stringify({ id: 'n3', text: '开无犯罪证明出国用', act: 'apply', service: 'criminal_record_certificate', slots: { purpose: '出国(境)', colour: '红' } }),
    ]);
    const loaded = loadNluItems(path, ref);
    expect(loaded.items.map((i) => i.item.id)).toEqual(['n1', 'n3']);
    expect(loaded.items[1]!.item.slots).toEqual({ purpose: '出国(境)' });
    expect(loaded.warnings).toHaveLength(2);
    expect(loaded.warnings[0]).toMatchObject({ file: path, line: 2, id: 'n2' });
    expect(loaded.warnings[0]!.problem).toContain('unknown service id "mars_visa"');
    expect(loaded.warnings[1]).toMatchObject({ line: 3, id: 'n3' });
  });

  it('skips a scenario with an unknown citizen or service', () => {
    const scenario = (id: string, citizen: string, service: string) => JSON.stringify({
      id, citizen, channel: 'app', opening: '我要开无犯罪记录证明',
      goal: { service, facts: { purpose: '就业' }, say: {} }, expect: { outcome: 'submitted', max_turns: 3 },
    });
    const path = file('unknown-scenario.jsonl', [
      scenario('s1', 'c-sun-ming', 'criminal_record_certificate'),
      scenario('s2', 'c-nobody', 'criminal_record_certificate'),
      scenario('s3', 'c-sun-ming', 'mars_visa'),
    ]);
    const loaded = loadScenarioItems(path, ref);
    expect(loaded.items.map((i) => i.item.id)).toEqual(['s1']);
    expect(loaded.warnings.map((w) => [w.line, w.id])).toEqual([[2, 's2'], [3, 's3']]);
    expect(loaded.warnings[0]!.problem).toContain('unknown citizen id "c-nobody"');
    expect(loaded.warnings[1]!.problem).toContain('unknown service id "mars_visa"');
  });

  it('skips a retrieval item with an unknown service', () => {
    const path = file('unknown-retrieval.jsonl', [
      JSON.stringify({ id: 'r1', question: '无犯罪证明要什么材料', service: 'criminal_record_certificate' }),
      JSON.stringify({ id: 'r2', question: '火星签证怎么办', service: 'mars_visa' }),
    ]);
    const loaded = loadRetrievalItems(path, ref);
    expect(loaded.items).toHaveLength(1);
    expect(loaded.warnings[0]).toMatchObject({ line: 2, id: 'r2' });
  });

  it('the CLI lists the warning in report.json and on stdout and still scores the rest', () => {
    const path = file('cli-unknown.jsonl', [
      ok1,
      ok2,
      JSON.stringify({ id: 'n9', text: '我要办火星签证', act: 'apply', service: 'mars_visa' }),
    ]);
    const out = join(dir, 'out-unknown');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'evals/cli.ts', '--nlu', path, '--out', out], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('unknown service id "mars_visa"');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.nlu.n).toBe(2);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatchObject({ line: 3, id: 'n9' });
    expect(report.scenarios.skipped).toBe(true);
    expect(report.retrieval.skipped).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('mars_visa');
  }, 120_000);
});

describe('command line', () => {
  it('runs the project sets when no file is given, only the given ones otherwise', () => {
    const all = parseCli([]);
    expect(all).not.toBe('help');
    if (all === 'help') return;
    expect(all.nlu).toMatch(/evals\/data\/nlu\.test\.jsonl$/);
    expect(all.scenarios).toMatch(/scenarios\.jsonl$/);
    expect(all.retrieval).toMatch(/retrieval\.jsonl$/);
    expect(all.nluEngine).toBe('local');
    const one = parseCli(['--retrieval', 'x.jsonl', '--gate']);
    if (one === 'help') return;
    expect(one.nlu).toBeNull();
    expect(one.scenarios).toBeNull();
    expect(one.retrieval).toMatch(/x\.jsonl$/);
    expect(one.gate).toBe(true);
  });

  it('refuses unknown options and engines', () => {
    expect(() => parseCli(['--nlu-engine', 'gpt'])).toThrow(/local or llm/);
    expect(() => parseCli(['--bogus'])).toThrow(/usage/);
  });
});
