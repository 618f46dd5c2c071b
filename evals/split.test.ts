/**
 * The strict split: no item of the held-out test set (evals/data/nlu.test.jsonl) may be a
 * copy or a near-copy of an utterance the NLU is trained on (loadTrainingData()).
 */
import { describe, expect, it } from 'vitest';
import { loadTrainingData } from '../agent/nlu/training-data.js';
import { DEFAULT_SETS, NluItemSchema, readJsonl } from './datasets.js';
import { bigrams, findSplitLeaks, jaccard, normalizeForSplit } from './split.js';

describe('split check helpers', () => {
  it('normalises script, case, punctuation and spaces', () => {
    expect(normalizeForSplit('我要開無犯罪記錄證明，出國用！')).toBe('我要开无犯罪记录证明出国用');
    expect(normalizeForSplit(' Police  Clearance, please. ')).toBe('policeclearanceplease');
  });

  it('flags copies and near-copies, not unrelated texts', () => {
    const leaks = findSplitLeaks(
      [
        { id: 'copy', text: '社保卡在哪里領？' },
        { id: 'near', text: '生育津贴发到哪个卡上' },
        { id: 'short', text: '社保' },
        { id: 'new', text: '我想给孩子办张医保卡' },
      ],
      ['社保卡在哪里领', '生育津贴发到哪个卡', '社保卡'],
    );
    expect(leaks.map((l) => [l.id, l.kind])).toEqual([['copy', 'copy'], ['near', 'near-copy']]);
    expect(jaccard(bigrams('abcd'), bigrams('abcd'))).toBe(1);
  });
});

describe('strict split of the held-out NLU test set', () => {
  it('no test item copies or nearly copies a training utterance', () => {
    const test = readJsonl(DEFAULT_SETS.nlu, NluItemSchema).map((l) => l.item);
    const training = loadTrainingData().map((t) => t.text);
    const leaks = findSplitLeaks(test, training);
    const listing = leaks
      .map((l) => `  ${l.id} [${l.kind}${l.kind === 'near-copy' ? ` ${l.jaccard}` : ''}] "${l.text}" ~ training "${l.training}"`)
      .join('\n');
    if (leaks.length) {
      expect.fail(`${leaks.length} of ${test.length} test items copy or nearly copy a training utterance:\n${listing}`);
    }
  });
});
