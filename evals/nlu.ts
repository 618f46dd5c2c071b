/**
 * NLU scoring: runs an engine over NLU items (timing each call) and scores the predictions.
 * `scoreNlu` is pure so that its metrics can be checked on a hand-made set.
 */
import { performance } from 'node:perf_hooks';
import type { NluItem } from './datasets.js';
import { mean, percentile, ratio, round } from './stats.js';

/** What scoring needs from an engine's answer (an NluResult has more). */
export interface NluPrediction {
  act: string;
  service: string | null;
  slots: Record<string, string>;
}

/** Anything that understands text: the project's engines and the NLP.js baseline. */
export interface UnderstandingEngine {
  readonly name: string;
  understand(text: string): Promise<NluPrediction>;
}

export interface NluRecord {
  id: string;
  text: string;
  expected: { act: string; service: string | null; slots?: Record<string, string> };
  /** null when the engine threw on this item (counted wrong everywhere). */
  predicted: NluPrediction | null;
  error?: string;
  ms: number;
}

/**
 * Runs `engine` over `items` one at a time, timing each `understand` call. `warmup` texts are
 * understood first and not timed (so one-off JIT / lazy-load cost is not billed to item 1).
 */
export async function runNluEngine(
  engine: UnderstandingEngine,
  items: readonly NluItem[],
  opts: { warmup?: readonly string[]; onItem?: () => void } = {},
): Promise<NluRecord[]> {
  for (const text of opts.warmup ?? []) await engine.understand(text).catch(() => undefined);
  const out: NluRecord[] = [];
  for (const item of items) {
    const expected = { act: item.act, service: item.service, ...(item.slots ? { slots: item.slots } : {}) };
    const start = performance.now();
    try {
      const r = await engine.understand(item.text);
      const ms = performance.now() - start;
      out.push({
        id: item.id,
        text: item.text,
        expected,
        predicted: { act: r.act, service: r.service ?? null, slots: { ...(r.slots ?? {}) } },
        ms,
      });
    } catch (err) {
      out.push({ id: item.id, text: item.text, expected, predicted: null, error: (err as Error).message, ms: performance.now() - start });
    }
    opts.onItem?.();
  }
  return out;
}

// ------------------------------------------------------------------ scoring

export interface Tally {
  n: number;
  correct: number;
  accuracy: number | null;
  joint_accuracy: number | null;
}

export interface ConfusionPair {
  expected: string;
  predicted: string;
  count: number;
}

