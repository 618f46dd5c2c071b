import { answerQuestion, type AnswerOptions } from './answer.js';
import type { SectionName } from './guides.js';
import type { RetrievalItem } from './retrieval-eval.js';
import { matchQuestionKinds, matchSectionCues, type SectionCues } from './search.js';

/**
 * Answer-section evaluation: each item is asked through `answerQuestion` exactly as the agent
 * asks it (the question, the section cues of knowledge/section-cues.yaml matched on it, and
 * the service when one is known), and scored on the answer's FIRST citation: from the item's
 * service, and (for items that carry `sections`) one of those sections. Two modes: `given`
 * (the service is known, as mid-conversation or when the citizen named it) and `cold` (no
 * service: a first question).
 */

export type SectionEvalMode = 'given' | 'cold';

export interface SectionEvalItemResult {
  id: string;
  question: string;
  service: string;
  sections: string[] | null;
  mode: SectionEvalMode;
  /** Sections the cue words point at (what the agent passes as `sections`). */
  cues: SectionName[];
  /** The kind of question (the first one matched: a section, or a finer type such as 有效期). */
  kind: string | null;
  found: boolean;
  /** First citation's service and section (null when not found). */
  first: { service: string; section: string; title: string } | null;
  rightService: boolean;
  /** Right service and one of the item's sections (null when the item has no sections). */
  sectionHit: boolean | null;
}

export interface SectionEvalResult {
  mode: SectionEvalMode;
  n: number;
  answered: number;
  rightService: number;
  sectionN: number;
  sectionHits: number;
  items: SectionEvalItemResult[];
}

export async function evaluateAnswerSections(
  kb: Parameters<typeof answerQuestion>[0],
  items: RetrievalItem[],
  opts: { cues: SectionCues; mode: SectionEvalMode; choice?: AnswerOptions['choice'] },
): Promise<SectionEvalResult> {
  const out: SectionEvalItemResult[] = [];
  for (const item of items) {
    const cues = matchSectionCues(item.question, opts.cues);
    const a = await answerQuestion(kb, item.question, {
      ...(opts.mode === 'given' ? { serviceId: item.service } : {}),
      ...(cues.length ? { sections: cues } : {}),
      ...(opts.choice ? { choice: opts.choice } : {}),
    });
    const c = a.citations[0];
    const first = a.found && c ? { service: c.service, section: c.section, title: c.title } : null;
    const rightService = first?.service === item.service;
    out.push({
      id: item.id,
      question: item.question,
      service: item.service,
      sections: item.sections ?? null,
      mode: opts.mode,
      cues,
      kind: matchQuestionKinds(item.question, opts.cues)[0]?.kind.name ?? null,
      found: a.found,
      first,
      rightService,
      sectionHit: item.sections?.length ? rightService && item.sections.includes(first!.section) : null,
    });
  }
  return {
    mode: opts.mode,
    n: out.length,
    answered: out.filter((r) => r.found).length,
    rightService: out.filter((r) => r.rightService).length,
    sectionN: out.filter((r) => r.sectionHit !== null).length,
    sectionHits: out.filter((r) => r.sectionHit).length,
    items: out,
  };
}

/** A plain-text report: totals, accuracy per labelled section and per detected question type, failures. */
export function formatSectionEval(r: SectionEvalResult, opts: { failures?: boolean } = {}): string {
  const pct = (a: number, b: number) => (b ? `${a}/${b} = ${(a / b).toFixed(3)}` : '-');
  const lines = [
    `[${r.mode}] n=${r.n} answered ${pct(r.answered, r.n)}  right service ${pct(r.rightService, r.n)}  first-citation section ${pct(r.sectionHits, r.sectionN)}`,
  ];
  const group = (key: (x: SectionEvalItemResult) => string[], label: string) => {
    const m = new Map<string, [number, number]>();
    for (const x of r.items) {
      if (x.sectionHit === null) continue;
      for (const k of key(x)) {
        const v = m.get(k) ?? [0, 0];
        v[1]++;
        if (x.sectionHit) v[0]++;
        m.set(k, v);
      }
    }
    lines.push(`  by ${label}:`);
    for (const [k, [a, b]] of [...m].sort((p, q) => q[1][1] - p[1][1])) lines.push(`    ${k}${' '.repeat(Math.max(1, 12 - width(k)))}${pct(a, b)}`);
  };
  group((x) => x.sections ?? [], 'labelled section');
  group((x) => [x.kind ?? '(no cue)'], 'kind of question (first matched)');
  if (opts.failures ?? true) {
    lines.push('  failures:');
    for (const x of r.items) {
      if (x.sectionHit !== false) continue;
      const got = x.first ? `${x.first.service === x.service ? '' : `${x.first.service}/`}${x.first.section}${x.first.section === '常见问题' ? `「${x.first.title}」` : ''}` : 'NOT FOUND';
      lines.push(`    ${x.id} ${x.question}  [${x.service}: ${x.sections!.join('|')}]  cues=${x.cues.join(',') || '-'}  -> ${got}`);
    }
  }
  return lines.join('\n');
}

/** Display width: a Han character takes two columns. */
function width(s: string): number {
  return [...s].reduce((w, ch) => w + (/\p{Script=Han}/u.test(ch) ? 2 : 1), 0);
}
