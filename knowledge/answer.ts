import { FAQ_SECTION, type SectionName } from './guides.js';
import type { ChunkRecord, KnowledgeBase } from './kb.js';
import { cueSpans, expandQuery, isSpecific, matchQuestionKinds, rewriteQuery, RRF_K, type KindMatch, type SearchHit, type SectionCues, type Span } from './search.js';
import { NO_SYNONYMS, relatedWords } from './synonyms.js';
import { isHan, normalizeText, queryTokens } from './text.js';

/**
 * Answers a citizen's question from the guides, and only from them: the answer text is one
 * section (or FAQ answer) of the most relevant service, trimmed, behind a short lead naming
 * the service and section. Which part of the guide depends on what is asked
 * (section-cues.yaml): an FAQ entry asking the same thing, else the section the question
 * asks for, or for a finer type (validity, an amount) the chunk of its sections that states
 * it. When nothing relevant is found it says so (`found: false`) and the agent offers a
 * person instead; nothing is ever made up.
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
  /** The sections asked about (the kind of question), when already known. */
  sections?: readonly SectionName[];
  /** Longest answer body in characters before it is trimmed (default 360). */
  maxChars?: number;
  /** Relevance floors (default RELEVANCE, calibrated for the offline embedder). */
  relevance?: Partial<typeof RELEVANCE>;
  /** How the answering chunk is chosen within the service (default CHOICE). */
  choice?: Partial<typeof CHOICE>;
}

/**
 * Relevance floor, calibrated on knowledge/dev-questions.jsonl (in scope) against
 * knowledge/dev-negatives.jsonl (out of scope) with the offline embedder (see
 * knowledge/answer.test.ts). Evidence = cosine similarity + keyword coverage (the share of
 * the question's IDF mass found in the chunk). A question that names the service (its name
 * or an alias, or a distinctive part of one) needs less evidence; so does a question asked
 * within a known service about things its guide speaks of, and one that asks for a section
 * there ("要多久") needs none.
 */
export const RELEVANCE = {
  /**
   * similarity + coverage needed on its own (out-of-scope dev questions reach 0.50; coverage
   * leaves out the question's cue words, so "在哪里" of "演唱会门票在哪里买" is no evidence).
   */
  minEvidence: 0.65,
  /** ... when the question names the service (in-scope dev questions go down to 0.19). */
  minEvidenceNamed: 0.12,
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

/**
 * Picks the service with the most fused score (before any section boost) among the top hits;
 * a service the question names by a whole name or alias (the longest one named) gains a
 * rank-1 contribution.
 */
export function pickService(hits: SearchHit[], named: readonly string[] = []): string | undefined {
  const score = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const h of hits) {
    // The score before the section boost (a cue word says what is asked, not about what);
    // each further hit of a service counts half as much as the one before, so that a guide
    // with many loosely similar chunks does not outweigh one that matches.
    const i = seen.get(h.serviceId) ?? 0;
    seen.set(h.serviceId, i + 1);
    score.set(h.serviceId, (score.get(h.serviceId) ?? 0) + (h.base ?? h.score) * 0.5 ** i);
  }
  for (const s of named) score.set(s, (score.get(s) ?? 0) + NAMED_BONUS);
  return [...score].sort((a, b) => b[1] - a[1])[0]?.[0];
}

const NAMED_BONUS = 1 / (RRF_K + 1);

/** The services whose whole name or alias the question contains, the longest mention only. */
export function namedServices(question: string, names: Map<string, string[]>): string[] {
  const q = normalizeText(question);
  let best = 0;
  let out: string[] = [];
  for (const [id, ns] of names) {
    let len = 0;
    for (const n of ns.map(normalizeText)) if (n.length >= RELEVANCE.minNameChars && n.length > len && q.includes(n)) len = n.length;
    if (!len || len < best) continue;
    if (len > best) {
      best = len;
      out = [];
    }
    out.push(id);
  }
  return out;
}

/**
 * The services the question names: by a whole name or alias (namedServices), else by the
 * longest distinctive piece of a curated name of at least 3 characters ("身份证" of 居民身份证换领).
 */
export function mentionedServices(question: string, names: { curated: Map<string, string[]>; all: Map<string, string[]> }): string[] {
  const whole = namedServices(question, names.all);
  if (whole.length) return whole;
  let best = PARTIAL_NAME_CHARS - 1;
  let out: string[] = [];
  for (const id of names.curated.keys()) {
    const m = nameMention(question, id, names);
    if (m < best) continue;
    if (m > best) {
      best = m;
      out = [];
    }
    out.push(id);
  }
  return out;
}