export interface LatencyStats {
  mean_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

export interface NluMistake {
  id: string;
  text: string;
  expected_act: string;
  predicted_act: string | null;
  expected_service: string | null;
  predicted_service: string | null;
  error?: string;
}

export interface NluMetrics {
  n: number;
  act_accuracy: number | null;
  service_accuracy: number | null;
  joint_accuracy: number | null;
  /** Micro F1 over the items that carry `slots`; null when none do. */
  slot_f1: number | null;
  slot_precision: number | null;
  slot_recall: number | null;
  /** Items with expected slots, and the slot counts behind the F1. */
  slot_items: number;
  slot_counts: { tp: number; fp: number; fn: number };
  p50_ms: number | null;
  p95_ms: number | null;
  latency: LatencyStats;
  /** Keyed by expected act: accuracy = act right. */
  per_act: Record<string, Tally>;
  /** Keyed by expected service id ('none' for null): accuracy = service right. */
  per_service: Record<string, Tally>;
  confusion: { services: ConfusionPair[]; acts: ConfusionPair[] };
  engine_errors: number;
  mistakes: NluMistake[];
}

export const NONE = 'none';
const key = (service: string | null | undefined): string => service ?? NONE;

export interface ScoreOptions {
  /** The field keys of a service: predicted slots are compared only on these keys. */
  fieldKeys?: (serviceId: string) => readonly string[] | undefined;
}

function tallyOf(n: number, correct: number, joint: number): Tally {
  return { n, correct, accuracy: round(ratio(correct, n)), joint_accuracy: round(ratio(joint, n)) };
}

function pairs(counts: Map<string, number>): ConfusionPair[] {
  return [...counts.entries()]
    .map(([k, count]) => {
      const [expected, predicted] = k.split('\u0000') as [string, string];
      return { expected, predicted, count };
    })
    .sort((a, b) => b.count - a.count || a.expected.localeCompare(b.expected) || a.predicted.localeCompare(b.predicted));
}

export function latencyStats(ms: readonly number[]): LatencyStats {
  const r = (v: number | null) => round(v, 3);
  return {
    mean_ms: r(mean(ms)),
    p50_ms: r(percentile(ms, 50)),
    p95_ms: r(percentile(ms, 95)),
    p99_ms: r(percentile(ms, 99)),
    max_ms: r(ms.length ? Math.max(...ms) : null),
  };
}

export function scoreNlu(records: readonly NluRecord[], opts: ScoreOptions = {}): NluMetrics {
  let actRight = 0;
  let serviceRight = 0;
  let jointRight = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let slotItems = 0;
  let errors = 0;
  const perAct = new Map<string, { n: number; correct: number; joint: number }>();
  const perService = new Map<string, { n: number; correct: number; joint: number }>();
  const serviceConfusion = new Map<string, number>();
  const actConfusion = new Map<string, number>();
  const mistakes: NluMistake[] = [];
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

  for (const r of records) {
    const p = r.predicted;
    if (!p) errors++;
    const actOk = p !== null && p.act === r.expected.act;
    const serviceOk = p !== null && key(p.service) === key(r.expected.service);
    const jointOk = actOk && serviceOk;
    if (actOk) actRight++;
    if (serviceOk) serviceRight++;
    if (jointOk) jointRight++;

    const a = perAct.get(r.expected.act) ?? { n: 0, correct: 0, joint: 0 };
    a.n++;
    if (actOk) a.correct++;
    if (jointOk) a.joint++;
    perAct.set(r.expected.act, a);

    const sk = key(r.expected.service);
    const s = perService.get(sk) ?? { n: 0, correct: 0, joint: 0 };
    s.n++;
    if (serviceOk) s.correct++;
    if (jointOk) s.joint++;
    perService.set(sk, s);

    const predictedService = p ? key(p.service) : '(error)';
    const predictedAct = p ? p.act : '(error)';
    if (!serviceOk) bump(serviceConfusion, `${sk}\u0000${predictedService}`);
    if (!actOk) bump(actConfusion, `${r.expected.act}\u0000${predictedAct}`);
    if (!jointOk) {
      mistakes.push({
        id: r.id,
        text: r.text,
        expected_act: r.expected.act,
        predicted_act: p?.act ?? null,
        expected_service: r.expected.service,
        predicted_service: p?.service ?? null,
        ...(r.error ? { error: r.error } : {}),
      });
    }

    // Slots: micro counts over items that carry expected slots. Predicted slots are compared
    // only on the keys of the expected service (or, if its keys are unknown, the expected keys).
    if (r.expected.slots) {
      slotItems++;
      const expectedSlots = r.expected.slots;
      const keys = new Set(
        (r.expected.service ? opts.fieldKeys?.(r.expected.service) : undefined) ?? Object.keys(expectedSlots),
      );
      for (const k of Object.keys(expectedSlots)) keys.add(k);
      const predicted = p?.slots ?? {};
      for (const k of keys) {
        const want = expectedSlots[k];
        const got = predicted[k];
        if (want !== undefined && got !== undefined && got === want) tp++;
        else {
          if (got !== undefined) fp++;
          if (want !== undefined) fn++;
        }
      }
    }
  }

  const n = records.length;
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  let f1: number | null = null;
  if (slotItems > 0) {
    f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  const latency = latencyStats(records.map((r) => r.ms));

  return {
    n,
    act_accuracy: round(ratio(actRight, n)),
    service_accuracy: round(ratio(serviceRight, n)),
    joint_accuracy: round(ratio(jointRight, n)),
    slot_f1: round(f1),
    slot_precision: round(slotItems ? (precision ?? 0) : null),
    slot_recall: round(slotItems ? (recall ?? 0) : null),
    slot_items: slotItems,
    slot_counts: { tp, fp, fn },
    p50_ms: latency.p50_ms,
    p95_ms: latency.p95_ms,
    latency,
    per_act: Object.fromEntries([...perAct.entries()].map(([k, v]) => [k, tallyOf(v.n, v.correct, v.joint)])),
    per_service: Object.fromEntries(
      [...perService.entries()].sort((x, y) => y[1].n - x[1].n || x[0].localeCompare(y[0])).map(([k, v]) => [k, tallyOf(v.n, v.correct, v.joint)]),
    ),
    confusion: { services: pairs(serviceConfusion), acts: pairs(actConfusion) },
    engine_errors: errors,
    mistakes,
  };
}
