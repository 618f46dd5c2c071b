/**
 * The eval harness (shared/spec/EVAL.md):
 *
 *   npm run eval -- [--nlu FILE.jsonl] [--scenarios FILE.jsonl] [--conversations FILE.jsonl]
 *                   [--consent FILE.jsonl] [--retrieval FILE.jsonl] [--out DIR]
 *                   [--nlu-engine local|llm] [--gate] [--injection]
 *
 * With no dataset files it runs the project's own sets (evals/data); with some, only those.
 * Everything that talks to the product goes through one app started in process (app/) on the
 * configured database: DATABASE_URL when set, else an in-memory one.
 * Writes DIR/report.json and DIR/report.html (default evals/out), prints a short table.
 * Exit codes: 0 done; 1 --gate and a threshold missed; 2 could not run (bad arguments, a
 * dataset line that does not parse, a missing model key for the llm engine).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLlmEngine } from '../agent/nlu/llm-engine.js';
import { createLocalEngine } from '../agent/nlu/engine.js';
import { loadTrainingData } from '../agent/nlu/training-data.js';
import type { Config } from '../core/config.js';
import { openDatabase } from '../core/db.js';
import { catalogue } from '../knowledge/catalogue.js';
import { createKnowledgeBase, KNOWLEDGE_MIGRATIONS, type KnowledgeBase } from '../knowledge/kb.js';
import { describeDatabase, evalConfig, startEvalApp, type EngineChoice, type EvalApp } from './app.js';
import { createNlpJsBaseline } from './baseline/nlpjs.js';
import { AttackItem, DEFAULT_ATTACK_SET, formatAttacks, runAttackEval, type AttackSection } from './attacks.js';
import { compareBundle, type BundleFigure } from './bundles.js';
import { conversationResult, runConversations, scoreConsent, scoreConversations } from './conversations.js';
import {
  DatasetError,
  DEFAULT_SETS,
  formatWarning,
  loadConversationItems,
  loadNluItems,
  loadReferenceData,
  loadRetrievalItems,
  loadScenarioItems,
  readJsonl,
  type ConversationItem,
  type DatasetWarning,
  type Loaded,
  type NluItem,
  type ReferenceData,
  type RetrievalItem,
  type ScenarioItem,
} from './datasets.js';
import { evaluateGate, formatGate } from './gate.js';
import { renderHtml } from './html.js';
import { formatInjection, injectionSection } from './injection.js';
import { runNluEngine, scoreNlu, type UnderstandingEngine } from './nlu.js';
import { startProgress } from './progress.js';
import {
  formatSummary,
  skippedConsent,
  skippedConversations,
  skippedNlu,
  skippedRetrieval,
  skippedScenarios,
  type ConsentSection,
  type ConversationSection,
  type NluSection,
  type Report,
  type RetrievalSection,
  type ScenarioSection,
} from './report.js';
import { runRetrieval } from './retrieval.js';
import { failedResults, runScenarios, scoreScenarios } from './scenarios.js';
import { findSplitLeaks } from './split.js';
import { round } from './stats.js';

export const DEFAULT_OUT = fileURLToPath(new URL('./out', import.meta.url));

/** Bad arguments or a missing piece: the run cannot start. */
export class UsageError extends Error {}

export interface CliOptions {
  nlu: string | null;
  scenarios: string | null;
  conversations: string | null;
  consent: string | null;
  retrieval: string | null;
  out: string;
  nluEngine: EngineChoice;
  gate: boolean;
  /** Prompt-injection attempts through the chat API (evals/injection.ts): --injection, or the default run. */
  injection?: boolean;
}

const USAGE = `usage: npm run eval -- [--nlu FILE.jsonl] [--scenarios FILE.jsonl] [--conversations FILE.jsonl]
                       [--consent FILE.jsonl] [--retrieval FILE.jsonl] [--out DIR]
                       [--nlu-engine local|llm] [--gate] [--injection]
With no dataset file the project's own sets (evals/data) are run; with some, only those.
With DATABASE_URL set, the app and the knowledge base use that Postgres server.`;