/** A piece of a name this long names its service for picking it (2 characters are too often shared). */
const PARTIAL_NAME_CHARS = 3;

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
  opts: { named: boolean; serviceGiven: boolean; cued: boolean; known?: number | null; relevance?: Partial<typeof RELEVANCE> },
): boolean {
  const r = { ...RELEVANCE, ...opts.relevance };
  if (best >= r.minEvidence) return true;
  // Within a known service, a question is about it unless the guide knows none of what it is
  // about ("演唱会门票在哪里买", "怎么做红烧肉"); one that asks for a section ("在哪里办") needs no
  // more evidence than that.
  const foreign = opts.known === 0;
  if (opts.serviceGiven && opts.cued && !foreign) return true;
  return (opts.named || (opts.serviceGiven && !foreign)) && best >= r.minEvidenceNamed;
}

/**
 * How much of what the question is about the service's guide speaks of: the share of its
 * own words (whole-word bigrams beyond cue words and the service's names) found in the
 * guide ("今天上海天气怎么样": 上海 of 今天, 上海, 天气); null when it has none.
 */
export function knownShare(question: string, chunks: readonly ChunkRecord[], names: readonly string[], cues: SectionCues): number | null {
  // Situations ("#补领") are no words of the text; whole-word Han bigrams only (a Chinese guide
  // cannot know an English word). The question's own words, as the citizen said them: a word
  // the guide says otherwise ("小孩" for 未成年人, synonyms.yaml) counts as known.
  const own = [...contentTokens(question, cues, names, { expand: false })]
    .filter(([t, w]) => w === 1 && t.length > 1 && !t.startsWith('#') && isHan(t[0]!))
    .map(([t]) => t);
  if (!own.length) return null;
  const text = chunks.map((c) => normalizeText(`${c.title}\n${c.text}`)).join('\n');
  const syn = cues.synonyms ?? NO_SYNONYMS;
  return own.filter((t) => text.includes(t) || relatedWords(t, syn).some((r) => text.includes(r))).length / own.length;
}

/**
 * How the answering chunk is chosen within the service (calibrated on
 * knowledge/dev-questions.jsonl, see knowledge/section-eval.ts).
 */
export const CHOICE = {
  /** An FAQ entry answers when its question matches the citizen's this well (0..~2). */
  faqMatch: 0.9,
  /** Weight of the share of the question's own words found in the FAQ question. */
  faqCoverQuestion: 1,
  /** Weight of the share of the FAQ question's own words found in the question. */
  faqCoverTitle: 0.5,
  /** Bonus when FAQ question and citizen's question ask the same finer thing (validity, an amount...). */
  faqSameType: 0.9,
  /** ... the same section's thing (the fee, the channels), which the section itself also answers. */
  faqSameSection: 0.3,
  /** Penalty when both ask something and nothing in common. */
  faqOtherKind: 0.5,
  /** Bonus when both are asked in the same situation (lost, expired, on someone's behalf). */
  faqSameSituation: 0.4,
  /** Bonus for the FAQ entry the search ranked first within the service. */
  faqTopRank: 0.15,
  /** ... when the question asks something specific that the FAQ question does not. */
  faqMatchOther: 1.1,
  /** ... when the question asks nothing specific ("怎么办", "能…吗", a situation). */
  faqLoose: 0.6,
  /** ... when the question has no cue word at all. */
  faqNone: 0.4,
  /** Added to the word mass under a coverage share (a question of ubiquitous words covers little). */
  faqSmoothing: 0.5,
  /** The coverage of a question (or FAQ question) with no words of its own beyond names and cue words. */
  faqVacuous: 0.3,
  /**
   * Weight of the single characters of the words ("搬到新地址" and "搬家了" share 搬; "门店" and
   * "店面" share 店): a word said otherwise still counts for something.
   */
  faqCharWeight: 0.5,
};

/** Tokens with the Han characters of their words added at `weight` (a word's own weight wins). */
function withChars(tokens: Map<string, number>, weight: number): Map<string, number> {
  if (weight <= 0) return tokens;
  const out = new Map(tokens);
  for (const [t, w] of tokens) {
    if (t.startsWith('#') || t.length < 2) continue;
    for (const ch of t) if (isHan(ch) && !STOP.has(ch) && !out.has(ch)) out.set(ch, weight * w);
  }
  return out;
}

