import { FAQ_SECTION, type SectionName } from './guides.js';
import type { ChunkRecord, KnowledgeBase } from './kb.js';
import type { SearchHit } from './search.js';
import { isHan, normalizeText } from './text.js';

/**
 * Answers a citizen's question from the guides, and only from them: the answer text is the
 * most relevant section (or FAQ answer) of the most relevant service, trimmed, behind a
 * short lead naming the service and section. When nothing relevant is found it says so
 * (`found: false`) and the agent offers a person instead; nothing is ever made up.
 */

export interface Citation {
  /** Service id. */
  service: string;
  serviceName: string;
  section: SectionName;
  title: string;
  chunkId: string;
}

export interface Answer {
  found: boolean;
  serviceId: string | null;
  serviceName: string | null;
  section: SectionName | null;
  /** Chinese text composed only from guide text (empty when not found). */
  answer: string;
  citations: Citation[];
  /** Whether the agent can complete this service end to end (catalogue). */
  transactable: boolean;
  /** Relevance evidence of the chosen chunk; `named`: the question names the service. */
  confidence: { similarity: number; coverage: number; named?: boolean };
}

export interface AnswerOptions {
  /** The service the conversation is about; restricts retrieval to it. */
  serviceId?: string;
  /** Longest answer body in characters before it is trimmed (default 360). */
  maxChars?: number;
  /** Relevance floors (default RELEVANCE, calibrated for the offline embedder). */
  relevance?: Partial<typeof RELEVANCE>;
}

/**
 * Relevance floor, calibrated on knowledge/dev-questions.jsonl (in scope) against
 * knowledge/dev-negatives.jsonl (out of scope) with the offline embedder (see
 * knowledge/answer.test.ts). Evidence = cosine similarity + keyword coverage (the share of
 * the question's IDF mass found in the chunk). A question that names the service (its name
 * or an alias, or a distinctive part of one) needs less evidence; so does a question asked
 * within a known service, and one that asks for a section there ("要多久") needs none.
 */
export const RELEVANCE = {
  /** similarity + coverage needed on its own (out-of-scope dev questions reach 0.53). */
  minEvidence: 0.65,
  /** ... when the question names the service (in-scope dev questions go down to 0.15). */
  minEvidenceNamed: 0.12,
  /** An FAQ pair beats the section a cue word asks for only with this much coverage. */
  strongFaqCoverage: 0.6,
  /** A shared substring counts as naming the service from this many characters. */
  minNameChars: 2,
  /** A substring found in the names of this many services or more is generic (申请, 登记). */
  genericServices: 3,
};

const NOT_FOUND: Omit<Answer, 'confidence'> = {
  found: false,
  serviceId: null,
  serviceName: null,
  section: null,
  answer: '',
  citations: [],
  transactable: false,
};

