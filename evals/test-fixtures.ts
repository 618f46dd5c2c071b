/** Hand-made reports and items shared by the evals tests (not a test file itself). */
import type { Report } from './report.js';

/** A complete report with known figures; `overrides` patch sections for gate cases. */
export interface FixtureOverrides {
  nlu?: Partial<Report['nlu']>;
  scenarios?: Partial<Report['scenarios']>;
  retrieval?: Partial<Report['retrieval']>;
}

export function fixtureReport(overrides: FixtureOverrides = {}): Report {
  const tally = (n: number, correct: number, joint: number) => ({ n, correct, accuracy: correct / n, joint_accuracy: joint / n });
  const base: Report = {
    generated_at: '2025-01-01T00:00:00.000Z',
    engine: { nlu: 'local', name: 'local', baseline: 'nlp.js' },
    nlu: {
      file: 'evals/data/nlu.test.jsonl',
      engine: 'local',
      n: 200,
      act_accuracy: 0.985,
      service_accuracy: 0.99,
      joint_accuracy: 0.9712,
      slot_f1: 0.9333,
      slot_precision: 0.95,
      slot_recall: 0.9172,
      slot_items: 30,
      slot_counts: { tp: 28, fp: 1, fn: 3 },
      p50_ms: 0.21,
      p95_ms: 1.37,
      latency: { mean_ms: 0.3, p50_ms: 0.21, p95_ms: 1.37, p99_ms: 2.5, max_ms: 4 },
      per_act: { apply: tally(100, 99, 97), consult: tally(60, 58, 57), greeting: tally(40, 40, 40) },
      per_service: {
        criminal_record_certificate: tally(50, 50, 49),
        passport: tally(20, 18, 18),
        hk_macau_permit: tally(20, 20, 19),
        none: tally(110, 110, 108),
      },
      confusion: {
        services: [
          { expected: 'passport', predicted: 'hk_macau_permit', count: 2 },
          { expected: 'hk_macau_permit', predicted: 'none', count: 1 },
        ],
        acts: [{ expected: 'consult', predicted: 'apply', count: 2 }],
      },
      engine_errors: 0,
      mistakes: [
        {
          id: 'x<script>window.__pwned=1</script>',
          text: '<img src=x onerror="window.__pwned=2">护照<b>加粗</b>',
          expected_act: 'consult',
          predicted_act: 'apply',
          expected_service: 'passport',
          predicted_service: 'hk_macau_permit',
        },
      ],
      baseline: {
        name: 'nlp.js',
        n: 200,
        act_accuracy: 0.84,
        service_accuracy: 0.9,
        joint_accuracy: 0.8123,
        p50_ms: 0.4,
        p95_ms: 1.1,
        train_ms: 1500,
        training_examples: 401,
        per_act: { apply: tally(100, 80, 75), consult: tally(60, 50, 45), greeting: tally(40, 38, 38) },
        per_service: {
          criminal_record_certificate: tally(50, 45, 41),
          passport: tally(20, 10, 9),
          hk_macau_permit: tally(20, 15, 14),
          none: tally(110, 100, 98),
        },
      },
    },
    scenarios: {
      file: 'evals/data/scenarios.jsonl',
      n: 2,
      success_rate: 0.5,
      mean_turns: 2.5,
      mean_turns_by_service: { criminal_record_certificate: 2.5 },
      mean_turns_criminal_record: 2.5,
      by_outcome: { submitted: { n: 2, ok: 1 } },
      items: [
        {
          id: 's1', ok: true, turns: 2, outcome: 'submitted', expected: { outcome: 'submitted', max_turns: 3 }, failure: null,
          service: 'criminal_record_certificate', citizen: 'c-sun-ming', channel: 'app',
          application: { id: 'SA1', status: 'submitted', fields: { purpose: '出国(境)' } },
          transcript: [{ citizen: '我要开无犯罪记录证明', reply: '请问用途？', act: 'apply', service: 'criminal_record_certificate', awaiting: 'purpose', outcome: null }],
        },
        {
          id: 's2', ok: false, turns: 3, outcome: 'handoff', expected: { outcome: 'submitted', max_turns: 3 },
          failure: 'outcome handoff, expected submitted <script>window.__pwned=3</script>',
          service: 'criminal_record_certificate', citizen: 'c-liu-fang', channel: 'kiosk', application: null, transcript: [],
        },
      ],
    },
    retrieval: { file: 'evals/data/retrieval.jsonl', n: 40, recall_at_5: 0.975, mrr: 0.9021 },
    warnings: [
      { file: 'x.jsonl', line: 3, id: 'n3', problem: 'unknown service id "<b>nope</b>"; item skipped', message: 'x.jsonl line 3 (n3): unknown service id "<b>nope</b>"; item skipped' },
    ],
    service_names: { criminal_record_certificate: '有无犯罪记录证明', passport: '普通护照申领', hk_macau_permit: '往来港澳通行证及签注' },
    gate: null,
    duration_ms: 12345,
  };
  return {
    ...base,
    nlu: { ...base.nlu, ...(overrides.nlu ?? {}) },
    scenarios: { ...base.scenarios, ...(overrides.scenarios ?? {}) },
    retrieval: { ...base.retrieval, ...(overrides.retrieval ?? {}) },
  };
}