/**
 * Content tokens of a text, outside its cue words and the service's names: Han bigrams (a
 * lone character as it is) and other words, each with a weight of 1, or 0.5 for a bigram
 * that straddles a word boundary (segmentation noise as often as not).
 */
export function contentTokens(text: string, cues: SectionCues, names: readonly string[], opts: { expand?: boolean } = {}): Map<string, number> {
  // In the guides' wording (synonyms.yaml): "小孩" also counts as 孩子, 子女, 未成年人.
  let q = opts.expand === false ? rewriteQuery(text, cues) : expandQuery(text, cues);
  const blank = (a: number, b: number) => (q = q.slice(0, a) + ' '.repeat(b - a) + q.slice(b));
  const out = new Map<string, number>();
  // A situation ("丢了", "掉了", "家人帮") is what the question is about: one word for all its
  // phrasings. Other cue words say what is asked, not about what.
  for (const m of matchQuestionKinds(q, cues)) if (m.kind.situation) out.set(`#${m.kind.name}`, 1);
  for (const [a, b] of cueSpans(q, cues)) blank(a, b);
  const ns = names.map(normalizeText).filter((n) => n.length >= 2).sort((a, b) => b.length - a.length);
  for (const n of ns) {
    for (let at = q.indexOf(n); at >= 0; at = q.indexOf(n, at + 1)) blank(at, at + n.length);
  }
  // A name mistyped by one character ("居主证", "社宝卡") is still the name.
  for (const n of ns) for (const [a, b] of nearMentions(q, n)) blank(a, b);
  for (const t of queryTokens(q)) {
    if (STOP.has(t.token) || [...t.token].every((ch) => STOP.has(ch))) continue;
    out.set(t.token, Math.max(out.get(t.token) ?? 0, t.inWord ? 1 : 0.5));
  }
  return out;
}

/**
 * Where a text has a Han name of 3+ characters with exactly one character substituted
 * ("居主证" for 居住证, "社宝卡" for 社保卡).
 */
export function nearMentions(text: string, name: string): Span[] {
  const n = Array.from(name);
  if (n.length < 3 || !n.every(isHan)) return [];
  const out: Span[] = [];
  // Offsets in UTF-16 units, as the callers blank them (Han characters of the BMP: one unit each).
  for (let i = 0; i + name.length <= text.length; i++) {
    const w = text.slice(i, i + name.length);
    if (!Array.from(w).every(isHan)) continue;
    const diff = [...w].flatMap((ch, j) => (ch === name[j] ? [] : [j]));
    // Of a three-character name only the middle one ("居住地" is no 居住证).
    if (diff.length === 1 && (name.length > 3 || diff[0] === 1)) out.push([i, i + name.length]);
  }
  return out;
}

/** Function words and fillers that carry no topic. */
const STOP = new Set(['我', '的', '了', '吗', '呢', '吧', '啊', '呀', '么', '是', '要', '能', '会', '在', '还', '也', '都', '就', '有', '和', '与', '或', '我们', '你们', '他们', '一下', '这个', '那个', '一个', '请问', '什么', '可以', '需要', '一般', '现在', '已经', '大概', '大约', '到底', '怎么', '多少', '想', '得', '地', '着', '过', '被', '把', '给', '让', '对', '从', '向', '这', '那', '个', '些', '点', '啥', '哪', '呐', '嘛', '哦', '额', '吧', '您', '你', '他', '她', 'the', 'a', 'an', 'i', 'my', 'do', 'does', 'to', 'for', 'of', 'is', 'can', 'what', 'how', 'me',
  // Generic follow-up wording: "办好以后", "弄好之后" say when, not about what.
  '以后', '之后', '办好', '办完', '弄好', '下来', '到手', '然后', '的话', '这样', '那样',
  'who', 'when', 'where', 'which', 'much', 'long', 'it', 'in', 'on', 'at', 'be', 'are', 'am', 'will', 'should', 'could',
  'would', 'you', 'your', 'we', 'our', 'have', 'has', 'there', 'this', 'that', 'get', 'need', 'apply', 'want', 'please', 'shanghai']);

export interface ChoiceInput {
  question: string;
  /** What the question asks, most specific first (matchQuestionKinds). */
  kinds: KindMatch[];
  /** The service's hits for the question, best first. */
  ranked: readonly SearchHit[];
  /** All chunks of the service, in guide order. */
  chunks: readonly ChunkRecord[];
  /** The service's names and aliases. */
  names: readonly string[];
  cues: SectionCues;
  choice?: Partial<typeof CHOICE>;
}

