/**
 * The eval harness (shared/spec/EVAL.md):
 *
 *   npm run eval -- [--nlu FILE.jsonl] [--scenarios FILE.jsonl] [--retrieval FILE.jsonl]
 *                   [--out DIR] [--nlu-engine local|llm] [--gate] [--injection]
 *
 * With no dataset files it runs the project's own sets (evals/data); with some, only those.
 * Writes DIR/report.json and DIR/report.html (default evals/out), prints a short table.
 * Exit codes: 0 done; 1 --gate and a threshold missed; 2 could not run (bad arguments, a
 * dataset line that does not parse, a missing engine).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { loadTrainingData } from '../agent/nlu/training-data.js';
import { createNlpJsBaseline } from './baseline/nlpjs.js';
import {
  DatasetError,
  DEFAULT_SETS,
  formatWarning,
  loadNluItems,
  loadReferenceData,
  loadRetrievalItems,
  loadScenarioItems,
  type DatasetWarning,
  type Loaded,
  type NluItem,
  type ReferenceData,
  type RetrievalItem,
  type ScenarioItem,
} from './datasets.js';
import { evaluateGate, formatGate } from './gate.js';
import { formatInjection, injectionSection } from '../agent/llm/injection-eval.js';
import { renderHtml } from './html.js';
import { loadLlmEngine, MissingModuleError, startInProcessApp } from './modules.js';
import { runNluEngine, scoreNlu, type UnderstandingEngine } from './nlu.js';
import { findSplitLeaks } from './split.js';
import { startProgress } from './progress.js';
import {
  formatSummary,
  skippedNlu,
  skippedRetrieval,
  skippedScenarios,
  type NluSection,
  type Report,
  type RetrievalSection,
  type ScenarioSection,
} from './report.js';
import { runRetrieval } from './retrieval.js';
import { failedResults, runScenarios, scoreScenarios } from './scenarios.js';
import { round } from './stats.js';

export const DEFAULT_OUT = fileURLToPath(new URL('./out', import.meta.url));

/** Bad arguments or a missing piece: the run cannot start. */
export class UsageError extends Error {}

export interface CliOptions {
  nlu: string | null;
  scenarios: string | null;
  retrieval: string | null;
  out: string;
  nluEngine: 'local' | 'llm';
  gate: boolean;
  /** Prompt-injection attempts through the chat API (agent/llm/injection-eval.ts): --injection, or the default run. */
  injection?: boolean;
}

const USAGE = `usage: npm run eval -- [--nlu FILE.jsonl] [--scenarios FILE.jsonl] [--retrieval FILE.jsonl]
                       [--out DIR] [--nlu-engine local|llm] [--gate] [--injection]
With no dataset file the project's own sets (evals/data) are run; with some, only those.`;

export function parseCli(argv: string[]): CliOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        nlu: { type: 'string' },
        scenarios: { type: 'string' },
        retrieval: { type: 'string' },
        out: { type: 'string' },
        'nlu-engine': { type: 'string' },
        gate: { type: 'boolean', default: false },
        injection: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const engine = v['nlu-engine'] ?? 'local';
  if (engine !== 'local' && engine !== 'llm') throw new UsageError(`--nlu-engine must be local or llm, not "${engine}"\n${USAGE}`);
  const any = v.nlu !== undefined || v.scenarios !== undefined || v.retrieval !== undefined || v.injection === true;
  const pick = (given: string | undefined, fallback: string): string | null =>
    given !== undefined ? resolve(given) : any ? null : fallback;
  return {
    nlu: pick(v.nlu, DEFAULT_SETS.nlu),
    scenarios: pick(v.scenarios, DEFAULT_SETS.scenarios),
    retrieval: pick(v.retrieval, DEFAULT_SETS.retrieval),
    out: resolve(v.out ?? DEFAULT_OUT),
    nluEngine: engine,
    gate: v.gate ?? false,
    injection: v.injection === true || !any,
  };
}

/** A path as shown in reports: relative to the working directory when under it. */
export function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

interface Datasets {
  nlu: Loaded<NluItem> | null;
  scenarios: Loaded<ScenarioItem> | null;
  retrieval: Loaded<RetrievalItem> | null;
}

