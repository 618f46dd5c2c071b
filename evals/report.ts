/**
 * report.json: the keys of shared/spec/EVAL.md, plus extras (warnings, per-act and
 * per-service accuracy, confusion pairs, latency, engine, database, generated_at, the
 * consent and injection sets, the gate). A section whose dataset was not selected is present
 * with `skipped: true` and null figures. The gate's result types live here (gate.ts computes
 * them from a report).
 */
import type { ConsentMetrics, ConversationMetrics, ConversationResult } from './conversations.js';
import type { DatasetWarning } from './datasets.js';
import type { AttackSection } from './attacks.js';
import type { InjectionSection } from './injection.js';
import type { ConfusionPair, LatencyStats, NluMetrics, NluMistake, Tally } from './nlu.js';
import type { RetrievalMetrics } from './retrieval.js';
import type { BundleFigure } from './bundles.js';
import type { ScenarioMetrics, ScenarioResult } from './scenarios.js';
import type { SplitOffender } from './split.js';

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

export interface BaselineSection {
  name: string;
  n: number;
  act_accuracy: number | null;
  service_accuracy: number | null;
  joint_accuracy: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  train_ms: number;
  training_examples: number;
  per_act: Record<string, Tally>;
  per_service: Record<string, Tally>;
}

export interface NluSection {
  skipped?: boolean;
  /** Why figures are missing (skipped, or the run could not finish). */
  error?: string;
  file: string | null;
  engine: string | null;
  n: number;
  act_accuracy: number | null;
  service_accuracy: number | null;
  joint_accuracy: number | null;
  slot_f1: number | null;
  slot_precision?: number | null;
  slot_recall?: number | null;
  slot_items?: number;
  slot_counts?: NluMetrics['slot_counts'];
  p50_ms: number | null;
  p95_ms: number | null;
  latency?: LatencyStats;
  per_act?: Record<string, Tally>;
  per_service?: Record<string, Tally>;
  confusion?: { services: ConfusionPair[]; acts: ConfusionPair[] };
  engine_errors?: number;
  mistakes?: NluMistake[];
  /** Test items that copy / nearly copy a training utterance, and the figures without them. */
  split_check?: SplitCheck;
  baseline: BaselineSection | null;
}

export interface SplitCheck {
  training_examples: number;
  leaked: number;
  copies: number;
  near_copies: number;
  clean: {
    n: number;
    act_accuracy: number | null;
    service_accuracy: number | null;
    joint_accuracy: number | null;
    slot_f1: number | null;
    baseline_act_accuracy: number | null;
    baseline_service_accuracy: number | null;
    baseline_joint_accuracy: number | null;
  };
  offenders: SplitOffender[];
}

export interface ScenarioSection {
  skipped?: boolean;
  error?: string;
  file: string | null;
  n: number;
  success_rate: number | null;
  mean_turns: number | null;
  mean_turns_by_service: Record<string, number | null>;
  mean_turns_criminal_record: number | null;
  seed_service?: string;
  by_outcome?: ScenarioMetrics['by_outcome'];
  items: ScenarioResult[];
  /** 一件事: each bundle scenario done as the bundle and as its parts one by one (evals/bundles.ts). */
  bundles?: BundleFigure[];
}

export interface ConversationSection extends Partial<Omit<ConversationMetrics, 'n' | 'success_rate' | 'turn_pass_rate' | 'mean_turns' | 'items'>> {
  skipped?: boolean;
  error?: string;
  file: string | null;
  n: number;
  success_rate: number | null;
  turn_pass_rate: number | null;
  mean_turns: number | null;
  items: ConversationResult[];
}

/** A conversation-set section with the consent figures on top. */
export interface ConsentSection extends ConversationSection, Partial<Omit<ConsentMetrics, keyof ConversationMetrics | 'wrongful_submissions' | 'controls' | 'controls_submitted'>> {
  wrongful_submissions: number | null;
  controls: number;
  controls_submitted: number | null;
}

export interface RetrievalSection extends Partial<Omit<RetrievalMetrics, 'n' | 'recall_at_5' | 'mrr' | 'section_at_1' | 'answer_section_accuracy'>> {
  skipped?: boolean;
  error?: string;
  file: string | null;
  n: number;
  recall_at_5: number | null;
  mrr: number | null;
  section_at_1: number | null;
  answer_section_accuracy: number | null;
}

export interface ReportWarning extends DatasetWarning {
  message: string;
}

