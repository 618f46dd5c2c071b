/**
 * Dev scorer for the local NLU engine over an NLU jsonl (evals EVAL.md format).
 *
 *   npx tsx agent/nlu/score-dev.ts [FILE] [--errors] [--json]
 *
 * Prints act / service / joint accuracy, slot precision / recall / F1 (micro, over items that
 * carry `slots`), p50 / p95 latency per utterance, and with --errors every miss.
 * An item may carry an optional `context: {service, awaiting}` passed to the engine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { createLocalEngine } from './local-engine.js';
import { REPO_ROOT } from './training-data.js';
import { ACTS, type NluResult } from './types.js';

const itemSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  text: z.string(),
  act: z.enum(ACTS),
  service: z.string().nullable(),
  slots: z.record(z.string(), z.string()).optional(),
  context: z.object({ service: z.string().nullable().optional(), awaiting: z.string().nullable().optional() }).optional(),
});
type Item = z.output<typeof itemSchema>;

export interface NluScore {
  n: number;
  act_accuracy: number;
  service_accuracy: number;
  joint_accuracy: number;
  slot_precision: number;
  slot_recall: number;
  slot_f1: number;
  p50_ms: number;
  p95_ms: number;
  clarification_rate: number;
  mean_confidence_right: number;
  mean_confidence_wrong: number;
}

export function readNluItems(file: string): Item[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const items: Item[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    const parsed = itemSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${file}:${i + 1}: ${z.prettifyError(parsed.error)}`);
    items.push(parsed.data);
  });
  return items;
}

function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--')) ?? join(REPO_ROOT, 'evals', 'data', 'nlu.dev.jsonl');
  const showErrors = args.includes('--errors');
  const asJson = args.includes('--json');
  const items = readNluItems(file);

  const engine = createLocalEngine();
  // Warm-up so that JIT compilation is not billed to the first items.
  for (const it of items.slice(0, 20)) engine.understandSync(it.text);

  const latencies: number[] = [];
  let act = 0;
  let svc = 0;
  let joint = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let clarify = 0;
  const buckets = [0, 0.3, 0.5, 0.7, 0.9, 1.01].map((lo) => ({ lo, n: 0, ok: 0 }));
  const confRight: number[] = [];
  const confWrong: number[] = [];
  const errors: string[] = [];
  for (const it of items) {
    const ctx = it.context ? { service: it.context.service ?? null, awaiting: it.context.awaiting ?? null } : undefined;
    const t0 = performance.now();
    const res: NluResult = await engine.understand(it.text, ctx);
    latencies.push(performance.now() - t0);
    const aOk = res.act === it.act;
    const sOk = res.service === it.service;
    act += aOk ? 1 : 0;
    svc += sOk ? 1 : 0;
    joint += aOk && sOk ? 1 : 0;
    if (res.needsClarification) clarify++;
    (aOk && sOk ? confRight : confWrong).push(res.confidence);
    const b = [...buckets].reverse().find((x) => res.confidence >= x.lo)!;
    b.n++;
    b.ok += aOk && sOk ? 1 : 0;
    let slotOk = true;
    if (it.slots) {
      for (const [k, v] of Object.entries(res.slots)) {
        if (it.slots[k] === v) tp++;
        else {
          fp++;
          slotOk = false;
        }
      }
      for (const [k, v] of Object.entries(it.slots)) {
        if (res.slots[k] !== v) {
          fn++;
          slotOk = false;
        }
      }
    }
    if (!(aOk && sOk && slotOk)) {
      errors.push(
        `${it.id}\t${it.text}\n\texpected ${it.act} ${it.service} ${JSON.stringify(it.slots ?? {})}\n\tgot      ${res.act} ${res.service} ${JSON.stringify(res.slots)} conf=${res.confidence}${res.needsClarification ? ' CLARIFY' : ''} cands=${res.candidates
          .slice(0, 3)
          .map((c) => `${c.service}:${c.score}`)
          .join(',')}`,
      );
    }
  }
  const n = items.length || 1;
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const score: NluScore = {
    n: items.length,
    act_accuracy: r3(act / n),
    service_accuracy: r3(svc / n),
    joint_accuracy: r3(joint / n),
    slot_precision: r3(precision),
    slot_recall: r3(recall),
    slot_f1: r3(precision + recall ? (2 * precision * recall) / (precision + recall) : 0),
    p50_ms: r3(percentile(sorted, 0.5)),
    p95_ms: r3(percentile(sorted, 0.95)),
    clarification_rate: r3(clarify / n),
    mean_confidence_right: r3(mean(confRight)),
    mean_confidence_wrong: r3(mean(confWrong)),
  };
  if (asJson) {
    console.log(JSON.stringify({ file, engine: engine.name, build_ms: r3(engine.buildMs), ...score }, null, 2));
  } else {
    if (showErrors) console.log(errors.join('\n'));
    console.log(`file            ${file}`);
    console.log(`engine          ${engine.name} (built in ${engine.buildMs.toFixed(0)} ms on ${engine.trainingSize} examples)`);
    console.log(`items           ${score.n}`);
    console.log(`act accuracy    ${score.act_accuracy}`);
    console.log(`service acc.    ${score.service_accuracy}`);
    console.log(`joint accuracy  ${score.joint_accuracy}`);
    console.log(`slot P/R/F1     ${score.slot_precision} / ${score.slot_recall} / ${score.slot_f1}`);
    console.log(`latency p50/p95 ${score.p50_ms} / ${score.p95_ms} ms`);
    console.log(`clarify rate    ${score.clarification_rate}`);
    console.log(`confidence      right ${score.mean_confidence_right} / wrong ${score.mean_confidence_wrong}`);
    console.log(
      `reliability     ${buckets
        .slice(0, -1)
        .map((b, i) => `[${b.lo},${buckets[i + 1]!.lo >= 1 ? 1 : buckets[i + 1]!.lo}) ${b.n ? `${b.ok}/${b.n}` : '-'}`)
        .join('  ')}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
