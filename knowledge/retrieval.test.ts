import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useBundledKnowledgeBase } from './testing.js';
import { evaluateRetrieval, readRetrievalItems } from './retrieval-eval.js';

/**
 * The project's held-out retrieval set (written by another engineer; never tuned on).
 * Scored as in shared/spec/EVAL.md: service ids of the top 5 chunks.
 */
const HELD_OUT = fileURLToPath(new URL('../evals/data/retrieval.jsonl', import.meta.url));

describe('retrieval evaluation', () => {
  const bundled = useBundledKnowledgeBase();

  it.skipIf(!existsSync(HELD_OUT))('evals/data/retrieval.jsonl: recall@5 >= 0.95', async () => {
    const items = readRetrievalItems(HELD_OUT);
    expect(items.length).toBeGreaterThan(0);
    const r = await evaluateRetrieval(bundled.kb, items);
    console.log(`evals/data/retrieval.jsonl: n=${r.n} recall@5=${r.recall_at_5.toFixed(3)} MRR=${r.mrr.toFixed(3)}`);
    expect(r.recall_at_5).toBeGreaterThanOrEqual(0.95);
    expect(r.mrr).toBeGreaterThan(0.5);
  });

  it('scores ranks by the service of the top 5 chunks', async () => {
    const r = await evaluateRetrieval(
      { search: async () => ['a', 'b', 'c', 'b', 'e'].map((serviceId) => ({ serviceId }) as never) },
      [
        { id: '1', question: 'q', service: 'a' },
        { id: '2', question: 'q', service: 'b' },
        { id: '3', question: 'q', service: 'z' },
      ],
    );
    expect(r.items.map((i) => i.rank)).toEqual([1, 2, null]);
    expect(r.recall_at_5).toBeCloseTo(2 / 3);
    expect(r.mrr).toBeCloseTo((1 + 0.5 + 0) / 3);
  });

  it('scores the first chunk of items with sections: right service and one of the sections', async () => {
    const hits: Record<string, [string, string][]> = {
      q1: [['a', '申请材料'], ['b', '办理流程']],
      q2: [['b', '申请材料'], ['a', '申请材料']],
      q3: [['a', '办理渠道'], ['a', '申请材料']],
      q4: [],
    };
    const r = await evaluateRetrieval(
      { search: async (q: string) => (hits[q] ?? []).map(([serviceId, section]) => ({ serviceId, section }) as never) },
      [
        { id: '1', question: 'q1', service: 'a', sections: ['申请材料', '常见问题'] },
        { id: '2', question: 'q2', service: 'a', sections: ['申请材料'] },
        { id: '3', question: 'q3', service: 'a', sections: ['申请材料'] },
        { id: '4', question: 'q4', service: 'a', sections: ['申请材料'] },
        { id: '5', question: 'q1', service: 'a' },
      ],
    );
    expect(r.items.map((i) => i.section_hit)).toEqual([true, false, false, false, null]);
    expect(r.items[3]!.first).toBeNull();
    expect(r.items[1]!.first).toEqual({ service: 'b', section: '申请材料' });
    expect(r.section_n).toBe(4);
    expect(r.section_at_1).toBe(0.25);
    expect(r.recall_at_5).toBeCloseTo(4 / 5);
  });

  it('reads JSONL with errors naming file and line', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const f = join(mkdtempSync(join(tmpdir(), 'kb-eval-')), 'bad.jsonl');
    writeFileSync(f, '{"id":"r1","question":"q","service":"s"}\n\n{"id":"r2","question":""}\n');
    expect(() => readRetrievalItems(f)).toThrow(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: `));
  });
});
