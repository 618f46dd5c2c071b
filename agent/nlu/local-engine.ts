/**
 * The offline, Chinese-aware local NLU engine.
 *
 * Pipeline: normalise -> catalogue alias matching (longest match first) -> sparse features
 * (token 1-3-grams where a token is a CJK character or a Latin word, alias hits, act cue words)
 * -> two softmax-regression classifiers trained at construction on `loadTrainingData()`
 *    (each a small ensemble: models trained on different shuffles, probabilities averaged):
 *   - act:     over the text with service names masked (so "我要开§" generalises across services),
 *   - service: over the raw text plus alias hits, with an extra "none" class.
 * Then dialogue cues (confirm / deny), slot lexicons and the dialogue context are applied.
 *
 * Everything the engine knows lives in data files (services.json, phrasings.yaml, acts.yaml,
 * slots.yaml, homophones.yaml): adding a service means adding data, not code.
 */
import { createNormalizer, loadHomophones, type Normalizer } from './normalize.js';
import { askFieldsOf, compileSlotLexicon, extractSlots, loadSlotsData, slotsFile, type SlotLexicon } from './slots.js';
import {
  buildTrainingData,
  loadNluSources,
  type ActsData,
  type CatalogueService,
  type DataPaths,
  type TrainingExample,
} from './training-data.js';
import { ACTS, type Act, type NluContext, type NluEngine, type NluResult } from './types.js';
import { mulberry32 } from '../../core/prng.js';

// ------------------------------------------------------------------ tunables

/** Placeholder written over a span recognised as a service name. */
const MASK = '§';
const NONE = '__none__';

export interface LocalEngineOptions {
  paths?: DataPaths;
  /** Training epochs of both classifiers. */
  epochs?: number;
  /** AdaGrad learning rate. */
  rate?: number;
  /** L2 penalty. */
  l2?: number;
  /** Value of the alias (service-name) features. */
  aliasWeight?: number;
  /** Features seen fewer times than this in training are dropped. */
  minCount?: number;
  /** Average the weights over epochs. */
  average?: boolean;
  /** Train the "none" service class on lines with their service names cut out. */
  augmentNone?: boolean;
  /** Only remainders this short are generic enough to count as "no service". */
  augmentMaxLen?: number;
  /** Mask a bare service name whole for the act model. */
  bareNames?: boolean;
  /** Shuffling seed of the training. */
  seed?: number;
  /** Number of models (different shuffles) whose probabilities are averaged. */
  ensemble?: number;
  /** The same for the service model (31 classes: dearer to train, and steadier already). */
  serviceEnsemble?: number;
}

const T = {
  /** Below this service probability (and with no alias hit) no service is claimed. */
  serviceFloor: 0.3,
  /** No service clearly named, but one service has this much probability and this share of it. */
  weakService: { medium: 0.15, mediumShare: 0.6, low: 0.02, lowShare: 0.9 },
  /** Top-two service probabilities closer than this -> clarification. */
  serviceMargin: 0.2,
  /** Act probability under which the act counts as uncertain. */
  actUncertain: 0.45,
  /** Overall confidence under which an apply/consult result asks for clarification. */
  lowConfidence: 0.55,
  /** While awaiting a field: an act must be this sure to override "this is an answer". */
  awaitQuestion: 0.6,
  awaitLeave: 0.6,
  awaitChatter: 0.85,
  /** A service the classifier prefers over the one the text names must have this share to win. */
  overruleName: 0.6,
  /** Service probability floor when the text contains one of the service's names. */
  aliasEvidence: 0.85,
  /** A named service this probable overrules an out-of-scope / greeting act... */
  namedService: 0.9,
  /** ...unless the act model is this sure ("居住证用英语怎么说" talks about a service word, asks for none). */
  sureChatter: 0.9,
  /** Without a name in the text, a classifier guess must be this sure to leave the context service. */
  switchService: 0.8,
};

// ------------------------------------------------------------------ text helpers

const isLatin = (ch: string | undefined): boolean => ch !== undefined && /[a-z0-9]/.test(ch);