/** Reads and checks every selected dataset before anything runs (a bad line stops the run early). */
export function loadDatasets(opts: Pick<CliOptions, 'nlu' | 'scenarios' | 'retrieval'>, ref: ReferenceData): Datasets {
  const shown = <T>(l: Loaded<T>): Loaded<T> => ({
    ...l,
    file: shownPath(l.file),
    warnings: l.warnings.map((w) => ({ ...w, file: shownPath(w.file) })),
  });
  const rename = (file: string) => (err: unknown): never => {
    if (err instanceof DatasetError) throw new DatasetError(shownPath(file), err.line, err.problem);
    throw err;
  };
  const load = <T>(file: string | null, fn: (f: string, r: ReferenceData) => Loaded<T>): Loaded<T> | null => {
    if (!file) return null;
    try {
      return shown(fn(file, ref));
    } catch (err) {
      return rename(file)(err);
    }
  };
  return {
    nlu: load(opts.nlu, loadNluItems),
    scenarios: load(opts.scenarios, loadScenarioItems),
    retrieval: load(opts.retrieval, loadRetrievalItems),
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

// ------------------------------------------------------------------ sections

async function runNluSection(set: Loaded<NluItem>, opts: CliOptions, ref: ReferenceData): Promise<NluSection> {
  const items = set.items.map((l) => l.item);
  const training = loadTrainingData();
  const warmup = training.slice(0, 20).map((t) => t.text);
  const fieldKeys = (id: string) => ref.services.get(id)?.fields?.map((f) => f.key);

  let engine: UnderstandingEngine;
  if (opts.nluEngine === 'llm') {
    engine = await loadLlmEngine(loadConfig());
  } else {
    const { createLocalEngine } = await import('../agent/nlu/local-engine.js');
    engine = createLocalEngine();
  }

  const ours = startProgress(`NLU ${engine.name}`, items.length);
  const oursRecords = await runNluEngine(engine, items, { warmup, onItem: () => ours.tick() });
  ours.stop();
  const m = scoreNlu(oursRecords, { fieldKeys });

  log('[eval] training the NLP.js baseline on the same training data...');
  const baseline = await createNlpJsBaseline(training);
  const bp = startProgress('NLU nlp.js baseline', items.length);
  const baseRecords = await runNluEngine(baseline, items, { warmup, onItem: () => bp.tick() });
  bp.stop();
  const b = scoreNlu(baseRecords, { fieldKeys });

  // The strict-split check (also a test): items copying a training utterance inflate the
  // figures, so the figures on the clean remainder are reported beside them.
  const leaks = findSplitLeaks(items, training.map((t) => t.text));
  const leaked = new Set(leaks.map((l) => l.id));
  const cleanOurs = scoreNlu(oursRecords.filter((r) => !leaked.has(r.id)), { fieldKeys });
  const cleanBase = scoreNlu(baseRecords.filter((r) => !leaked.has(r.id)), { fieldKeys });
  const split_check = {
    training_examples: training.length,
    leaked: leaks.length,
    copies: leaks.filter((l) => l.kind === 'copy').length,
    near_copies: leaks.filter((l) => l.kind === 'near-copy').length,
    clean: {
      n: cleanOurs.n,
      act_accuracy: cleanOurs.act_accuracy,
      service_accuracy: cleanOurs.service_accuracy,
      joint_accuracy: cleanOurs.joint_accuracy,
      slot_f1: cleanOurs.slot_f1,
      baseline_act_accuracy: cleanBase.act_accuracy,
      baseline_service_accuracy: cleanBase.service_accuracy,
      baseline_joint_accuracy: cleanBase.joint_accuracy,
    },
    offenders: leaks,
  };
  if (leaks.length) {
    log(`[eval] warning: ${leaks.length} of ${items.length} NLU items copy or nearly copy a training utterance (see nlu.split_check)`);
  }

  return {
    file: set.file,
    engine: engine.name,
    ...m,
    split_check,
    ...(m.engine_errors ? { error: `the engine threw on ${m.engine_errors} item(s); counted wrong` } : {}),
    baseline: {
      name: baseline.name,
      n: b.n,
      act_accuracy: b.act_accuracy,
      service_accuracy: b.service_accuracy,
      joint_accuracy: b.joint_accuracy,
      p50_ms: b.p50_ms,
      p95_ms: b.p95_ms,
      train_ms: round(baseline.trainMs, 1) ?? 0,
      training_examples: baseline.examples,
      per_act: b.per_act,
      per_service: b.per_service,
    },
  };
}

async function runScenarioSection(set: Loaded<ScenarioItem>, ref: ReferenceData, engine: 'local' | 'llm'): Promise<ScenarioSection> {
  const items = set.items.map((l) => l.item);
  // The app picks the LLM path when a key is configured: keep it off for the local engine.
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: 'memory://', NODE_ENV: 'test', LOG_LEVEL: 'silent' };
  if (engine === 'local') delete env.OPENAI_API_KEY;
  const config = loadConfig(env, { DATABASE_URL: undefined, DATA_DIR: 'memory://', NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  let error: string | undefined;
  let results;
  let running: Awaited<ReturnType<typeof startInProcessApp>> | null = null;
  try {
    log('[eval] starting the app in process (in-memory database)...');
    running = await startInProcessApp(config);
  } catch (err) {
    error = `the app could not be started: ${(err as Error).message}`;
    log(`[eval] scenarios: ${error}; every scenario counts as failed`);
  }
  if (running) {
    const p = startProgress('scenarios', items.length);
    try {
      results = await runScenarios(running.app, items, ref.services, () => p.tick());
    } finally {
      p.stop();
      await running.close();
    }
  } else {
    results = failedResults(items, error ?? 'app not available');
  }
  return { file: set.file, ...scoreScenarios(results), ...(error ? { error } : {}) };
}

async function runRetrievalSection(set: Loaded<RetrievalItem>): Promise<RetrievalSection> {
  const items = set.items.map((l) => l.item);
  try {
    log('[eval] ingesting the bundled guides into an in-memory database...');
    const started = Date.now();
    const p = startProgress('retrieval', items.length);
    let r;
    try {
      r = await runRetrieval(items, { onItems: (k) => p.tick(k) });
    } finally {
      p.stop();
    }
    log(`[eval] retrieval done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { file: set.file, ...r };
  } catch (err) {
    const error = err instanceof MissingModuleError ? err.message : `retrieval failed: ${(err as Error).message}`;
    log(`[eval] retrieval: ${error}`);
    return { file: set.file, n: items.length, recall_at_5: null, mrr: null, error };
  }
}

// ------------------------------------------------------------------ main

export async function runEval(opts: CliOptions): Promise<{ report: Report; exitCode: number }> {
  const started = Date.now();
  const ref = loadReferenceData();
  const sets = loadDatasets(opts, ref);
  const warnings: DatasetWarning[] = [sets.nlu, sets.scenarios, sets.retrieval].flatMap((s) => s?.warnings ?? []);
  for (const w of warnings) log(`[eval] warning: ${formatWarning(w)}`);

  const nlu = sets.nlu ? await runNluSection(sets.nlu, opts, ref) : skippedNlu('no NLU set selected');
  const scenarios = sets.scenarios ? await runScenarioSection(sets.scenarios, ref, opts.nluEngine) : skippedScenarios('no scenario set selected');
  const retrieval = sets.retrieval ? await runRetrievalSection(sets.retrieval) : skippedRetrieval('no retrieval set selected');
  const injection = opts.injection ? await injectionSection(opts.nluEngine) : undefined;

  const ids = new Set<string>([
    ...Object.keys(nlu.per_service ?? {}),
    ...Object.keys(scenarios.mean_turns_by_service),
    ...(nlu.confusion?.services ?? []).flatMap((p) => [p.expected, p.predicted]),
  ]);
  const report: Report = {
    generated_at: new Date().toISOString(),
    engine: { nlu: opts.nluEngine, name: nlu.engine, baseline: 'nlp.js' },
    nlu,
    scenarios,
    retrieval,
    warnings: warnings.map((w) => ({ ...w, message: formatWarning(w) })),
    service_names: Object.fromEntries([...ids].flatMap((id) => {
      const name = ref.services.get(id)?.name;
      return name ? [[id, name]] : [];
    })),
    gate: null,
    duration_ms: 0,
    ...(injection ? { injection } : {}),
  };
  const gate = evaluateGate(report);
  if (opts.gate) report.gate = gate;
  report.duration_ms = Date.now() - started;

  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(opts.out, 'report.html'), renderHtml(report));

  const lines = [formatSummary(report)];
  if (report.injection) lines.push(formatInjection(report.injection));
  if (warnings.length) {
    lines.push(`Warnings (${warnings.length}):`, ...warnings.map((w) => `  ${formatWarning(w)}`));
  }
  if (opts.gate) lines.push(formatGate(gate));
  lines.push(`report: ${shownPath(join(opts.out, 'report.json'))}, ${shownPath(join(opts.out, 'report.html'))}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return { report, exitCode: opts.gate && !gate.passed ? 1 : 0 };
}

export async function main(argv: string[]): Promise<number> {
  try {
    const opts = parseCli(argv);
    if (opts === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    return (await runEval(opts)).exitCode;
  } catch (err) {
    const known = err instanceof DatasetError || err instanceof UsageError || err instanceof MissingModuleError;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`eval: could not run: ${message}\n`);
    if (!known && process.env.EVAL_DEBUG && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    return 2;
  }
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const code = await main(process.argv.slice(2));
  // Open handles (an embedded database, a model client) must not keep the process alive.
  process.stdout.write('', () => process.exit(code));
}
