/**
 * The retrieval runner on a hand-written knowledge base (fixed search results) and a scripted chat (answers), so
 * recall@5, MRR, section@1 and answer section accuracy, their breakdowns and the failing items
 * are checked by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchHit } from '../knowledge/search.js';
import { RetrievalItemSchema, type RetrievalItem } from './datasets.js';
import { runRetrieval } from './retrieval.js';
import { startScriptedApp, type ScriptedApp } from './scripted-app.js';

const hit = (serviceId: string, section: string) => ({ serviceId, section }) as unknown as SearchHit;

/** Search results and chat citations by question. */
const SEARCH: Record<string, SearchHit[]> = {
  q1: [hit('a', '申请材料'), hit('b', '申请材料')],
  q2: [hit('b', '办理时限'), hit('a', '办理时限')],
  q3: [hit('a', '收费标准')],
  q4: [hit('c', '常见问题')],
};
const CHAT: Record<string, { service: string; section: string } | null> = {
  q1: { service: 'a', section: '申请材料' },
  q2: { service: 'a', section: '办理时限' },
  q3: { service: 'a', section: '办理渠道' },
  q4: null,
};

const items: RetrievalItem[] = [
  { id: '1', question: 'q1', service: 'a', sections: ['申请材料'] },
  { id: '2', question: 'q2', service: 'a', sections: ['办理时限', '常见问题'] },
  { id: '3', question: 'q3', service: 'a', sections: ['收费标准'] },
  { id: '4', question: 'q4', service: 'a' },
].map((i) => RetrievalItemSchema.parse(i));

let s: ScriptedApp;
beforeAll(async () => {
  s = await startScriptedApp();
  s.scripts.set('anonymous', (text) => {
    const c = CHAT[text];
    return { act: 'consult', outcome: 'answered', citations: c ? [{ ...c, title: `${c.section}标题` }] : [] };
  });
});
afterAll(async () => {
  await s.close();
});

const kb = { search: async (q: string) => SEARCH[q] ?? [] };

describe('runRetrieval', () => {
  it('scores search and chat, with breakdowns and the failing items', async () => {
    let ticked = 0;
    const r = await runRetrieval(kb, items, { chat: s.client, onItems: (k) => { ticked += k; } });
    expect(ticked).toBe(4);
    expect(r.n).toBe(4);
    expect(r.recall_at_5).toBe(0.75); // 1, 2, 3 have service a in the top 5; 4 not
    expect(r.mrr).toBe(0.625); // (1 + 1/2 + 1 + 0) / 4
    expect(r.section_n).toBe(3);
    expect(r.section_at_1).toBe(0.6667); // 1 and 3; 2's first hit is of service b
    expect(r.answer_section_accuracy).toBe(0.6667); // 1 and 2; 3 cites the wrong section
    expect(r.answer_service_accuracy).toBe(1);
    expect(r.by_section['办理时限']).toEqual({ n: 1, section_at_1: 0, answer_section_accuracy: 1 });
    expect(r.by_section['常见问题']).toEqual({ n: 1, section_at_1: 0, answer_section_accuracy: 1 });
    expect(r.by_service.a).toEqual({ n: 3, section_at_1: 0.6667, answer_section_accuracy: 0.6667, recall_at_5: 0.75 });
    expect(r.failures).toEqual([
      { id: '2', question: 'q2', expected: { service: 'a', sections: ['办理时限', '常见问题'] }, got: { service: 'b', section: '办理时限' }, via: 'search' },
      { id: '3', question: 'q3', expected: { service: 'a', sections: ['收费标准'] }, got: { service: 'a', section: '办理渠道', title: '办理渠道标题' }, via: 'chat' },
    ]);
    // Only items with sections are asked in chat, each in a fresh anonymous session.
    const chats = [...s.received.values()].filter((v) => v.citizen === null);
    expect(chats.map((v) => v.texts)).toEqual([['q1'], ['q2'], ['q3']]);
    expect(r.items.find((i) => i.id === '4')).not.toHaveProperty('answer');
  });

  it('without chat the chat figures are null; a missing citation fails the item', async () => {
    const searchOnly = await runRetrieval(kb, items);
    expect(searchOnly.answer_section_accuracy).toBeNull();
    expect(searchOnly.section_at_1).toBe(0.6667);
    const r = await runRetrieval(kb, [RetrievalItemSchema.parse({ id: '5', question: 'q4', service: 'c', sections: ['常见问题'] })], { chat: s.client });
    expect(r.section_at_1).toBe(1);
    expect(r.answer_section_accuracy).toBe(0);
    expect(r.failures).toEqual([{ id: '5', question: 'q4', expected: { service: 'c', sections: ['常见问题'] }, got: null, via: 'chat' }]);
  });
});
