import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DatasetError,
  loadConversationItems,
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

  it('the same for a conversation set', () => {
    const good = JSON.stringify({ id: 'c1', citizen: null, turns: [{ say: '你好' }] });
    const path = file('cli-bad-conv.jsonl', [good, '{"id":"c2","citizen":null,"turns":[{"say":"x"}]', good]);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'evals/cli.ts', '--conversations', path, '--out', join(dir, 'out-bad-conv')], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cli-bad-conv.jsonl line 2: not valid JSON');
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
    expect(report.conversations.skipped).toBe(true);
    expect(report.consent.skipped).toBe(true);
    expect(report.retrieval.skipped).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('mars_visa');
  }, 120_000);
});

describe('conversation items', () => {
  const conv = (o: Record<string, unknown>) => JSON.stringify({
    id: 'c1', citizen: 'c-sun-ming', channel: 'app', turns: [{ say: '办张社保卡', expect: { service: 'social_security_card' } }], ...o,
  });

  it('reads the format of EVAL.md; citizen null is an anonymous session', () => {
    const path = file('conv-ok.jsonl', [
      conv({ final: { outcome: 'submitted', fields: { delivery_method: '邮寄到家', mailing_address: null }, fields_contains: { mailing_address: '漕溪' } } }),
      conv({ id: 'c2', citizen: null, turns: [{ say: '社保卡要多久', expect: { outcome: 'answered', awaiting: null, reply_contains_all: '工作日' } }] }),
    ]);
    const loaded = loadConversationItems(path, ref);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.items.map((i) => i.item.citizen)).toEqual(['c-sun-ming', null]);
    expect(loaded.items[1]!.item.turns[0]!.expect.reply_contains_all).toEqual(['工作日']);
    expect(loaded.items[1]!.item.final).toEqual({});
  });

  it('names the file and the line of a line that breaks the format', () => {
    const path = file('conv-bad.jsonl', [conv({}), conv({ id: 'c2', turns: [] }), conv({ id: 'c3', final: { outcome: 'done' } })]);
    expect(() => loadConversationItems(path, ref)).toThrow(/conv-bad\.jsonl line 2: turns: /);
  });

  it('skips an unknown citizen; names unknown services, card types, fields and misspelt check keys', () => {
    const path = file('conv-warn.jsonl', [
      conv({ citizen: 'c-nobody' }),
      conv({ id: 'c2', turns: [{ say: '办张社保卡', expect: { servce: 'social_security_card', card: 'form' } }], final: { service: 'mars_visa', outcomes: 'submitted' } }),
      conv({ id: 'c3', final: { service: 'social_security_card', fields: { colour: '红' } } }),
    ]);
    const loaded = loadConversationItems(path, ref);
    expect(loaded.items.map((i) => i.item.id)).toEqual(['c2', 'c3']);
    const problems = loaded.warnings.map((w) => `${w.line} ${w.problem}`);
    expect(problems[0]).toBe('1 unknown citizen id "c-nobody"; item skipped');
    expect(problems).toContainEqual(expect.stringMatching(/^2 turn 1: unknown expect key "servce" ignored/));
    expect(problems).toContainEqual(expect.stringMatching(/^2 turn 1: unknown card type "form"/));
    expect(problems).toContainEqual(expect.stringMatching(/^2 final: unknown key "outcomes" ignored/));
    expect(problems).toContainEqual(expect.stringMatching(/^2 unknown service id "mars_visa"/));
    expect(problems).toContainEqual(expect.stringMatching(/^3 final\.fields: colour not a field of social_security_card/));
  });

  it("the project's own conversation and consent sets load without warnings", () => {
    for (const name of ['conversations.dev.jsonl', 'conversations.test.jsonl', 'consent.jsonl']) {
      const loaded = loadConversationItems(join(ROOT, 'evals/data', name), ref);
      expect(loaded.warnings, name).toEqual([]);
      expect(loaded.items.length, name).toBeGreaterThan(100);
    }
  });
});

describe('retrieval items with sections', () => {
  it('keeps sections; an unknown section is reported and kept', () => {
    const path = file('retrieval-sections.jsonl', [
      JSON.stringify({ id: 'r1', question: '无犯罪证明要什么材料', service: 'criminal_record_certificate', sections: ['申请材料'] }),
      JSON.stringify({ id: 'r2', question: '无犯罪证明多久', service: 'criminal_record_certificate', sections: ['办理时间'] }),
    ]);
    const loaded = loadRetrievalItems(path, ref);
    expect(loaded.items.map((i) => i.item.sections)).toEqual([['申请材料'], ['办理时间']]);
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]!.problem).toMatch(/^unknown section "办理时间"/);
  });
});

describe('command line', () => {
  it('runs the project sets when no file is given, only the given ones otherwise', () => {
    const all = parseCli([]);
    expect(all).not.toBe('help');
    if (all === 'help') return;
    expect(all.nlu).toMatch(/evals\/data\/nlu\.test\.jsonl$/);
    expect(all.scenarios).toMatch(/scenarios\.jsonl$/);
    expect(all.conversations).toMatch(/evals\/data\/conversations\.test\.jsonl$/);
    expect(all.consent).toMatch(/evals\/data\/consent\.jsonl$/);
    expect(all.retrieval).toMatch(/retrieval\.jsonl$/);
    expect(all.injection).toBe(true);
    expect(all.nluEngine).toBe('local');
    const one = parseCli(['--retrieval', 'x.jsonl', '--gate']);
    if (one === 'help') return;
    expect(one.nlu).toBeNull();
    expect(one.scenarios).toBeNull();
    expect(one.conversations).toBeNull();
    expect(one.consent).toBeNull();
    expect(one.injection).toBe(false);
    expect(one.retrieval).toMatch(/x\.jsonl$/);
    expect(one.gate).toBe(true);
    const conv = parseCli(['--conversations', 'c.jsonl']);
    if (conv === 'help') return;
    expect(conv.conversations).toMatch(/c\.jsonl$/);
    expect([conv.nlu, conv.scenarios, conv.consent, conv.retrieval]).toEqual([null, null, null, null]);
  });

  it('refuses unknown options and engines', () => {
    expect(() => parseCli(['--nlu-engine', 'gpt'])).toThrow(/local or llm/);
    expect(() => parseCli(['--bogus'])).toThrow(/usage/);
  });
});