function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** Tokens: every CJK (or other non-Latin) character alone, every Latin word stemmed. */
function tokenize(s: string): string[][] {
  const clauses: string[][] = [];
  for (const clause of s.split(',')) {
    const toks: string[] = [];
    let word = '';
    for (const ch of clause) {
      if (isLatin(ch)) {
        word += ch;
        continue;
      }
      if (word) {
        toks.push(stem(word));
        word = '';
      }
      if (ch !== ' ') toks.push(ch);
    }
    if (word) toks.push(stem(word));
    if (toks.length) clauses.push(toks);
  }
  return clauses;
}

type Features = Map<string, number>;

function addNgrams(s: string, prefix: string, feats: Features): void {
  const all: string[] = ['<'];
  tokenize(s).forEach((c, i) => {
    if (i > 0) all.push('|');
    for (const t of c) all.push(t);
  });
  all.push('>');
  const n = all.length;
  for (let i = 0; i < n; i++) {
    const a = all[i]!;
    if (a !== '<' && a !== '>' && a !== '|') feats.set(prefix + a, 1);
    if (i + 1 < n) {
      const ab = `${a} ${all[i + 1]!}`;
      feats.set(prefix + ab, 1);
      if (i + 2 < n) feats.set(`${prefix}${ab} ${all[i + 2]!}`, 1);
    }
  }
}

// ------------------------------------------------------------------ lexicon matching

interface LexEntry<V> {
  text: string;
  value: V;
  latin: boolean;
}

interface Hit<V> {
  start: number;
  end: number;
  value: V;
  text: string;
}

/** A phrase lexicon indexed by first character. */
class Lexicon<V> {
  private readonly byFirst = new Map<string, LexEntry<V>[]>();
  constructor(readonly entries: LexEntry<V>[]) {
    for (const e of entries) {
      const k = e.text[0]!;
      const list = this.byFirst.get(k) ?? [];
      list.push(e);
      this.byFirst.set(k, list);
    }
  }

  /** Longest match first, non-overlapping; Latin entries only at word boundaries (a plural 's' is allowed). */
  match(s: string): Hit<V>[] {
    const found: Hit<V>[] = [];
    for (let i = 0; i < s.length; i++) {
      const list = this.byFirst.get(s[i]!);
      if (!list) continue;
      for (const e of list) {
        if (!s.startsWith(e.text, i)) continue;
        let end = i + e.text.length;
        if (e.latin) {
          if (isLatin(e.text[0]) && isLatin(s[i - 1])) continue;
          if (isLatin(e.text[e.text.length - 1]) && isLatin(s[end])) {
            if (s[end] === 's' && !isLatin(s[end + 1])) end += 1;
            else continue;
          }
        }
        found.push({ start: i, end, value: e.value, text: e.text });
      }
    }
    found.sort((a, b) => b.text.length - a.text.length || a.start - b.start);
    const hits: Hit<V>[] = [];
    for (const h of found) if (!hits.some((k) => h.start < k.end && k.start < h.end)) hits.push(h);
    return hits.sort((a, b) => a.start - b.start);
  }
}

function cutSpans(s: string, hits: Hit<unknown>[]): string {
  let out = '';
  let pos = 0;
  for (const h of hits) {
    out += s.slice(pos, h.start);
    pos = h.end;
  }
  return (out + s.slice(pos)).replace(/^[,? ]+|[, ]+$/g, '');
}

function mask(s: string, hits: Hit<unknown>[]): string {
  let out = '';
  let pos = 0;
  for (const h of hits) {
    out += s.slice(pos, h.start) + MASK.repeat(h.end - h.start);
    pos = h.end;
  }
  return out + s.slice(pos);
}

// ------------------------------------------------------------------ softmax regression

/** Multinomial logistic regression over sparse binary features, trained with AdaGrad. */
class SoftmaxRegression {
  private readonly index = new Map<string, number>();
  private W = new Float64Array(0);
  private readonly bias: Float64Array;

  constructor(readonly classes: readonly string[]) {
    this.bias = new Float64Array(classes.length);
  }

