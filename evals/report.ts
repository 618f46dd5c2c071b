/**
 * report.json: the keys of shared/spec/EVAL.md, plus extras (warnings, per-act and
 * per-service accuracy, confusion pairs, latency, engine, generated_at). A section whose
 * dataset was not selected is present with `skipped: true` and null figures.
 */
import type { DatasetWarning } from './datasets.js';
import type { GateResult } from './gate.js';
import type { ConfusionPair, LatencyStats, NluMetrics, NluMistake, Tally } from './nlu.js';
import type { ScenarioMetrics, ScenarioResult } from './scenarios.js';
import type { SplitOffender } from './split.js';
import type { InjectionSection } from '../agent/llm/injection-eval.js';

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
  by_outcome?: ScenarioMetrics['by_outcome'];
  items: ScenarioResult[];
}

export interface RetrievalSection {
  skipped?: boolean;
  error?: string;
  file: string | null;
  n: number;
  recall_at_5: number | null;
  mrr: number | null;
  ingest_ms?: number;
  items?: unknown[];
}

export interface ReportWarning extends DatasetWarning {
  message: string;
}

export interface Report {
  generated_at: string;
  engine: { nlu: string; name: string | null; baseline: string };
  nlu: NluSection;
  scenarios: ScenarioSection;
  retrieval: RetrievalSection;
  warnings: ReportWarning[];
  /** Catalogue names of the service ids that appear in the report (for display). */
  service_names: Record<string, string>;
  gate: GateResult | null;
  duration_ms: number;
  /** Prompt-injection attempts (agent/llm/injection-eval.ts): {n, disclosed, unconfirmed_submissions, items}; absent when not run. */
  injection?: InjectionSection;
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

export function skippedRetrieval(reason: string): RetrievalSection {
  return { skipped: true, error: reason, file: null, n: 0, recall_at_5: null, mrr: null };
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
  const out: string[] = [];
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
      out.push(`  all ${failed.length} failed: ${failed[0]!.failure ?? ''}`);
    } else if (failed.length) {
      out.push(`  failed (${failed.length}):`);
      for (const f of failed.slice(0, 10)) out.push(`    ${f.id}: ${f.failure ?? ''}`);
      if (failed.length > 10) out.push(`    ... ${failed.length - 10} more in report.json`);
    }
    if (s.error) out.push(`  note: ${s.error}`);
  }
  const t = r.retrieval;
  if (t.skipped) {
    out.push(`Retrieval: skipped (${t.error ?? 'not selected'})`);
  } else if (t.error) {
    out.push(`Retrieval  (${t.file ?? ''}): not run (${t.error})`);
  } else {
    out.push(`Retrieval  (${t.n} items, ${t.file ?? ''})`);
    out.push(table([
      ['recall@5', pct(t.recall_at_5)],
      ['MRR', num(t.mrr, 3)],
    ]).replace(/^/gm, '  '));
  }
  return out.join('\n');
}