export interface FaqFeatures {
  /** Share of the question's own words (weighted) found in the FAQ question. */
  coverQuestion: number;
  /** Share of the FAQ question's own words found in the question. */
  coverTitle: number;
  /** Both ask specifically the same thing: a finer type (validity, an amount), or a section's thing (the fee). */
  sameAsk: 'type' | 'section' | null;
  /** Both ask something specific, and nothing in common. */
  otherAsk: boolean;
  /** They are asked in the same situation (a lost card, an expired one). */
  sameSituation: boolean;
  /** The search's rank of this entry among the service's FAQ entries (0 = first). */
  rank: number | null;
}

export interface FaqScore {
  chunk: ChunkRecord;
  score: number;
  features: FaqFeatures;
}

/** How well each FAQ entry of the service matches the question (best first). */
export function scoreFaqs(input: ChoiceInput): FaqScore[] {
  const c = { ...CHOICE, ...input.choice };
  // Word weights within the service: a word in every chunk of the guide says little, and one
  // in none of them cannot tell its FAQ entries apart.
  const texts = input.chunks.map((ch) => normalizeText(`${ch.title}\n${ch.text}`));
  const n = texts.length;
  const idf = new Map<string, number>();
  const weight = (t: string) => {
    let w = idf.get(t);
    if (w === undefined && t.startsWith('#')) w = 1;
    if (w === undefined) {
      const df = texts.filter((x) => x.includes(t)).length;
      w = df ? Math.max(0.05, Math.log((n + 1) / (df + 0.5))) : 0;
      idf.set(t, w);
    }
    return w;
  };
  const mass = (m: Map<string, number>, keep: (t: string) => boolean = () => true) =>
    [...m].reduce((a, [t, v]) => (keep(t) ? a + v * weight(t) : a), 0);
  const q = withChars(contentTokens(input.question, input.cues, input.names), c.faqCharWeight);
  const qMass = mass(q);
  const qAsk = new Set(input.kinds.filter(isSpecific).map((k) => k.kind.name));
  const qTypes = new Set(input.kinds.filter((k) => k.kind.type).map((k) => k.kind.name));
  const qSituation = new Set(input.kinds.filter((k) => k.kind.situation).map((k) => k.kind.name));
  const rank = new Map(input.ranked.filter((h) => h.section === FAQ_SECTION).map((h, i) => [h.chunkId, i]));
  const score1 = (title: string, chunk: ChunkRecord): { score: number; features: FaqFeatures } => {
    const t = withChars(contentTokens(title, input.cues, input.names), c.faqCharWeight);
    const shared = mass(q, (x) => t.has(x));
    const kinds = matchQuestionKinds(title, input.cues);
    // What the FAQ question asks, a pattern ("能…吗") included; "X了怎么办" asks what to do, the procedure.
    const ask = new Set(kinds.filter((k) => !k.kind.situation).map((k) => (k.kind.weak ? PROCEDURE : k.kind.name)));
    const sameSituation = kinds.some((k) => k.kind.situation && qSituation.has(k.kind.name));
    // Sharing counts for what both ask plainly; a pattern of the FAQ question only keeps it from being another thing.
    const plain = new Set(kinds.filter(isSpecific).map((k) => k.kind.name));
    let sameAsk: FaqFeatures['sameAsk'] = [...qAsk].some((k) => plain.has(k) && qTypes.has(k))
      ? 'type'
      : [...qAsk].some((k) => plain.has(k))
        ? 'section'
        : null;
    // "丢了怎么补办" asks the procedure in the very situation of "丢了怎么办".
    // Whatever form the FAQ question takes ("丢了能补吗"): it is about the same situation.
    if (!sameAsk && sameSituation && qAsk.has(PROCEDURE)) sameAsk = 'section';
    // "怎么弄" and "要怎么注销": both ask how a thing is done ("…了怎么办" asks what to do in a
    // situation, which the situation decides).
    if (!sameAsk && qAsk.has(PROCEDURE) && kinds.some((k) => k.kind.weak && k.kind.sections.includes(PROCEDURE) && k.len <= 2)) sameAsk = 'section';
    const features: FaqFeatures = {
      // A question of nothing but its service and what it asks ("要多久") is answered by the
      // section, unless an FAQ entry asks the same finer thing (validity, an amount).
      coverQuestion: qMass ? shared / (qMass + c.faqSmoothing) : sameAsk === 'type' ? c.faqVacuous : 0,
      coverTitle: t.size ? shared / (mass(t) + c.faqSmoothing) : c.faqVacuous,
      sameAsk,
      otherAsk: !sameAsk && qAsk.size > 0 && ask.size > 0 && ![...qAsk].some((k) => ask.has(k)),
      sameSituation,
      rank: rank.get(chunk.chunkId) ?? null,
    };
    let score = c.faqCoverQuestion * features.coverQuestion + c.faqCoverTitle * features.coverTitle;
    if (features.sameAsk) score += features.sameAsk === 'type' ? c.faqSameType : c.faqSameSection;
    if (features.otherAsk) score -= c.faqOtherKind;
    if (features.sameSituation) score += c.faqSameSituation;
    if (features.rank === 0) score += c.faqTopRank;
    return { score, features };
  };
  const out: FaqScore[] = [];
  for (const chunk of input.chunks) {
    if (chunk.section !== FAQ_SECTION) continue;
    // An FAQ question may ask two things ("丢了怎么办？要交多少钱？"): the better one counts.
    const parts = chunk.title.split(/[？?！!。；;]/).map((x) => x.trim()).filter(Boolean);
    let best = score1(chunk.title, chunk);
    if (parts.length > 1) for (const part of parts) {
      const r = score1(part, chunk);
      if (r.score > best.score) best = r;
    }
    out.push({ chunk, ...best });
  }
  return out.sort((a, b) => b.score - a.score || a.chunk.ord - b.chunk.ord);
}

