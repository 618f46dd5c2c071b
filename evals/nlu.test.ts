import { describe, expect, it } from 'vitest';
import { intentLabel, parseIntent } from './baseline/nlpjs.js';
import { runNluEngine, scoreNlu, type NluRecord } from './nlu.js';
import { percentile } from './stats.js';

const CRC_KEYS = ['name', 'id_number', 'household_address', 'purpose', 'destination', 'delivery'];
const SSC_KEYS = ['name', 'id_number', 'photo', 'delivery_method', 'mailing_address', 'phone'];
const RP_KEYS = ['name', 'id_number', 'residence_address', 'basis'];
const fieldKeys = (id: string) =>
  ({ criminal_record_certificate: CRC_KEYS, social_security_card: SSC_KEYS, residence_permit: RP_KEYS })[id];

function rec(
  id: string,
  expected: NluRecord['expected'],
  predicted: NluRecord['predicted'],
  ms: number,
): NluRecord {
  return { id, text: `text ${id}`, expected, predicted, ms, ...(predicted ? {} : { error: 'boom' }) };
}

/** Six hand-made predictions; the expected figures below are worked out by hand. */
const records: NluRecord[] = [
  // act ok, service ok; slots: purpose right (tp), destination wrong (fp + fn)
  rec('r1', { act: 'apply', service: 'criminal_record_certificate', slots: { purpose: '出国(境)', destination: '英国' } },
    { act: 'apply', service: 'criminal_record_certificate', slots: { purpose: '出国(境)', destination: '美国' } }, 1),
  // act ok, service wrong
  rec('r2', { act: 'consult', service: 'passport' }, { act: 'consult', service: 'hk_macau_permit', slots: {} }, 2),
  // both ok, no service
  rec('r3', { act: 'greeting', service: null }, { act: 'greeting', service: null, slots: {} }, 3),
  // act wrong, service ok; slot right (tp); 'colour' is not a key of the service: ignored
  rec('r4', { act: 'apply', service: 'social_security_card', slots: { delivery_method: '邮寄' } },
    { act: 'consult', service: 'social_security_card', slots: { delivery_method: '邮寄', colour: '红' } }, 4),
  // engine error: wrong everywhere
  rec('r5', { act: 'progress', service: 'residence_permit' }, null, 10),
  // both ok; expected slot not found (fn)
  rec('r6', { act: 'apply', service: 'residence_permit', slots: { basis: '就业' } },
    { act: 'apply', service: 'residence_permit', slots: {} }, 5),
];

describe('scoreNlu on a hand-made set', () => {
  const m = scoreNlu(records, { fieldKeys });

  it('accuracies: act 4/6, service 4/6, joint 3/6', () => {
    expect(m.n).toBe(6);
    expect(m.act_accuracy).toBe(0.6667);
    expect(m.service_accuracy).toBe(0.6667);
    expect(m.joint_accuracy).toBe(0.5);
    expect(m.engine_errors).toBe(1);
  });

  it('slot F1 is micro over items with slots: tp 2, fp 1, fn 2', () => {
    expect(m.slot_items).toBe(3);
    expect(m.slot_counts).toEqual({ tp: 2, fp: 1, fn: 2 });
    expect(m.slot_precision).toBe(0.6667);
    expect(m.slot_recall).toBe(0.5);
    expect(m.slot_f1).toBe(0.5714); // 2*2 / (2*2 + 1 + 2) = 4/7
  });

  it('latency percentiles are nearest-rank', () => {
    // sorted: 1 2 3 4 5 10
    expect(m.p50_ms).toBe(3);
    expect(m.p95_ms).toBe(10);
    expect(m.latency.max_ms).toBe(10);
    expect(m.latency.mean_ms).toBe(4.167);
  });

  it('per act and per service', () => {
    expect(m.per_act.apply).toEqual({ n: 3, correct: 2, accuracy: 0.6667, joint_accuracy: 0.6667 });
    expect(m.per_act.consult).toEqual({ n: 1, correct: 1, accuracy: 1, joint_accuracy: 0 });
    expect(m.per_act.progress).toEqual({ n: 1, correct: 0, accuracy: 0, joint_accuracy: 0 });
    expect(m.per_service.residence_permit).toEqual({ n: 2, correct: 1, accuracy: 0.5, joint_accuracy: 0.5 });
    expect(m.per_service.social_security_card).toEqual({ n: 1, correct: 1, accuracy: 1, joint_accuracy: 0 });
    expect(m.per_service.none).toEqual({ n: 1, correct: 1, accuracy: 1, joint_accuracy: 1 });
    expect(m.per_service.passport!.accuracy).toBe(0);
  });

  it('confusion pairs and mistakes', () => {
    expect(m.confusion.services).toEqual([
      { expected: 'passport', predicted: 'hk_macau_permit', count: 1 },
      { expected: 'residence_permit', predicted: '(error)', count: 1 },
    ]);
    expect(m.confusion.acts).toEqual([
      { expected: 'apply', predicted: 'consult', count: 1 },
      { expected: 'progress', predicted: '(error)', count: 1 },
    ]);
    expect(m.mistakes.map((x) => x.id)).toEqual(['r2', 'r4', 'r5']);
  });

  it('no slot-annotated items: slot F1 is null, not 0', () => {
    const none = scoreNlu([records[1]!, records[2]!]);
    expect(none.slot_f1).toBeNull();
    expect(none.slot_items).toBe(0);
  });
});

describe('runNluEngine', () => {
  it('times each call, keeps engine errors as records and does not time the warm-up', async () => {
    const seen: string[] = [];
    const engine = {
      name: 'stub',
      async understand(text: string) {
        seen.push(text);
        if (text === 'boom') throw new Error('engine failed');
        return { act: 'greeting', service: null, slots: {} };
      },
    };
    const out = await runNluEngine(engine, [
      { id: 'a', text: '你好', act: 'greeting', service: null },
      { id: 'b', text: 'boom', act: 'greeting', service: null },
    ], { warmup: ['热身'] });
    expect(seen).toEqual(['热身', '你好', 'boom']);
    expect(out).toHaveLength(2);
    expect(out[1]!.predicted).toBeNull();
    expect(out[1]!.error).toBe('engine failed');
    expect(out.every((r) => r.ms >= 0)).toBe(true);
  });
});

describe('helpers', () => {
  it('percentile', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
  });

  it('NLP.js intent labels round-trip; None means out_of_scope', () => {
    expect(intentLabel('apply', 'passport')).toBe('apply|passport');
    expect(parseIntent(intentLabel('greeting', null))).toEqual({ act: 'greeting', service: null });
    expect(parseIntent('None')).toEqual({ act: 'out_of_scope', service: null });
  });
});