export interface Report {
  generated_at: string;
  engine: { nlu: string; name: string | null; baseline: string };
  /** Where the app and the knowledge base kept their data (DATABASE_URL or the in-memory default). */
  database: string;
  nlu: NluSection;
  scenarios: ScenarioSection;
  conversations: ConversationSection;
  consent: ConsentSection;
  retrieval: RetrievalSection;
  warnings: ReportWarning[];
  /** Catalogue names of the service ids that appear in the report (for display). */
  service_names: Record<string, string>;
  gate: GateResult | null;
  duration_ms: number;
  /** Prompt-injection attempts (evals/injection.ts): {n, disclosed, unconfirmed_submissions, items}; absent when not run. */
  injection?: InjectionSection;
  /** Attacks on HTTP, the WebSocket and MCP (evals/attacks.ts); absent when not run. */
  attacks?: AttackSection;
}

export function skippedNlu(reason: string): NluSection {
  return {
    skipped: true, error: reason, file: null, engine: null, n: 0,
    act_accuracy: null, service_accuracy: null, joint_accuracy: null, slot_f1: null, p50_ms: null, p95_ms: null, baseline: null,
  };
}

export function skippedScenarios(reason: string): ScenarioSection {
  return {
    skipped: true, error: reason, file: null, n: 0, success_rate: null, mean_turns: null,
    mean_turns_by_service: {}, mean_turns_criminal_record: null, items: [],
  };
}

export function skippedConversations(reason: string): ConversationSection {
  return { skipped: true, error: reason, file: null, n: 0, success_rate: null, turn_pass_rate: null, mean_turns: null, items: [] };
}

export function skippedConsent(reason: string): ConsentSection {
  return {
    skipped: true, error: reason, file: null, n: 0, success_rate: null, turn_pass_rate: null, mean_turns: null,
    wrongful_submissions: null, controls: 0, controls_submitted: null, items: [],
  };
}

export function skippedRetrieval(reason: string): RetrievalSection {
  return { skipped: true, error: reason, file: null, n: 0, recall_at_5: null, mrr: null, section_at_1: null, answer_section_accuracy: null };
}

// ------------------------------------------------------------------ console table

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? 'n/a' : v.toFixed(digits));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => displayWidth(r[i] ?? ''))));
  return rows.map((r) => r.map((c, i) => c + ' '.repeat(widths[i]! - displayWidth(c))).join('  ').trimEnd()).join('\n');
}