/** Picks the service with the most fused score among the top hits. */
export function pickService(hits: SearchHit[]): string | undefined {
  const score = new Map<string, number>();
  for (const h of hits) score.set(h.serviceId, (score.get(h.serviceId) ?? 0) + h.score);
  return [...score].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/**
 * How strongly the question names the service: the length of the longest whole name or
 * alias it contains (any alias, the colloquial ones of phrasings.yaml included), or of the
 * longest distinctive piece of a curated name (the catalogue's name and aliases): a Han
 * substring of at least `minNameChars` characters that is not part of the curated names of
 * `genericServices` or more services (申请, 登记), or a whole latin word of 3+ letters.
 * 0 when the question does not name it.
 */
export function nameMention(
  question: string,
  serviceId: string,
  names: { curated: Map<string, string[]>; all: Map<string, string[]> },
): number {
  const q = normalizeText(question);
  let best = 0;
  for (const n of (names.all.get(serviceId) ?? []).map(normalizeText)) {
    if (n.length >= RELEVANCE.minNameChars && n.length > best && q.includes(n)) best = n.length;
  }
  const own = (names.curated.get(serviceId) ?? names.all.get(serviceId) ?? []).map(normalizeText);
  const every = [...names.curated.values()].map((ns) => ns.map(normalizeText));
  const chars = Array.from(q);
  for (let i = 0; i < chars.length; i++) {
    if (!isHan(chars[i]!)) continue;
    for (let j = i + Math.max(RELEVANCE.minNameChars, best + 1); j <= chars.length; j++) {
      const sub = chars.slice(i, j).join('');
      if (!isHan(chars[j - 1]!) || !own.some((n) => n.includes(sub))) break;
      const spread = every.filter((ns) => ns.some((n) => n.includes(sub))).length;
      if (spread < RELEVANCE.genericServices) best = j - i;
    }
  }
  for (const w of q.match(/[a-z0-9]{3,}/g) ?? []) {
    if (w.length > best && own.some((n) => n.split(/[^a-z0-9]+/).includes(w))) best = w.length;
  }
  return best;
}

/** Relevance evidence of a hit: cosine similarity + keyword coverage. */
export function evidence(hit: SearchHit): number {
  return hit.similarity + hit.coverage;
}

/**
 * Whether the chosen service is relevant to the question. `best` is the strongest evidence
 * among that service's hits; `chosen` is the hit the answer will be composed from.
 */
export function isRelevant(
  best: number,
  opts: { named: boolean; serviceGiven: boolean; cued: boolean; relevance?: Partial<typeof RELEVANCE> },
): boolean {
  const r = { ...RELEVANCE, ...opts.relevance };
  if (best >= r.minEvidence) return true;
  // Within a known service, a question that asks for a section ("在哪里办") is about it.
  if (opts.serviceGiven && opts.cued) return true;
  return (opts.named || opts.serviceGiven) && best >= r.minEvidenceNamed;
}

export async function answerQuestion(
  kb: Pick<KnowledgeBase, 'search' | 'sectionChunks' | 'serviceNames' | 'catalogue'>,
  question: string,
  opts: AnswerOptions = {},
): Promise<Answer> {
  const maxChars = opts.maxChars ?? 360;
  const hits = await kb.search(question, { serviceId: opts.serviceId, k: 10 });
  const serviceId = opts.serviceId ?? pickService(hits);
  const ofService = hits.filter((h) => h.serviceId === serviceId);
  const best = ofService[0];
  if (!best) return { ...NOT_FOUND, confidence: { similarity: 0, coverage: 0 } };
  const strongest = ofService.reduce((a, h) => (evidence(h) > evidence(a) ? h : a), best);
  const curated = new Map(kb.catalogue.map((c) => [c.id, [c.name, ...c.aliases]]));
  const named = nameMention(question, best.serviceId, { curated, all: await kb.serviceNames() }) > 0;
  const confidence: Answer['confidence'] = {
    similarity: round(strongest.similarity),
    coverage: round(strongest.coverage),
    named,
  };
  const relevant = isRelevant(evidence(strongest), {
    named,
    serviceGiven: Boolean(opts.serviceId),
    cued: best.cueSections.length > 0,
    relevance: opts.relevance,
  });
  if (!relevant) return { ...NOT_FOUND, confidence };

  // The section a cue word asks for ("多久" -> 办理时限) wins over another top hit, unless
  // that hit is an FAQ pair matching the question closely.
  const r = { ...RELEVANCE, ...opts.relevance };
  let chosen: ChunkRecord = best;
  const cues = best.cueSections;
  if (cues.length && !cues.includes(best.section) && !(best.section === FAQ_SECTION && best.coverage >= r.strongFaqCoverage)) {
    const cued = ofService.find((h) => cues.includes(h.section)) ?? (await kb.sectionChunks(best.serviceId, cues[0]!))[0];
    if (cued) chosen = cued;
  }

  let body: string;
  let lead: string;
  let used: ChunkRecord[];
  if (chosen.section === FAQ_SECTION) {
    const a = chosen.text.replace(/^问[：:][^\n]*\n/, '').replace(/^答[：:]\s*/, '');
    lead = `关于${chosen.serviceName}，“${chosen.title}”`;
    body = trim(a, maxChars);
    used = [chosen];
  } else {
    const pieces = await kb.sectionChunks(chosen.serviceId, chosen.section);
    const whole = pieces.map((p) => p.text).join('\n');
    if (whole.length <= maxChars || pieces.length <= 1) {
      body = trim(whole, maxChars);
      used = pieces.length ? pieces : [chosen];
    } else {
      // Long section: start at the piece that matched, add following pieces while they fit.
      const from = Math.max(0, pieces.findIndex((p) => p.chunkId === chosen.chunkId));
      used = [];
      let text = '';
      for (const p of pieces.slice(from)) {
        if (text && text.length + 1 + p.text.length > maxChars) break;
        text = text ? `${text}\n${p.text}` : p.text;
        used.push(p);
      }
      body = trim(text, maxChars);
      if ((from + used.length < pieces.length || from > 0) && !body.endsWith('……')) body += '\n……';
    }
    lead = `关于${chosen.serviceName}的${chosen.section}`;
  }
  const service = kb.catalogue.find((s) => s.id === chosen.serviceId);
  return {
    found: true,
    serviceId: chosen.serviceId,
    serviceName: chosen.serviceName,
    section: chosen.section,
    answer: `${lead}：\n${body}`,
    citations: used.map((u) => ({
      service: u.serviceId,
      serviceName: u.serviceName,
      section: u.section,
      title: u.title,
      chunkId: u.chunkId,
    })),
    transactable: service?.transactable ?? false,
    confidence,
  };
}

/** Trims to at most `max` characters at a line (else sentence) boundary. */
export function trim(text: string, max: number): string {
  const t = text.trim();
  if (t.length <= max) return t;
  const cut = t.slice(0, max);
  const line = cut.lastIndexOf('\n');
  if (line >= max * 0.5) return `${cut.slice(0, line).trimEnd()}\n……`;
  const sentence = Math.max(cut.lastIndexOf('。'), cut.lastIndexOf('；'));
  if (sentence >= max * 0.5) return `${cut.slice(0, sentence + 1)}……`;
  return `${cut}……`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
