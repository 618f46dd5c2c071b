import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLocalEngine } from '../agent/nlu/engine.js';
import { loadTrainingData } from '../agent/nlu/training-data.js';
import type { NluEngine } from '../agent/nlu/types.js';
import { createNlpJsBaseline } from '../evals/baseline/nlpjs.js';
import { progress } from './progress.js';
import { p50p95, round } from './stats.js';

const TEST_SET = fileURLToPath(new URL('../evals/data/nlu.test.jsonl', import.meta.url));

/**
 * Our local NLU engine against NLP.js on the same utterances in the same process: both trained
 * on loadTrainingData(), each utterance timed separately (after one warm-up pass).
 */
export async function nluBench(opts: { limit?: number } = {}) {
  const p = progress('nlu');
  const utterances = readFileSync(TEST_SET, 'utf8').split('\n').filter(Boolean)
    .map((line) => (JSON.parse(line) as { text: string }).text)
    .slice(0, opts.limit ?? 400);
  const training = loadTrainingData();
  p.update('training the local engine');
  const t0 = performance.now();
  const local = createLocalEngine();
  const localTrainMs = performance.now() - t0;
  p.update('training NLP.js');
  const nlpjs = await createNlpJsBaseline(training);
  const once = async (engine: NluEngine, u: string) => {
    const s = performance.now();
    await engine.understand(u);
    return performance.now() - s;
  };
  // Warm-up pass, then both engines on each utterance in turn (alternating which goes first),
  // so that a change in machine load affects both alike.
  for (const u of utterances) {
    await local.understand(u);
    await nlpjs.understand(u);
  }
  p.update(`timing ${utterances.length} utterances`);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (const [i, u] of utterances.entries()) {
    if (i % 2 === 0) {
      ours.push(await once(local, u));
      theirs.push(await once(nlpjs, u));
    } else {
      theirs.push(await once(nlpjs, u));
      ours.push(await once(local, u));
    }
  }
  const a = p50p95(ours, 3);
  const b = p50p95(theirs, 3);
  p.done(`local p50 ${a.p50} ms, NLP.js p50 ${b.p50} ms over ${utterances.length} utterances`);
  return {
    local_p50: a.p50,
    nlpjs_p50: b.p50,
    local_p95: a.p95,
    nlpjs_p95: b.p95,
    utterances: utterances.length,
    local_train_ms: round(localTrainMs),
    nlpjs_train_ms: round(nlpjs.trainMs),
  };
}
