/**
 * The NLP.js baseline (`node-nlp` NlpManager, language 'zh'), trained on exactly the
 * examples the project's own engine learns from (`loadTrainingData()`): one intent per
 * `${act}|${service ?? 'none'}`. NLP.js as it comes: no extra normalisation, no tuning.
 *
 * When NLP.js answers its 'None' intent (nothing matched well enough) the prediction is
 * act `out_of_scope`, service null. It extracts no slots.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { Act, NluEngine, NluResult, Signals } from '../../agent/nlu/types.js';
import { ACTS } from '../../agent/nlu/types.js';

export interface BaselineTrainingExample {
  text: string;
  act: Act;
  service: string | null;
}

interface NlpProcessResult {
  intent: string;
  score: number;
  classifications?: { intent: string; score: number }[];
}

interface NlpManagerLike {
  addDocument(locale: string, utterance: string, intent: string): void;
  train(): Promise<void>;
  process(locale: string, utterance: string): Promise<NlpProcessResult>;
}

type NlpManagerCtor = new (settings: Record<string, unknown>) => NlpManagerLike;

const require = createRequire(import.meta.url);

export const BASELINE_NAME = 'nlp.js';

const NO_SIGNALS: Signals = {
  interrogative: false, plainAssent: false, assent: false, negation: false, delay: false, joke: false, instruction: false,
};
const SEP = '|';

export function intentLabel(act: string, service: string | null): string {
  return `${act}${SEP}${service ?? 'none'}`;
}

export function parseIntent(intent: string): { act: Act; service: string | null } {
  const [act, service] = intent.split(SEP);
  if (!act || !service || !(ACTS as readonly string[]).includes(act)) return { act: 'out_of_scope', service: null };
  return { act: act as Act, service: service === 'none' ? null : service };
}

export interface NlpJsBaseline extends NluEngine {
  /** Milliseconds spent training. */
  readonly trainMs: number;
  readonly examples: number;
}

/**
 * Trains NLP.js on `trainingData` and returns an engine with the NluEngine interface.
 * NLP.js's Chinese tokenizer prints "Compiling dictionary" on first use; that line is
 * swallowed so the harness output stays clean.
 */
export async function createNlpJsBaseline(trainingData: readonly BaselineTrainingExample[]): Promise<NlpJsBaseline> {
  if (trainingData.length === 0) throw new Error('NLP.js baseline: no training data');
  const { NlpManager } = require('node-nlp') as { NlpManager: NlpManagerCtor };
  const manager = new NlpManager({
    languages: ['zh'],
    forceNER: false,
    autoSave: false,
    autoLoad: false,
    nlu: { log: false },
  });
  for (const ex of trainingData) manager.addDocument('zh', ex.text, intentLabel(ex.act, ex.service));

  const start = performance.now();
  await quietly(() => manager.train());
  // The first `process` call may load more of the tokenizer; do it here, not in a timed call.
  await quietly(() => manager.process('zh', '你好'));
  const trainMs = performance.now() - start;

  return {
    name: BASELINE_NAME,
    trainMs,
    examples: trainingData.length,
    async understand(text: string): Promise<NluResult> {
      const r = await manager.process('zh', text);
      const { act, service } = parseIntent(r.intent);
      const candidates = (r.classifications ?? [])
        .map((c) => ({ ...parseIntent(c.intent), score: c.score }))
        .filter((c): c is { act: Act; service: string; score: number } => c.service !== null)
        .slice(0, 5)
        .map((c) => ({ service: c.service, score: c.score }));
      return {
        act,
        service,
        slots: {},
        confidence: Number.isFinite(r.score) ? r.score : 0,
        candidates,
        needsClarification: false,
        // NLP.js reads no dialogue acts and no consent cues: an intent label only.
        acts: [],
        signals: { ...NO_SIGNALS },
        freeText: '',
        normalized: text,
      };
    },
  };
}

/** Runs `fn` with console.log silenced (NLP.js logs progress to stdout). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}
