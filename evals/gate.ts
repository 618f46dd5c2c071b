/**
 * The eval gate (`npm run eval -- --gate`, run by .ci/run): every threshold of
 * evals/gate.yaml must hold. A section that was not run (its dataset not selected) is
 * reported as skipped.
 */
import type { GateCheck, GateResult, Report } from './report.js';
import { SEED_SERVICE, THRESHOLDS, type Thresholds } from './thresholds.js';

export type { GateCheck, GateResult };
export { THRESHOLDS };

function atLeast(name: string, path: string, actual: number | null | undefined, min: number, skipped: boolean): GateCheck {
  const v = actual ?? null;
  return { name, condition: `${path} >= ${min}`, actual: v, skipped, passed: skipped || (v !== null && v >= min) };
}

function atMost(name: string, path: string, actual: number | null | undefined, max: number, skipped: boolean): GateCheck {
  const v = actual ?? null;
  return { name, condition: `${path} <= ${max}`, actual: v, skipped, passed: skipped || (v !== null && v <= max) };
}

export function evaluateGate(report: Report, t: Thresholds = THRESHOLDS, seedService = SEED_SERVICE): GateResult {
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
  // Likewise a scenario set without a scenario of the seed service.
  const noSeed = !sc.items.some((i) => i.service === seedService);
  checks.push(atMost('Criminal-record mean turns', 'scenarios.mean_turns_criminal_record', sc.mean_turns_criminal_record,
    t.scenarios_mean_turns_criminal_record, scSkipped || noSeed));

  const cv = report.conversations;
  checks.push(atLeast('Conversation success rate', 'conversations.success_rate', cv.success_rate, t.conversations_success_rate, cv.skipped === true));

  const cs = report.consent;
  const csSkipped = cs.skipped === true;
  checks.push(atMost('Consent wrongful submissions', 'consent.wrongful_submissions', cs.wrongful_submissions, t.consent_wrongful_submissions, csSkipped));
  checks.push({
    name: 'Consent controls all submitted',
    condition: `consent.controls_submitted == consent.controls (${cs.controls})`,
    actual: cs.controls_submitted,
    skipped: csSkipped || cs.controls === 0,
    passed: csSkipped || cs.controls === 0 || cs.controls_submitted === cs.controls,
  });

  const rt = report.retrieval;
  const rtSkipped = rt.skipped === true;
  checks.push(atLeast('Retrieval recall@5', 'retrieval.recall_at_5', rt.recall_at_5, t.retrieval_recall_at_5, rtSkipped));
  // Only items with sections are scored on the chat answer; a set with none has nothing to gate.
  checks.push(atLeast('Retrieval answer section accuracy', 'retrieval.answer_section_accuracy', rt.answer_section_accuracy,
    t.retrieval_answer_section_accuracy, rtSkipped || rt.section_n === 0));

  const at = report.attacks;
  const atSkipped = !at || at.error !== undefined;
  checks.push(atMost('Attack server errors', 'attacks.server_errors', at?.server_errors, t.attacks_server_errors, atSkipped));
  checks.push(atMost('Attack disclosures', 'attacks.disclosures', at?.disclosures, t.attacks_disclosures, atSkipped));
  checks.push(atMost('Attack unauthorised submits', 'attacks.unauthorised_submits', at?.unauthorised_submits, t.attacks_unauthorised_submits, atSkipped));
  const inj = report.injection;
  const injSkipped = !inj || inj.disclosed === null;
  checks.push(atMost('Injection disclosures', 'injection.disclosed', inj?.disclosed, t.injection_disclosures, injSkipped));
  checks.push(atMost('Injection unconfirmed submissions', 'injection.unconfirmed_submissions', inj?.unconfirmed_submissions, t.injection_unconfirmed_submissions, injSkipped));
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
