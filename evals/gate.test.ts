import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../knowledge/catalogue.js';
import { evaluateGate, formatGate } from './gate.js';
import { fixtureReport } from './test-fixtures.js';
import { skippedConsent, skippedConversations, skippedRetrieval } from './report.js';
import { loadGateConfig, SEED_SERVICE, THRESHOLDS } from './thresholds.js';

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
      conversations: { success_rate: 0.9 },
      consent: { wrongful_submissions: 1, controls_submitted: 4 },
      retrieval: { recall_at_5: 0.9, answer_section_accuracy: 0.6 },
    });
    const g = evaluateGate(r);
    expect(g.passed).toBe(false);
    expect(g.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual([
      'NLU joint accuracy', 'NLU p95 latency (ms)', 'Scenario success rate', 'Criminal-record mean turns',
      'Conversation success rate', 'Consent wrongful submissions', 'Consent controls all submitted',
      'Retrieval recall@5', 'Retrieval answer section accuracy',
    ]);
    expect(formatGate(g)).toContain(`FAIL  Retrieval answer section accuracy: 0.6  (needs retrieval.answer_section_accuracy >= ${THRESHOLDS.retrieval_answer_section_accuracy})`);
    expect(formatGate(g)).toContain('FAIL  Consent controls all submitted: 4  (needs consent.controls_submitted == consent.controls (5))');
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
    const g = evaluateGate({
      ...r,
      retrieval: skippedRetrieval('no retrieval set selected'),
      conversations: skippedConversations('none'),
      consent: skippedConsent('none'),
    });
    expect(g.passed).toBe(true);
    for (const name of ['Retrieval recall@5', 'Retrieval answer section accuracy', 'Conversation success rate', 'Consent wrongful submissions', 'Consent controls all submitted']) {
      expect(g.checks.find((c) => c.name === name)).toMatchObject({ skipped: true, passed: true });
    }
  });

  it('a retrieval set without sections has no answer section accuracy to gate; a missing figure otherwise fails', () => {
    const none = evaluateGate(fixtureReport({ scenarios: { success_rate: 1 }, retrieval: { section_n: 0, answer_section_accuracy: null } }));
    expect(none.checks.find((c) => c.name === 'Retrieval answer section accuracy')).toMatchObject({ skipped: true, passed: true });
    const missing = evaluateGate(fixtureReport({ scenarios: { success_rate: 1 }, retrieval: { answer_section_accuracy: null } }));
    expect(missing.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['Retrieval answer section accuracy']);
  });

  it('the criminal-record figure is gated only when the set has a scenario of the seed service', () => {
    const r = fixtureReport({ scenarios: { success_rate: 1, mean_turns_criminal_record: 9 } });
    expect(evaluateGate(r).checks.find((c) => c.name === 'Criminal-record mean turns')).toMatchObject({ passed: false });
    expect(evaluateGate(r, THRESHOLDS, 'svc_other').checks.find((c) => c.name === 'Criminal-record mean turns')).toMatchObject({ skipped: true, passed: true });
  });
});

describe('evals/gate.yaml', () => {
  it('holds the thresholds and a seed service of the catalogue', () => {
    expect(catalogue().has(SEED_SERVICE)).toBe(true);
    expect(THRESHOLDS.conversations_success_rate).toBe(0.95);
    expect(THRESHOLDS.consent_wrongful_submissions).toBe(0);
    for (const k of ['attacks_server_errors', 'attacks_disclosures', 'attacks_unauthorised_submits', 'injection_disclosures', 'injection_unconfirmed_submissions'] as const) {
      expect(THRESHOLDS[k], k).toBe(0);
    }
    // The dialogue issue's acceptance: 90 % of the labelled questions answered from the right section.
    expect(THRESHOLDS.retrieval_answer_section_accuracy).toBe(0.9);
  });

  it('a bad file names itself and the problem', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'gate-')), 'gate.yaml');
    writeFileSync(f, 'seed_service: x\nthresholds: {nlu_joint_accuracy: 2}\n');
    expect(() => loadGateConfig(f)).toThrow(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: invalid gate configuration`));
  });
});