const PROCEDURE: SectionName = '办理流程';

/**
 * The chunk to answer from, within the service: an FAQ entry that asks what the citizen
 * asks; else the section the question asks for (for a finer type, the best-ranked chunk of
 * its sections that states the fact: validity, an amount); else the best hit.
 */
export function chooseChunk(given: ChoiceInput): ChunkRecord | undefined {
  const c = { ...CHOICE, ...given.choice };
  // A situation the service's own name states (换领 of 居民身份证换领) is the service itself.
  const own = normalizeText(given.chunks[0]?.serviceName ?? '');
  const input = { ...given, kinds: given.kinds.filter((k) => !(k.kind.situation && k.kind.words.some((w) => own.includes(w)))) };
  const faqs = scoreFaqs(input);
  const top = faqs[0];
  const floor = !input.kinds.some(isSpecific)
    ? input.kinds.length
      ? c.faqLoose
      : c.faqNone
    : top?.features.sameAsk
      ? c.faqMatch
      : c.faqMatchOther;
  if (top && top.score >= floor) return top.chunk;
  const rank = new Map(input.ranked.map((h, i) => [h.chunkId, i]));
  const byRank = (a: ChunkRecord, b: ChunkRecord) => (rank.get(a.chunkId) ?? 1e6) - (rank.get(b.chunkId) ?? 1e6) || a.ord - b.ord;
  const inSections = (m: KindMatch) => {
    const sections = m.kind.sections.filter((s) => s !== FAQ_SECTION);
    return input.chunks.filter((x) => sections.includes(x.section));
  };
  // What the question is about (its own words): a generic ask ("是什么意思", "怎么") about a
  // term its section does not speak of ("签注是什么意思" of 居住证) is answered where the term is.
  const about = [...contentTokens(input.question, input.cues, input.names)]
    .filter(([t, w]) => w === 1 && t.length > 1 && !t.startsWith('#'))
    .map(([t]) => t);
  const share = (x: ChunkRecord) => {
    const text = normalizeText(`${x.title}\n${x.text}`);
    return about.filter((t) => text.includes(t)).length / about.length;
  };
  for (const m of input.kinds) {
    let pool = inSections(m);
    if (m.kind.weak && about.length) {
      const here = Math.max(0, ...pool.map(share));
      const elsewhere = input.ranked
        .map((h) => input.chunks.find((x) => x.chunkId === h.chunkId))
        .filter((x): x is ChunkRecord => Boolean(x));
      const best = Math.max(0, ...elsewhere.map(share));
      // Only when its own section speaks of none of it (a guide's words spread widely).
      if (here === 0 && best >= 0.5) return elsewhere.find((x) => share(x) === best);
      if (here > 0) pool = pool.filter((x) => share(x) === here);
    }
    // The evidence patterns go from strong ("有效期为5年") to weak ("有效期"): the strongest that
    // any chunk states decides which chunks may answer.
    if (m.kind.evidence.length) {
      const texts = new Map(pool.map((x) => [x.chunkId, normalizeText(x.text)]));
      const e = m.kind.evidence.find((re) => pool.some((x) => re.test(texts.get(x.chunkId)!)));
      pool = e ? pool.filter((x) => e.test(texts.get(x.chunkId)!)) : [];
    }
    if (pool.length) return [...pool].sort(byRank)[0];
  }
  // No section states what a finer type asks: the section it most likely stands in, rather
  // than an FAQ entry about something else.
  for (const m of input.kinds) {
    const pool = inSections(m);
    if (pool.length) return [...pool].sort(byRank)[0];
  }
  return input.ranked[0];
}