  train(
    data: { feats: Features; y: number }[],
    epochs: number,
    rate = 0.5,
    l2 = 1e-5,
    average = true,
    minCount = 1,
    seed = 42,
  ): void {
    const K = this.classes.length;
    // Features seen fewer than `minCount` times are dropped: they only memorise single lines.
    const counts = new Map<string, number>();
    if (minCount > 1) for (const d of data) for (const f of d.feats.keys()) counts.set(f, (counts.get(f) ?? 0) + 1);
    const rows = data.map((d) => {
      const idx: number[] = [];
      const val: number[] = [];
      for (const [f, v] of d.feats) {
        if (minCount > 1 && (counts.get(f) ?? 0) < minCount) continue;
        let j = this.index.get(f);
        if (j === undefined) {
          j = this.index.size;
          this.index.set(f, j);
        }
        idx.push(j);
        val.push(v);
      }
      return { idx, val, y: d.y };
    });
    const nF = this.index.size;
    this.W = new Float64Array(nF * K);
    const G = new Float64Array(nF * K).fill(1e-8);
    const Gb = new Float64Array(K).fill(1e-8);
    const p = new Float64Array(K);
    const rand = mulberry32(seed);
    const order = rows.map((_, i) => i);
    const Wsum = new Float64Array(average ? nF * K : 0);
    const bsum = new Float64Array(K);
    let averaged = 0;
    for (let ep = 0; ep < epochs; ep++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const r of order) {
        const row = rows[r]!;
        this.scores(row.idx, row.val, p);
        softmaxInPlace(p);
        for (let k = 0; k < K; k++) {
          const g = p[k]! - (k === row.y ? 1 : 0);
          if (g > -1e-4 && g < 1e-4) continue; // negligible: skip the sparse update
          Gb[k]! += g * g;
          this.bias[k]! -= (rate * g) / Math.sqrt(Gb[k]!);
          for (let t = 0; t < row.idx.length; t++) {
            const w = row.idx[t]! * K + k;
            const gw = g * row.val[t]! + l2 * this.W[w]!;
            G[w]! += gw * gw;
            this.W[w]! -= (rate * gw) / Math.sqrt(G[w]!);
          }
        }
      }
      // Average the weights of every epoch after the first: a steadier, better-generalising model.
      if (average && ep > 0) {
        for (let i = 0; i < this.W.length; i++) Wsum[i]! += this.W[i]!;
        for (let k = 0; k < K; k++) bsum[k]! += this.bias[k]!;
        averaged++;
      }
    }
    if (averaged > 0) {
      for (let i = 0; i < this.W.length; i++) this.W[i] = Wsum[i]! / averaged;
      for (let k = 0; k < K; k++) this.bias[k] = bsum[k]! / averaged;
    }
  }

  private scores(idx: number[], val: number[], out: Float64Array): void {
    const K = this.classes.length;
    for (let k = 0; k < K; k++) out[k] = this.bias[k]!;
    for (let t = 0; t < idx.length; t++) {
      const base = idx[t]! * K;
      const v = val[t]!;
      for (let k = 0; k < K; k++) out[k]! += this.W[base + k]! * v;
    }
  }

  /** Class probabilities. */
  predict(feats: Features): Float64Array {
    const idx: number[] = [];
    const val: number[] = [];
    for (const [f, v] of feats) {
      const j = this.index.get(f);
      if (j !== undefined) {
        idx.push(j);
        val.push(v);
      }
    }
    const out = new Float64Array(this.classes.length);
    this.scores(idx, val, out);
    return softmaxInPlace(out);
  }
}

/** Several models trained on different shuffles; their probabilities are averaged. */
class Ensemble {
  constructor(
    readonly classes: readonly string[],
    private readonly models: SoftmaxRegression[],
  ) {}

  predict(feats: Features): Float64Array {
    if (this.models.length === 1) return this.models[0]!.predict(feats);
    const out = new Float64Array(this.classes.length);
    for (const m of this.models) {
      const p = m.predict(feats);
      for (let i = 0; i < out.length; i++) out[i]! += p[i]! / this.models.length;
    }
    return out;
  }
}

function softmaxInPlace(a: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of a) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    a[i] = Math.exp(a[i]! - max);
    sum += a[i]!;
  }
  for (let i = 0; i < a.length; i++) a[i]! /= sum;
  return a;
}


function ranked(classes: readonly string[], p: Float64Array): { label: string; p: number }[] {
  return classes.map((label, i) => ({ label, p: p[i]! })).sort((a, b) => b.p - a.p);
}

// ------------------------------------------------------------------ dialogue cues

interface DialogueCues {
  confirm: { exact: Set<string>; prefix: string[]; anywhere: string[] };
  deny: { exact: Set<string>; prefix: string[]; anywhere: string[] };
  ignore: string[];
}