/** Terminal columns of a string (CJK characters take two). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

/** The short table printed to stdout. */
export function formatSummary(r: Report): string {
  const out: string[] = [`Database: ${r.database}`];
  const n = r.nlu;
  if (n.skipped) {
    out.push(`NLU: skipped (${n.error ?? 'not selected'})`);
  } else if (n.error && n.n === 0) {
    out.push(`NLU: not run (${n.error})`);
  } else {
    const b = n.baseline;
    out.push(`NLU  (${n.n} items, ${n.file ?? ''})`);
    out.push(table([
      ['', `ours (${n.engine ?? '?'})`, b ? `baseline (${b.name})` : 'baseline'],
      ['act accuracy', pct(n.act_accuracy), pct(b?.act_accuracy)],
      ['service accuracy', pct(n.service_accuracy), pct(b?.service_accuracy)],
      ['joint accuracy', pct(n.joint_accuracy), pct(b?.joint_accuracy)],
      ['slot F1', `${pct(n.slot_f1)} (${n.slot_items ?? 0} items)`, '-'],
      ['latency p50 / p95 ms', `${num(n.p50_ms)} / ${num(n.p95_ms)}`, b ? `${num(b.p50_ms)} / ${num(b.p95_ms)}` : 'n/a'],
    ]).replace(/^/gm, '  '));
    const sc = n.split_check;
    if (sc && sc.leaked > 0) {
      out.push(`  split check: ${sc.leaked} items copy (${sc.copies}) or nearly copy (${sc.near_copies}) a training utterance;`);
      out.push(`    on the ${sc.clean.n} clean items: joint ${pct(sc.clean.joint_accuracy)} (act ${pct(sc.clean.act_accuracy)}, service ${pct(sc.clean.service_accuracy)}), baseline joint ${pct(sc.clean.baseline_joint_accuracy)}`);
    }
    const top = (n.confusion?.services ?? []).slice(0, 5);
    if (top.length) out.push(`  most confused services: ${top.map((c) => `${c.expected} -> ${c.predicted} (${c.count})`).join(', ')}`);
    if (n.error) out.push(`  note: ${n.error}`);
  }
  const s = r.scenarios;
  if (s.skipped) {
    out.push(`Scenarios: skipped (${s.error ?? 'not selected'})`);
  } else {
    out.push(`Scenarios  (${s.n} items, ${s.file ?? ''})`);
    out.push(table([
      ['success rate', pct(s.success_rate)],
      ['mean turns', num(s.mean_turns)],
      ['mean turns, criminal record', num(s.mean_turns_criminal_record)],
    ]).replace(/^/gm, '  '));
    const failed = s.items.filter((i) => !i.ok);
    const reasons = new Set(failed.map((f) => f.failure));
    if (failed.length > 1 && reasons.size === 1) {
      out.push(`  failed (${failed.length}, one reason): ${failed.map((f) => f.id).slice(0, 10).join(', ')}${failed.length > 10 ? ', …' : ''}: ${failed[0]!.failure ?? ''}`);
    } else if (failed.length) {
      out.push(`  failed (${failed.length}):`);
      for (const f of failed.slice(0, 10)) out.push(`    ${f.id}: ${f.failure ?? ''}`);
      if (failed.length > 10) out.push(`    ... ${failed.length - 10} more in report.json`);
    }
    for (const b of s.bundles ?? []) {
      out.push(`  ${b.name} (${b.scenario}, ${b.citizen}): ${b.together.turns} turns / ${b.together.fields_asked} fields asked as one, `
        + `${b.one_by_one.turns} / ${b.one_by_one.fields_asked} for its ${b.one_by_one.services.length} parts one by one `
        + `(${pct(b.turns_saved)} fewer turns, ${pct(b.fields_saved)} fewer questions)${b.together.ok && b.one_by_one.ok ? '' : '; a run did not complete'}`);
    }
    if (s.error) out.push(`  note: ${s.error}`);
  }
  out.push(...conversationLines('Conversations', r.conversations));
  const c = r.consent;
  if (c.skipped) {
    out.push(`Consent: skipped (${c.error ?? 'not selected'})`);
  } else {
    out.push(`Consent  (${c.n} items, ${c.file ?? ''})`);
    out.push(table([
      ['wrongful submissions', `${c.wrongful_submissions ?? 'n/a'} of ${c.n - c.controls} attempts`],
      ['controls submitted', `${c.controls_submitted ?? 'n/a'} of ${c.controls}`],
      ['items passing every check', pct(c.success_rate)],
    ]).replace(/^/gm, '  '));
    if (c.wrongful?.length) out.push(`  submitted although they should not: ${c.wrongful.join(', ')}`);
    if (c.controls_not_submitted?.length) out.push(`  controls that did not submit: ${c.controls_not_submitted.join(', ')}`);
    if (c.errors) out.push(`  ${c.errors} item(s) could not be played to the end (see report.json)`);
    if (c.error) out.push(`  note: ${c.error}`);
  }
  const t = r.retrieval;
  if (t.skipped) {
    out.push(`Retrieval: skipped (${t.error ?? 'not selected'})`);
  } else if (t.error && t.recall_at_5 === null) {
    out.push(`Retrieval  (${t.file ?? ''}): not run (${t.error})`);
  } else {
    out.push(`Retrieval  (${t.n} items, ${t.section_n ?? 0} with sections, ${t.file ?? ''})`);
    out.push(table([
      ['recall@5', pct(t.recall_at_5)],
      ['MRR', num(t.mrr, 3)],
      ['section@1 (first search hit)', pct(t.section_at_1)],
      ['answer section accuracy (chat)', pct(t.answer_section_accuracy)],
    ]).replace(/^/gm, '  '));
    const weak = Object.entries(t.by_section ?? {})
      .filter(([, v]) => v.answer_section_accuracy !== null)
      .sort((a, b) => (a[1].answer_section_accuracy ?? 0) - (b[1].answer_section_accuracy ?? 0))
      .slice(0, 4);
    if (weak.length) out.push(`  weakest sections (chat): ${weak.map(([k, v]) => `${k} ${pct(v.answer_section_accuracy)} (n=${v.n})`).join(', ')}`);
    if (t.error) out.push(`  note: ${t.error}`);
  }
  return out.join('\n');
}

/** The lines of a conversation-set section (also the shape of the consent set's details). */
function conversationLines(title: string, s: ConversationSection): string[] {
  const out: string[] = [];
  if (s.skipped) return [`${title}: skipped (${s.error ?? 'not selected'})`];
  out.push(`${title}  (${s.n} items, ${s.file ?? ''})`);
  out.push(table([
    ['success rate', pct(s.success_rate)],
    ['turn pass rate', pct(s.turn_pass_rate)],
    ['mean turns', num(s.mean_turns)],
  ]).replace(/^/gm, '  '));
  const covers = Object.entries(s.by_cover ?? {}).filter(([, v]) => v.ok < v.n);
  if (covers.length) out.push(`  below 100% by covers: ${covers.map(([k, v]) => `${k} ${v.ok}/${v.n}`).join(', ')}`);
  const failed = s.items.filter((i) => !i.ok);
  if (failed.length) {
    out.push(`  failed (${failed.length}):`);
    for (const f of failed.slice(0, 15)) out.push(`    ${f.id}: ${f.failed.slice(0, 2).join('; ')}${f.failed.length > 2 ? ` (+${f.failed.length - 2} more)` : ''}`);
    if (failed.length > 15) out.push(`    ... ${failed.length - 15} more in report.json`);
  }
  if (s.error) out.push(`  note: ${s.error}`);
  return out;
}