export async function answerQuestion(
  kb: Pick<KnowledgeBase, 'search' | 'serviceChunks' | 'serviceNames' | 'catalogue' | 'cues' | 'bundleOf'>,
  question: string,
  opts: AnswerOptions = {},
): Promise<Answer> {
  const maxChars = opts.maxChars ?? 360;
  const sectionOpt = opts.sections?.length ? { sections: opts.sections } : {};
  const hits = await kb.search(question, { serviceId: opts.serviceId, k: opts.serviceId ? 40 : 10, ...sectionOpt });
  const allNames = await kb.serviceNames();
  const curated = new Map(kb.catalogue.map((c) => [c.id, [c.name, ...c.aliases]]));
  const picked = opts.serviceId ?? pickService(hits, mentionedServices(question, { curated, all: allNames }));
  // What is asked. Sections given by the caller (a model's reading of the question) count
  // where the question's own cue words find nothing (below).
  let kinds = matchQuestionKinds(question, kb.cues);
  // "报户口、办医保、社保卡能一起办吗": whether the parts go together is the 一件事's to answer.
  const together = !opts.serviceId && picked && kinds.some((k) => k.kind.together);
  const serviceId = (together ? kb.bundleOf(picked) : undefined) ?? picked;
  const ofService = serviceId === picked ? hits.filter((h) => h.serviceId === serviceId) : await kb.search(question, { serviceId, k: 40, ...sectionOpt });
  const best = ofService[0];
  if (!best) return { ...NOT_FOUND, confidence: { similarity: 0, coverage: 0 } };
  const strongest = ofService.reduce((a, h) => (evidence(h) > evidence(a) ? h : a), best);
  const named = nameMention(question, best.serviceId, { curated, all: allNames }) > 0;
  const confidence: Answer['confidence'] = {
    similarity: round(strongest.similarity),
    coverage: round(strongest.coverage),
    named,
  };
  const chunks = await kb.serviceChunks(best.serviceId);
  const names = allNames.get(best.serviceId) ?? [best.serviceName];
  const relevant = isRelevant(evidence(strongest), {
    named,
    serviceGiven: Boolean(opts.serviceId),
    known: knownShare(question, chunks, names, kb.cues),
    // Only a specific ask ("在哪里办", "要多久"): "怎么" alone does not make "怎么做红烧肉" about the guide.
    // A situation ("丢了", "家里人帮") or a question pattern ("能…吗") counts too: the guide's
    // words decide ("能做红烧肉吗" is about nothing it knows).
    cued: kinds.some((k) => !k.kind.weak) || (!kinds.length && Boolean(opts.sections?.length)),
    relevance: opts.relevance,
  });
  if (!relevant) return { ...NOT_FOUND, confidence };

  // Within the service: which part of the guide answers what is asked.
  const ranked = opts.serviceId ? ofService : await kb.search(question, { serviceId: best.serviceId, k: 40, ...sectionOpt });
  const asked = opts.sections?.[0];
  if (asked && !kinds.some((k) => k.kind.sections.includes(asked))) {
    const kind = kb.cues.kinds.find((k) => !k.type && k.name === asked);
    if (kind) kinds = [{ kind, len: 0, at: 0 }, ...kinds];
  }
  const chosen: ChunkRecord =
    chooseChunk({
      question,
      kinds,
      ranked,
      chunks,
      names,
      cues: kb.cues,
      choice: opts.choice,
    }) ?? best;

  let body: string;
  let lead: string;
  let used: ChunkRecord[];
  if (chosen.section === FAQ_SECTION) {
    const a = chosen.text.replace(/^问[：:][^\n]*\n/, '').replace(/^答[：:]\s*/, '');
    lead = `关于${chosen.serviceName}，“${chosen.title}”`;
    body = trim(a, maxChars);
    used = [chosen];
  } else {
    // The chosen chunk is of this service: its section's pieces are among the chunks read above.
    const pieces = chunks.filter((c) => c.section === chosen.section);
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
