/**
 * The eval gate (`npm run eval -- --gate`, run by .ci/run): every threshold below must hold.
 * A section that was not run (its dataset not selected) is reported as skipped.
 */
import type { Report } from './report.js';
import { CRIMINAL_RECORD } from './scenarios.js';

export const THRESHOLDS = {
  nlu_joint_accuracy: 0.95,
  nlu_act_accuracy: 0.97,
  nlu_slot_f1: 0.9,
  nlu_p95_ms: 20,
  scenarios_success_rate: 0.95,
  scenarios_mean_turns_criminal_record: 3,
  retrieval_recall_at_5: 0.95,
} as const;

export interface GateCheck {
  name: string;
  /** Human-readable condition, e.g. "nlu.joint_accuracy >= 0.95". */
  condition: string;
  actual: number | null;
  passed: boolean;
  skipped: boolean;
}

export interface GateResult {
  passed: boolean;
  checks: GateCheck[];
}

function atLeast(name: string, path: string, actual: number | null | undefined, min: number, skipped: boolean): GateCheck {
  const v = actual ?? null;
  return { name, condition: `${path} >= ${min}`, actual: v, skipped, passed: skipped || (v !== null && v >= min) };
}

function atMost(name: string, path: string, actual: number | null | undefined, max: number, skipped: boolean): GateCheck {
  const v = actual ?? null;
  return { name, condition: `${path} <= ${max}`, actual: v, skipped, passed: skipped || (v !== null && v <= max) };
}

export function evaluateGate(report: Report): GateResult {
  const t = THRESHOLDS;
  const checks: GateCheck[] = [];
  const nlu = report.nlu;
  const nluSkipped = nlu.skipped === true;
  checks.push(atLeast('NLU joint accuracy', 'nlu.joint_accuracy', nlu.joint_accuracy, t.nlu_joint_accuracy, nluSkipped));
  checks.push(atLeast('NLU act accuracy', 'nlu.act_accuracy', nlu.act_accuracy, t.nlu_act_accuracy, nluSkipped));
  // A set with no slot-annotated items has no slot F1 to gate on.
  checks.push(atLeast('NLU slot F1', 'nlu.slot_f1', nlu.slot_f1, t.nlu_slot_f1, nluSkipped || nlu.slot_items === 0));
  checks.push(atMost('NLU p95 latency (ms)', 'nlu.p95_ms', nlu.p95_ms, t.nlu_p95_ms, nluSkipped));
  const ours = nlu.joint_accuracy ?? null;
  const base = nlu.baseline?.joint_accuracy ?? null;
  checks.push({
    name: 'NLU joint accuracy beats NLP.js',
    condition: `nlu.joint_accuracy > nlu.baseline.joint_accuracy (${base ?? 'n/a'})`,
    actual: ours,
    skipped: nluSkipped,
    passed: nluSkipped || (ours !== null && base !== null && ours > base),
  });
  const sc = report.scenarios;
  const scSkipped = sc.skipped === true;
  checks.push(atLeast('Scenario success rate', 'scenarios.success_rate', sc.success_rate, t.scenarios_success_rate, scSkipped));
  // Likewise a scenario set without a criminal-record scenario.
  const noCriminal = !sc.items.some((i) => i.service === CRIMINAL_RECORD);
  checks.push(atMost('Criminal-record mean turns', 'scenarios.mean_turns_criminal_record', sc.mean_turns_criminal_record,
    t.scenarios_mean_turns_criminal_record, scSkipped || noCriminal));
  const rt = report.retrieval;
  checks.push(atLeast('Retrieval recall@5', 'retrieval.recall_at_5', rt.recall_at_5, t.retrieval_recall_at_5, rt.skipped === true));
  return { passed: checks.every((c) => c.passed), checks };
}

export function formatGate(g: GateResult): string {
  const lines = g.checks.map((c) => {
    const mark = c.skipped ? 'SKIP' : c.passed ? 'pass' : 'FAIL';
    const actual = c.actual === null ? 'n/a' : String(c.actual);
    return `  ${mark}  ${c.name}: ${actual}  (needs ${c.condition})`;
  });
  const failed = g.checks.filter((c) => !c.passed);
  const head = g.passed ? 'gate: passed' : `gate: FAILED (${failed.length} threshold${failed.length > 1 ? 's' : ''} missed: ${failed.map((c) => c.name).join(', ')})`;
  return [head, ...lines].join('\n');
}
