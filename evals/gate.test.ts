import { describe, expect, it } from 'vitest';
import { evaluateGate, formatGate } from './gate.js';
import { fixtureReport } from './test-fixtures.js';
import { skippedRetrieval } from './report.js';

describe('the eval gate', () => {
  it('passes when every threshold holds', () => {
    const g = evaluateGate(fixtureReport({ scenarios: { success_rate: 0.96 } }));
    expect(g.checks.filter((c) => !c.passed)).toEqual([]);
    expect(g.passed).toBe(true);
    expect(formatGate(g)).toMatch(/^gate: passed/);
  });

  it('names each threshold that is missed', () => {
    const r = fixtureReport({
      nlu: { joint_accuracy: 0.94, p95_ms: 25 },
      scenarios: { success_rate: 0.5, mean_turns_criminal_record: 3.5 },
      retrieval: { recall_at_5: 0.9 },
    });
    const g = evaluateGate(r);
    expect(g.passed).toBe(false);
    expect(g.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual([
      'NLU joint accuracy', 'NLU p95 latency (ms)', 'Scenario success rate', 'Criminal-record mean turns', 'Retrieval recall@5',
    ]);
    const text = formatGate(g);
    expect(text).toContain('FAIL  NLU joint accuracy: 0.94  (needs nlu.joint_accuracy >= 0.95)');
    expect(text).toContain('FAIL  NLU p95 latency (ms): 25  (needs nlu.p95_ms <= 20)');
  });

  it('fails when ours does not beat the NLP.js baseline', () => {
    const base = fixtureReport().nlu.baseline!;
    const g = evaluateGate(fixtureReport({ scenarios: { success_rate: 1 }, nlu: { baseline: { ...base, joint_accuracy: 0.9712 } } }));
    expect(g.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['NLU joint accuracy beats NLP.js']);
  });

  it('act accuracy and slot F1 thresholds; a missing figure fails', () => {
    const g = evaluateGate(fixtureReport({ scenarios: { success_rate: 1 }, nlu: { act_accuracy: 0.969, slot_f1: null } }));
    expect(g.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['NLU act accuracy', 'NLU slot F1']);
  });

  it('skips a section that was not run', () => {
    const r = fixtureReport({ scenarios: { success_rate: 1 } });
    const g = evaluateGate({ ...r, retrieval: skippedRetrieval('no retrieval set selected') });
    expect(g.passed).toBe(true);
    expect(g.checks.find((c) => c.name === 'Retrieval recall@5')).toMatchObject({ skipped: true, passed: true });
  });
});
