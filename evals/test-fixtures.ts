/**
 * Hand-made reports shared by the evals tests (not a test file itself). The seed service
 * comes from evals/gate.yaml; the other service ids are made up (no catalogue id is written
 * in the harness's TypeScript).
 */
import type { ConversationResult } from './conversations.js';
import type { Report } from './report.js';
import { SEED_SERVICE } from './thresholds.js';

const SEED = SEED_SERVICE;
const ALPHA = 'svc_alpha';
const BETA = 'svc_beta';

/** A complete report with known figures; `overrides` patch sections for gate cases. */
export interface FixtureOverrides {
  nlu?: Partial<Report['nlu']>;
  scenarios?: Partial<Report['scenarios']>;
  conversations?: Partial<Report['conversations']>;
  consent?: Partial<Report['consent']>;
  retrieval?: Partial<Report['retrieval']>;
}

function conversation(id: string, ok: boolean, extra: Partial<ConversationResult> = {}): ConversationResult {
  return {
    id, ok, failed: ok ? [] : ['turn 2 "先别提交": outcome is "submitted", must not be "submitted" <script>window.__pwned=4</script>'],
    citizen: 'c-sun-ming', channel: 'app', turns: 2, scripted: 2, turns_passed: ok ? 2 : 1, outcome: 'submitted',
    new_applications: 1, applications: [], service: SEED, covers: ['point0'], kind: null, error: null,
    ...(ok ? {} : {
      transcript: [
        { citizen: '我要开无犯罪证明', reply: '请核对', act: 'apply', service: SEED, awaiting: 'confirm', outcome: null, card: 'confirm' as const },
        { citizen: '先别提交<b>x</b>', reply: '已提交', act: 'confirm', service: SEED, awaiting: null, outcome: 'submitted', card: 'receipt' as const },
      ],
    }),
    ...extra,
  };
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
        [SEED]: tally(50, 50, 49),
        [ALPHA]: tally(20, 18, 18),
        [BETA]: tally(20, 20, 19),
        none: tally(110, 110, 108),
      },
      confusion: {
        services: [
          { expected: ALPHA, predicted: BETA, count: 2 },
          { expected: BETA, predicted: 'none', count: 1 },
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
          expected_service: ALPHA,
          predicted_service: BETA,
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
          [SEED]: tally(50, 45, 41),
          [ALPHA]: tally(20, 10, 9),
          [BETA]: tally(20, 15, 14),
          none: tally(110, 100, 98),
        },
      },
    },
    scenarios: {
      file: 'evals/data/scenarios.jsonl',
      n: 2,
      success_rate: 0.5,
      mean_turns: 2.5,
      mean_turns_by_service: { [SEED]: 2.5 },
      mean_turns_criminal_record: 2.5,
      by_outcome: { submitted: { n: 2, ok: 1 } },
      items: [
        {
          id: 's1', ok: true, turns: 2, outcome: 'submitted', expected: { outcome: 'submitted', max_turns: 3 }, failure: null,
          service: SEED, citizen: 'c-sun-ming', channel: 'app',
          application: { id: 'SA1', status: 'submitted', fields: { purpose: '出国(境)' } },
          transcript: [{ citizen: '我要开无犯罪记录证明', reply: '请问用途？', act: 'apply', service: SEED, awaiting: 'purpose', outcome: null, card: null }],
        },
        {
          id: 's2', ok: false, turns: 3, outcome: 'handoff', expected: { outcome: 'submitted', max_turns: 3 },
          failure: 'outcome handoff, expected submitted <script>window.__pwned=3</script>',
          service: SEED, citizen: 'c-liu-fang', channel: 'kiosk', application: null, transcript: [],
        },
      ],
    },
    conversations: {
      file: 'evals/data/conversations.test.jsonl', n: 40, success_rate: 0.975, turn_pass_rate: 0.9876, mean_turns: 3.1,
      turns_total: 124, turns_passed: 122,
      by_cover: { point0: { n: 20, ok: 19, pass_rate: 0.95 }, point9: { n: 20, ok: 20, pass_rate: 1 } },
      by_service: { [SEED]: { n: 40, ok: 39, pass_rate: 0.975 } },
      items: [conversation('cv1', true), conversation('cv2<i>', false)],
    },
    consent: {
      file: 'evals/data/consent.jsonl', n: 30, success_rate: 1, turn_pass_rate: 1, mean_turns: 2,
      wrongful_submissions: 0, wrongful: [], controls: 5, controls_submitted: 5, controls_not_submitted: [], errors: 0,
      by_kind: { negation: { n: 25, ok: 25, pass_rate: 1, wrongful: 0 }, control: { n: 5, ok: 5, pass_rate: 1, wrongful: 0 } },
      items: [conversation('cs1', true, { kind: 'negation', outcome: null, new_applications: 0 })],
    },
    retrieval: {
      file: 'evals/data/retrieval.jsonl', n: 40, recall_at_5: 0.975, mrr: 0.9021, section_n: 30, section_at_1: 0.8333, answer_section_accuracy: 0.9333,
      answer_service_accuracy: 0.9667,
      by_section: { 申请材料: { n: 10, section_at_1: 0.8, answer_section_accuracy: 0.9 } },
      by_service: { [SEED]: { n: 30, section_at_1: 0.8333, answer_section_accuracy: 0.9333, recall_at_5: 0.975 } },
      failures: [{ id: 'r9', question: '要带什么<u>材料</u>', expected: { service: SEED, sections: ['申请材料'] }, got: { service: SEED, section: '办理渠道', title: '办理渠道' }, via: 'chat' }],
    },
    warnings: [
      { file: 'x.jsonl', line: 3, id: 'n3', problem: 'unknown service id "<b>nope</b>"; item skipped', message: 'x.jsonl line 3 (n3): unknown service id "<b>nope</b>"; item skipped' },
    ],
    database: 'in-memory embedded database (PGlite)',
    service_names: { [SEED]: '有无犯罪记录证明', [ALPHA]: '甲事项', [BETA]: '乙事项' },
    gate: null,
    duration_ms: 12345,
  };
  return {
    ...base,
    nlu: { ...base.nlu, ...(overrides.nlu ?? {}) },
    scenarios: { ...base.scenarios, ...(overrides.scenarios ?? {}) },
    conversations: { ...base.conversations, ...(overrides.conversations ?? {}) },
    consent: { ...base.consent, ...(overrides.consent ?? {}) },
    retrieval: { ...base.retrieval, ...(overrides.retrieval ?? {}) },
  };
}