function compileDialogue(d: ActsData['dialogue'], norm: Normalizer): DialogueCues {
  const n = (xs: string[]): string[] => xs.map((x) => norm.normalize(x)).filter(Boolean).sort((a, b) => b.length - a.length);
  const side = (x: ActsData['dialogue']['confirm']) => ({
    exact: new Set(n(x.exact)),
    prefix: n(x.prefix),
    anywhere: n(x.anywhere),
  });
  return { confirm: side(d.confirm), deny: side(d.deny), ignore: n(d.ignore) };
}

function detectDialogue(s: string, cues: DialogueCues): 'confirm' | 'deny' | null {
  const bare = s.replace(/[,? ]+/g, '');
  const startsWith = (p: string): boolean => {
    if (!s.startsWith(p)) return false;
    const next = s[p.length];
    if (next === undefined || next === ',' || next === '?' || next === ' ') return true;
    // A one-character cue ("对", "好") must stand alone; a Latin one must end at a word boundary.
    if (isLatin(p[p.length - 1])) return !isLatin(next);
    return p.length >= 2;
  };
  const ignored = cues.ignore.some((ig) => s.startsWith(ig));
  const side = (c: DialogueCues['confirm']): boolean =>
    c.exact.has(bare) ||
    (!ignored && c.prefix.some(startsWith)) ||
    c.anywhere.some((a) => {
      const i = s.indexOf(a);
      return i >= 0 && !cues.ignore.some((ig) => s.slice(Math.max(0, i - ig.length + a.length), i + ig.length).includes(ig));
    });
  if (side(cues.deny)) return 'deny';
  if (side(cues.confirm)) return 'confirm';
  return null;
}

// ------------------------------------------------------------------ the engine

export class LocalNluEngine implements NluEngine {
  readonly name = 'local';
  private readonly norm: Normalizer;
  private readonly services: CatalogueService[];
  private readonly serviceById: Map<string, CatalogueService>;
  private readonly aliases: Lexicon<string[]>;
  /** Atomic names (no shorter name of the same service inside), masked for the act model. */
  private readonly atomicAliases: Lexicon<string[]>;
  private readonly cues: Lexicon<Act>;
  private readonly dialogue: DialogueCues;
  private readonly neutral: string[];
  private readonly slotLex: SlotLexicon;
  private readonly actModel: Ensemble;
  private readonly serviceModel: Ensemble;
  /** Milliseconds spent building the engine. */
  readonly buildMs: number;
  readonly trainingSize: number;
  private readonly aliasWeight: number;
  /** Set to record decision internals of the last call in `lastDebug` (tuning aid). */
  debug = false;
  lastDebug: Record<string, unknown> | undefined;
  private readonly augmentNone: boolean;
  private readonly augmentMaxLen: number;
  private readonly bareNames: boolean;