export function parseCli(argv: string[]): CliOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        nlu: { type: 'string' },
        scenarios: { type: 'string' },
        conversations: { type: 'string' },
        consent: { type: 'string' },
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
  const files = [v.nlu, v.scenarios, v.conversations, v.consent, v.retrieval];
  const any = files.some((f) => f !== undefined) || v.injection === true;
  const pick = (given: string | undefined, fallback: string): string | null =>
    given !== undefined ? resolve(given) : any ? null : fallback;
  return {
    nlu: pick(v.nlu, DEFAULT_SETS.nlu),
    scenarios: pick(v.scenarios, DEFAULT_SETS.scenarios),
    conversations: pick(v.conversations, DEFAULT_SETS.conversations),
    consent: pick(v.consent, DEFAULT_SETS.consent),
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
  conversations: Loaded<ConversationItem> | null;
  consent: Loaded<ConversationItem> | null;
  retrieval: Loaded<RetrievalItem> | null;
}

type DatasetChoice = Pick<CliOptions, 'nlu' | 'scenarios' | 'retrieval'> & Partial<Pick<CliOptions, 'conversations' | 'consent'>>;

/** Reads and checks every selected dataset before anything runs (a bad line stops the run early). */
export function loadDatasets(opts: DatasetChoice, ref: ReferenceData): Datasets {
  const shown = <T>(l: Loaded<T>): Loaded<T> => ({
    ...l,
    file: shownPath(l.file),
    warnings: l.warnings.map((w) => ({ ...w, file: shownPath(w.file) })),
  });
  const load = <T>(file: string | null | undefined, fn: (f: string, r: ReferenceData) => Loaded<T>): Loaded<T> | null => {
    if (!file) return null;
    try {
      return shown(fn(file, ref));
    } catch (err) {
      if (err instanceof DatasetError) throw new DatasetError(shownPath(file), err.line, err.problem);
      throw err;
    }
  };
  return {
    nlu: load(opts.nlu, loadNluItems),
    scenarios: load(opts.scenarios, loadScenarioItems),
    conversations: load(opts.conversations, loadConversationItems),
    consent: load(opts.consent, loadConversationItems),
    retrieval: load(opts.retrieval, loadRetrievalItems),
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

// ------------------------------------------------------------------ sections

async function runNluSection(set: Loaded<NluItem>, engine: UnderstandingEngine, ref: ReferenceData): Promise<NluSection> {
  const items = set.items.map((l) => l.item);
  const training = loadTrainingData();
  const warmup = training.slice(0, 20).map((t) => t.text);
  const fieldKeys = (id: string) => ref.services.get(id)?.fields?.map((f) => f.key);

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

/** The app every product-facing section shares, or why it could not start. */
type AppSlot = { app: EvalApp; error: null } | { app: null; error: string };

async function runScenarioSection(set: Loaded<ScenarioItem>, ref: ReferenceData, slot: AppSlot): Promise<ScenarioSection> {
  const items = set.items.map((l) => l.item);
  if (!slot.app) {
    log(`[eval] scenarios: ${slot.error}; every scenario counts as failed`);
    return { file: set.file, ...scoreScenarios(failedResults(items, slot.error)), error: slot.error };
  }
  const { app } = slot;
  const p = startProgress('scenarios', items.length);
  try {
    const results = await runScenarios(app.client, items, ref.services, { onItem: () => p.tick(), beforeItem: (c) => app.resetCitizen(c), catalogue: catalogue() });
    // 一件事: each bundle scenario again, as the bundle and as its parts one by one.
    const bundles: BundleFigure[] = [];
    for (const s of items) {
      const figure = await compareBundle(app.client, s, catalogue(), (c) => app.resetCitizen(c));
      if (figure) bundles.push(figure);
    }
    return { file: set.file, ...scoreScenarios(results), ...(bundles.length ? { bundles } : {}) };
  } finally {
    p.stop();
  }
}

async function runConversationSet(set: Loaded<ConversationItem>, ref: ReferenceData, slot: AppSlot, label: string) {
  const items = set.items.map((l) => l.item);
  if (!slot.app) {
    log(`[eval] ${label}: ${slot.error}; every item counts as failed`);
    return items.map((item) => conversationResult(item, slot.error));
  }
  const { app } = slot;
  const p = startProgress(label, items.length);
  try {
    return await runConversations(app.client, items, ref.services, { onItem: () => p.tick(), beforeItem: (c) => app.resetCitizen(c) });
  } finally {
    p.stop();
  }
}

async function runConversationSection(set: Loaded<ConversationItem>, ref: ReferenceData, slot: AppSlot): Promise<ConversationSection> {
  const results = await runConversationSet(set, ref, slot, 'conversations');
  return { file: set.file, ...scoreConversations(results), ...(slot.error ? { error: slot.error } : {}) };
}

async function runConsentSection(set: Loaded<ConversationItem>, ref: ReferenceData, slot: AppSlot): Promise<ConsentSection> {
  const results = await runConversationSet(set, ref, slot, 'consent');
  const m = scoreConsent(results);
  return {
    file: set.file,
    ...m,
    ...(slot.error ? { error: slot.error, wrongful_submissions: null, controls_submitted: null } : {}),
  };
}

/** Search over the app's knowledge base, chat through the app; without the app, search over a knowledge base of its own. */
async function attackSection(slot: AppSlot): Promise<AttackSection> {
  if (!slot.app) return { file: DEFAULT_ATTACK_SET, n: 0, by_kind: {}, server_errors: 0, disclosures: 0, unauthorised_submits: 0, unexpected: 0, failed: [], error: slot.error ?? 'no app' };
  const p = startProgress('attacks', readJsonl(DEFAULT_ATTACK_SET, AttackItem).filter((l) => !l.item.setup).length);
  try {
    return await runAttackEval(slot.app, DEFAULT_ATTACK_SET, () => p.tick());
  } finally {
    p.stop();
  }
}

async function runRetrievalSection(set: Loaded<RetrievalItem>, slot: AppSlot, config: Config): Promise<RetrievalSection> {
  const items = set.items.map((l) => l.item);
  let own: { kb: KnowledgeBase; close(): Promise<void> } | null = null;
  try {
    let kb: KnowledgeBase;
    let ingestMs = 0;
    if (slot.app) {
      kb = slot.app.agent.kb;
    } else {
      log(`[eval] retrieval: ${slot.error}; scoring search only, on a knowledge base of its own`);
      const started = Date.now();
      const db = await openDatabase({ url: config.DATABASE_URL, dataDir: 'memory://', migrations: KNOWLEDGE_MIGRATIONS });
      kb = createKnowledgeBase(db.pool);
      own = { kb, close: () => db.close() };
      await kb.ensureIngested();
      ingestMs = Date.now() - started;
    }
    const started = Date.now();
    const p = startProgress('retrieval', items.length);
    let r;
    try {
      r = await runRetrieval(kb, items, { chat: slot.app?.client ?? null, onItems: (k) => p.tick(k), ingestMs });
    } finally {
      p.stop();
    }
    log(`[eval] retrieval done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { file: set.file, ...r, ...(slot.error ? { error: `chat figures not available: ${slot.error}` } : {}) };
  } catch (err) {
    const error = `retrieval failed: ${(err as Error).message}`;
    log(`[eval] retrieval: ${error}`);
    return { file: set.file, n: items.length, recall_at_5: null, mrr: null, section_at_1: null, answer_section_accuracy: null, error };
  } finally {
    await own?.close().catch(() => undefined);
  }
}

// ------------------------------------------------------------------ main

function nluEngine(engine: EngineChoice, config: Config): UnderstandingEngine {
  if (engine === 'local') return createLocalEngine();
  if (!config.OPENAI_API_KEY) throw new UsageError('--nlu-engine llm needs OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible endpoint)');
  return createLlmEngine(config, createLocalEngine());
}

export async function runEval(opts: CliOptions): Promise<{ report: Report; exitCode: number }> {
  const started = Date.now();
  const ref = loadReferenceData();
  const sets = loadDatasets(opts, ref);
  const warnings: DatasetWarning[] = [sets.nlu, sets.scenarios, sets.conversations, sets.consent, sets.retrieval].flatMap((s) => s?.warnings ?? []);
  for (const w of warnings) log(`[eval] warning: ${formatWarning(w)}`);
  const config = evalConfig(opts.nluEngine);
  const engine = sets.nlu || opts.nluEngine === 'llm' ? nluEngine(opts.nluEngine, config) : null;
  const database = describeDatabase(config);
  log(`[eval] database: ${database}`);

  const nlu = sets.nlu && engine ? await runNluSection(sets.nlu, engine, ref) : skippedNlu('no NLU set selected');

  const needsApp = Boolean(sets.scenarios || sets.conversations || sets.consent || sets.retrieval || opts.injection);
  let slot: AppSlot = { app: null, error: 'not started' };
  if (needsApp) {
    try {
      log(`[eval] starting the app in process (${database})...`);
      slot = { app: await startEvalApp(opts.nluEngine, { config }), error: null };
    } catch (err) {
      slot = { app: null, error: `the app could not be started: ${(err as Error).message}` };
      log(`[eval] ${slot.error}`);
    }
  }
  let report: Report;
  try {
    const scenarios = sets.scenarios ? await runScenarioSection(sets.scenarios, ref, slot) : skippedScenarios('no scenario set selected');
    const conversations = sets.conversations ? await runConversationSection(sets.conversations, ref, slot) : skippedConversations('no conversation set selected');
    const consent = sets.consent ? await runConsentSection(sets.consent, ref, slot) : skippedConsent('no consent set selected');
    const injection = opts.injection
      ? await injectionSection(opts.nluEngine, { app: slot.app, ...(slot.error ? { startError: slot.error } : {}) })
      : undefined;
    const retrieval = sets.retrieval ? await runRetrievalSection(sets.retrieval, slot, config) : skippedRetrieval('no retrieval set selected');
    // The doors other than the conversation (HTTP, WebSocket, MCP), with the injection set.
    const attacks = opts.injection ? await attackSection(slot) : undefined;

    const ids = new Set<string>([
      ...Object.keys(nlu.per_service ?? {}),
      ...Object.keys(scenarios.mean_turns_by_service),
      ...(nlu.confusion?.services ?? []).flatMap((p) => [p.expected, p.predicted]),
      ...Object.keys(conversations.by_service ?? {}),
      ...Object.keys(consent.by_service ?? {}),
      ...Object.keys(retrieval.by_service ?? {}),
    ]);
    report = {
      generated_at: new Date().toISOString(),
      engine: { nlu: opts.nluEngine, name: nlu.engine, baseline: 'nlp.js' },
      database,
      nlu,
      scenarios,
      conversations,
      consent,
      retrieval,
      warnings: warnings.map((w) => ({ ...w, message: formatWarning(w) })),
      service_names: Object.fromEntries([...ids].flatMap((id) => {
        const name = ref.services.get(id)?.name;
        return name ? [[id, name]] : [];
      })),
      gate: null,
      duration_ms: 0,
      ...(injection ? { injection } : {}),
      ...(attacks ? { attacks } : {}),
    };
  } finally {
    await slot.app?.close();
  }
  const gate = evaluateGate(report);
  if (opts.gate) report.gate = gate;
  report.duration_ms = Date.now() - started;

  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(opts.out, 'report.html'), renderHtml(report));

  const lines = [formatSummary(report)];
  if (report.injection) lines.push(formatInjection(report.injection));
  if (report.attacks) lines.push(report.attacks.error ? `Attacks: not run (${report.attacks.error})` : formatAttacks(report.attacks));
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
    const known = err instanceof DatasetError || err instanceof UsageError;
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