  constructor(options: LocalEngineOptions = {}) {
    const t0 = performance.now();
    const paths = options.paths ?? {};
    this.aliasWeight = options.aliasWeight ?? 3;
    this.augmentNone = options.augmentNone ?? true;
    this.augmentMaxLen = options.augmentMaxLen ?? 6;
    this.bareNames = options.bareNames ?? true;
    this.norm = createNormalizer(loadHomophones(paths));
    const sources = loadNluSources(paths);
    this.services = sources.catalogue;
    this.serviceById = new Map(this.services.map((s) => [s.id, s]));
    const acts = sources.acts;

    // Service-name lexicon: catalogue names and aliases plus phrasings aliases.
    const aliasMap = new Map<string, Set<string>>();
    for (const svc of this.services) {
      const ph = sources.phrasings.get(svc.id);
      for (const a of [svc.name, ...svc.aliases, ...(ph?.aliases ?? [])]) {
        const t = this.norm.normalize(a);
        if (t.length < 2) continue;
        const set = aliasMap.get(t) ?? new Set<string>();
        set.add(svc.id);
        aliasMap.set(t, set);
      }
    }
    const aliasEntries = [...aliasMap].map(([text, set]) => ({ text, value: [...set], latin: /[a-z0-9]/.test(text) }));
    this.aliases = new Lexicon(aliasEntries);
    // "申请居住证" contains "居住证": mask only "居住证" so the act model still sees "申请§".
    this.atomicAliases = new Lexicon(
      aliasEntries.filter(
        (e) =>
          !aliasEntries.some(
            (f) => f.text.length < e.text.length && e.text.includes(f.text) && f.value.every((id) => e.value.includes(id)),
          ),
      ),
    );

    const cues: LexEntry<Act>[] = [];
    for (const act of ACTS) {
      for (const c of acts.cues[act] ?? []) {
        const t = this.norm.normalize(c);
        if (t) cues.push({ text: t, value: act, latin: /[a-z0-9]/.test(t) });
      }
    }
    this.cues = new Lexicon(cues);
    this.dialogue = compileDialogue(acts.dialogue, this.norm);
    this.neutral = acts.dialogue.neutral.map((x) => this.norm.normalize(x)).filter(Boolean);
    this.slotLex = compileSlotLexicon(loadSlotsData(paths), this.services, slotsFile(paths));

    // Train both classifiers on the one training set.
    const training: TrainingExample[] = buildTrainingData(sources);
    this.trainingSize = training.length;
    const serviceClasses = [NONE, ...this.services.map((s) => s.id)];
    const actRows: { feats: Features; y: number }[] = [];
    const svcRows: { feats: Features; y: number }[] = [];
    for (const ex of training) {
      const s = this.norm.normalize(ex.text);
      if (!s) continue;
      const hits = this.aliases.match(s);
      actRows.push({ feats: this.actFeatures(s, hits), y: ACTS.indexOf(ex.act) });
      const y = serviceClasses.indexOf(ex.service ?? NONE);
      if (y < 0) throw new Error(`training example "${ex.text}" names unknown service ${ex.service}`);
      svcRows.push({ feats: this.serviceFeatures(s, hits), y });
      // The same line with its service names cut out says nothing about the service: it teaches
      // the "none" class what generic wording looks like ("……要多久" alone names no service).
      if (this.augmentNone && ex.service && hits.length) {
        const rest = cutSpans(s, hits);
        // Length in tokens: a CJK character or a whole Latin word ("how long does it take to get a").
        const len = tokenize(rest).reduce((n, c) => n + c.length, 0);
        if (len >= 2 && len <= this.augmentMaxLen) svcRows.push({ feats: this.serviceFeatures(rest, []), y: 0 });
      }
    }
    const epochs = options.epochs ?? 5;
    const rate = options.rate ?? 0.5;
    const l2 = options.l2 ?? 1e-4;
    const average = options.average ?? true;
    const minCount = options.minCount ?? 2;
    const seed = options.seed ?? 42;
    const k = options.ensemble ?? 5;
    const ks = options.serviceEnsemble ?? 2;
    const trainAll = (classes: readonly string[], rows: { feats: Features; y: number }[], k: number): Ensemble => {
      const models: SoftmaxRegression[] = [];
      for (let i = 0; i < k; i++) {
        const m = new SoftmaxRegression(classes);
        m.train(rows, epochs, rate, l2, average, minCount, seed + 7919 * i);
        models.push(m);
      }
      return new Ensemble(classes, models);
    };
    this.actModel = trainAll(ACTS, actRows, k);
    this.serviceModel = trainAll(serviceClasses, svcRows, ks);
    this.buildMs = performance.now() - t0;
  }

  private actFeatures(s: string, hits: Hit<string[]>[]): Features {
    const feats: Features = new Map();
    // A bare name ("退休手续", "公租房申请") is masked whole: naming a service asks for it, and the
    // words inside a name ("手续", "申请") must not learn the act of every line that is only a name.
    const bare = this.bareNames && hits.length === 1 && hits[0]!.start === 0 && hits[0]!.end === s.length;
    const masked = bare ? MASK : mask(s, this.atomicAliases.match(s)).replace(new RegExp(`${MASK}+`, 'g'), MASK);
    addNgrams(masked, 'a:', feats);
    for (const c of this.cues.match(s)) feats.set(`cue:${c.value}`, 1);
    feats.set(hits.length ? 'has:svc' : 'has:nosvc', 1);
    const len = s.replace(/[, ]/g, '').length;
    feats.set(`len:${len <= 2 ? 's' : len <= 5 ? 'm' : len <= 12 ? 'l' : 'xl'}`, 1);
    return feats;
  }

  private serviceFeatures(s: string, hits: Hit<string[]>[]): Features {
    const feats: Features = new Map();
    addNgrams(s, 's:', feats);
    for (const h of hits) for (const id of h.value) feats.set(`alias:${id}`, this.aliasWeight);
    // With several services named, the one asked about usually comes last ("户口迁了以后护照……").
    const last = hits[hits.length - 1];
    if (hits.length > 1 && last) for (const id of last.value) feats.set(`alias-last:${id}`, this.aliasWeight);
    return feats;
  }

  async understand(text: string, ctx: NluContext = {}): Promise<NluResult> {
    return this.understandSync(text, ctx);
  }

  /** Synchronous variant of `understand` (the engine does no I/O after construction). */
  understandSync(text: string, ctx: NluContext = {}): NluResult {
    const cased = this.norm.normalizeCased(text);
    const s = cased.toLowerCase();
    const ctxService = ctx.service && this.serviceById.has(ctx.service) ? ctx.service : null;
    const awaiting = ctx.awaiting ?? null;
    if (!s) {
      // Nothing usable (silence, punctuation only): nothing understood, ask again.
      return {
        act: 'out_of_scope',
        service: null,
        slots: {},
        confidence: 0,
        candidates: [],
        needsClarification: true,
        dialogue: null,
        normalized: s,
      };
    }

    const hits = this.aliases.match(s);
    const actRank = ranked(ACTS, this.actModel.predict(this.actFeatures(s, hits)));
    const svcRank = ranked(this.serviceModel.classes, this.serviceModel.predict(this.serviceFeatures(s, hits)));
    const dialogue = detectDialogue(s, this.dialogue);

    let act = actRank[0]!.label as Act;
    let pAct = actRank[0]!.p;
    const pNone = svcRank.find((c) => c.label === NONE)?.p ?? 0;
    // Candidate scores: the service distribution with the "none" mass taken out.
    const candidates = svcRank
      .filter((c) => c.label !== NONE)
      .slice(0, 5)
      .map((c) => ({ service: c.label, score: round(c.p / Math.max(1e-9, 1 - pNone)) }));
    const topSvc = svcRank[0]!;
    const topReal = svcRank.find((c) => c.label !== NONE)!;
    const secondReal = svcRank.filter((c) => c.label !== NONE)[1];
    const aliasServices = new Set(hits.flatMap((h) => h.value));

    // What the text itself says about the service.
    let mentioned: string | null = null;
    let weakMention = false;
    let pService = topSvc.label === NONE ? topSvc.p : topReal.p;
    const renorm = topReal.p / Math.max(1e-9, 1 - pNone);
    if (topSvc.label !== NONE && topSvc.p >= T.serviceFloor) mentioned = topSvc.label;
    else if (aliasServices.has(topReal.label)) mentioned = topReal.label;
    if (mentioned) pService = topReal.p;
    else if (
      (topReal.p >= T.weakService.medium && renorm >= T.weakService.mediumShare) ||
      (topReal.p >= T.weakService.low && renorm >= T.weakService.lowShare)
    ) {
      // Weak but one-sided evidence ("宝宝户口办好了吗"): take the service, with modest confidence.
      mentioned = topReal.label;
      weakMention = true;
      pService = Math.max(topReal.p, 0.5 * renorm);
    }
    // One service named outright, and the classifier unsure about another one it prefers: the name
    // wins ("how long does it take to get a residence permit" must not follow the wording of a
    // training line about another service). A confident classifier may still overrule a name
    // ("我是应届毕业生，想落户上海": 落户 names household_transfer, the rest says talent_hukou).
    if (aliasServices.size === 1 && mentioned && !aliasServices.has(mentioned) && renorm < T.overruleName) {
      const named = svcRank.find((c) => aliasServices.has(c.label))!;
      mentioned = named.label;
      weakMention = false;
      pService = named.p;
    }
    const serviceClose = !!mentioned && !!secondReal && topReal.p - secondReal.p < T.serviceMargin;

    // "Not a government-service request" contradicts a service named outright and recognised
    // with high confidence: fall back to the best service act instead.
    if (
      (act === 'out_of_scope' || act === 'greeting') &&
      mentioned &&
      aliasServices.has(mentioned) &&
      topReal.p >= T.namedService &&
      pAct < T.sureChatter
    ) {
      const alt = actRank.find((a) => a.label === 'apply' || a.label === 'consult' || a.label === 'progress');
      if (alt) {
        act = alt.label as Act;
        pAct = Math.max(alt.p, pAct * 0.5);
      }
    }

    let service: string | null = null;
    let answer = false;
    let fromContext = false;
    if (act === 'apply' || act === 'consult' || act === 'progress') service = mentioned;
    // A handoff names a service only when the citizen clearly does.
    if (act === 'handoff' && !weakMention) service = mentioned;

    // A service the text itself names (alias) is certain evidence; a classifier guess is weaker.
    if (mentioned && aliasServices.has(mentioned)) pService = Math.max(pService, T.aliasEvidence);

    // Dialogue context: a message that names no other service continues the current one.
    // While a field is awaited only a named service switches; otherwise a confident guess may.
    const switches =
      !!mentioned &&
      mentioned !== ctxService &&
      (aliasServices.has(mentioned) || (!awaiting && topReal.p >= T.switchService));
    if (ctxService && !switches) {
      const probe = this.slotsFor(ctxService, s, cased, hits, awaiting, false);
      const hasSlots = Object.keys(probe).length > 0;
      const neutral = this.neutral.some((n) => s.includes(n));
      const answerish = dialogue !== null || hasSlots || neutral;
      if (awaiting) {
        // Leaving the form needs its own words ("转人工", "算了") or a sure, non-answer message.
        const cueActs = new Set(this.cues.match(s).map((c) => c.value));
        const leaves = (a: 'handoff' | 'cancel'): boolean =>
          cueActs.has(a) || (pAct >= T.awaitLeave && !answerish);
        const keep =
          (act === 'handoff' && leaves('handoff')) ||
          (act === 'cancel' && !hasSlots && leaves('cancel')) ||
          ((act === 'consult' || act === 'progress') && pAct >= T.awaitQuestion && !answerish) ||
          ((act === 'greeting' || act === 'out_of_scope') && pAct >= T.awaitChatter && !answerish);
        if (!keep) {
          answer = true;
          act = 'apply';
          pAct = answerish ? Math.max(pAct, 0.9) : Math.min(Math.max(pAct, 0.5), 0.7);
        }
      } else if (answerish && (act === 'greeting' || act === 'out_of_scope')) {
        act = 'apply';
        pAct = Math.max(pAct, 0.7);
      }
      if (act === 'apply' || act === 'consult' || act === 'progress') {
        service = ctxService;
        pService = Math.max(pService, mentioned === ctxService ? topReal.p : 0.9);
        fromContext = true;
      }
    }

    const inQuestion = service ?? (act === 'handoff' || act === 'cancel' ? null : ctxService);
    const slots =
      inQuestion && act !== 'out_of_scope' && act !== 'greeting' && act !== 'cancel'
        ? this.slotsFor(inQuestion, s, cased, hits, inQuestion === ctxService ? awaiting : null, answer)
        : {};

    const confidence = round(service ? pAct * pService : act === 'apply' || act === 'consult' ? pAct * 0.5 : pAct);
    const needsClarification =
      (!answer &&
        (act === 'apply' || act === 'consult') &&
        (service === null || (serviceClose && !fromContext) || confidence < T.lowConfidence)) ||
      (pAct < T.actUncertain && !answer);

    if (this.debug) this.lastDebug = { pNone, topReal: topReal.p, topLabel: topReal.label, alias: [...aliasServices] };
    return {
      act,
      service,
      slots,
      confidence,
      candidates,
      needsClarification,
      dialogue,
      normalized: s,
    };
  }

  private slotsFor(
    serviceId: string,
    s: string,
    cased: string,
    hits: Hit<string[]>[],
    awaiting: string | null,
    allowFallback: boolean,
  ): Record<string, string> {
    const fields = askFieldsOf(this.serviceById.get(serviceId));
    if (!fields.length) return {};
    // Only this service's own names are masked ("居住证" must not read as 居住 -> 合法稳定居所);
    // another service's name is ordinary wording here ("房产证在我名下" is about a home).
    const own = hits.filter((h) => h.value.includes(serviceId));
    const masked = mask(s, own);
    const maskedCased = cased.length === s.length ? mask(cased, own) : undefined;
    return extractSlots(this.slotLex, {
      text: masked,
      ...(maskedCased !== undefined ? { cased: maskedCased } : {}),
      fields,
      awaiting,
      allowFallback,
    });
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Build the local engine (trains once, typically well under a second). */
export function createLocalEngine(options: LocalEngineOptions = {}): LocalNluEngine {
  return new LocalNluEngine(options);
}
