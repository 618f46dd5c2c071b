/**
 * The intent model of the local engine: what a message asks for (act) and about which
 * service, from two softmax-regression classifiers trained at construction on the one
 * training set (`loadTrainingData()`), each a small ensemble (models trained on different
 * shuffles, probabilities averaged):
 *   - act:     over the text with service names masked (so "我要开§" generalises across services),
 *   - service: over the raw text plus alias hits, with an extra "none" class.
 * Context-free: what the message means in the conversation is the dialogue policy's call.
 */
import type { FileCache } from '../../core/file-cache.js';
import { Ensemble, ranked, SoftmaxRegression, trainingKey } from './classifier.js';
import { addNgrams, MASK, tokenize, type Features } from './features.js';
import { cutSpans, Lexicon, mask, type Hit, type LexEntry } from './lexicon.js';
import type { Normalizer } from './normalize.js';
import { buildTrainingData, type CatalogueService, type DataPaths, type NluSources, type TrainingExample } from './training-data.js';
import { ACTS, type Act } from './types.js';

const NONE = '__none__';

export interface IntentModelOptions {
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
  /**
   * Where trained models are kept between starts, keyed by everything training depends on
   * (trainer code, hyperparameters, every feature of every row): a start with unchanged data
   * and code loads the weights instead of training (same weights, same answers).
   */
  cache?: Pick<FileCache, 'get' | 'set'>;
}

export const T = {
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
  /** A service the classifier prefers over the one the text names must have this share to win. */
  overruleName: 0.6,
  /** Service probability floor when the text contains one of the service's names. */
  aliasEvidence: 0.85,
  /** A named service this probable overrules an out-of-scope / greeting act... */
  namedService: 0.9,
  /** ...unless the act model is this sure ("居住证用英语怎么说" talks about a service word, asks for none). */
  sureChatter: 0.9,
};

export interface Intent {
  act: Act;
  pAct: number;
  service: string | null;
  /** Service probability behind `service` (alias evidence included). */
  pService: number;
  candidates: { service: string; score: number }[];
  /** Top two services too close to tell. */
  serviceClose: boolean;
  /** The service was only weakly evidenced (no name in the text). */
  weakMention: boolean;
  /** Service-name hits in the text. */
  hits: Hit<string[]>[];
  /** Act cue words found. */
  cues: Set<Act>;
}

export class IntentModel {
  private readonly services: CatalogueService[];
  readonly aliases: Lexicon<string[]>;
  /** Atomic names (no shorter name of the same service inside), masked for the act model. */
  private readonly atomicAliases: Lexicon<string[]>;
  private readonly cueLex: Lexicon<Act>;
  private readonly actModel: Ensemble;
  private readonly serviceModel: Ensemble;
  private readonly aliasWeight: number;
  private readonly augmentNone: boolean;
  private readonly augmentMaxLen: number;
  private readonly bareNames: boolean;
  readonly trainingSize: number;

  constructor(sources: NluSources, private readonly norm: Normalizer, options: IntentModelOptions = {}) {
    this.aliasWeight = options.aliasWeight ?? 3;
    this.augmentNone = options.augmentNone ?? true;
    this.augmentMaxLen = options.augmentMaxLen ?? 6;
    this.bareNames = options.bareNames ?? true;
    this.services = sources.catalogue;
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
    const aliasEntries: LexEntry<string[]>[] = [...aliasMap].map(([text, set]) => ({ text, value: [...set], latin: /[a-z0-9]/.test(text) }));
    this.aliases = new Lexicon(aliasEntries);
    // "申请居住证" contains "居住证": mask only "居住证" so the act model still sees "申请§".
    this.atomicAliases = new Lexicon(
      aliasEntries.filter(
        (e) => !aliasEntries.some((f) => f.text.length < e.text.length && e.text.includes(f.text) && f.value.every((id) => e.value.includes(id))),
      ),
    );
    const cues: LexEntry<Act>[] = [];
    for (const act of ACTS) {
      for (const c of acts.cues[act] ?? []) {
        const t = this.norm.normalize(c);
        if (t) cues.push({ text: t, value: act, latin: /[a-z0-9]/.test(t) });
      }
    }
    this.cueLex = new Lexicon(cues);

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
    const trainAll = (name: string, classes: readonly string[], rows: { feats: Features; y: number }[], k: number): Ensemble => {
      const cache = options.cache;
      const key = cache ? trainingKey(classes, rows, { epochs, rate, l2, average, minCount, seed, k }) : '';
      const kept = cache?.get(name, key);
      if (kept) {
        try {
          return Ensemble.deserialize(kept);
        } catch {
          // A damaged file: train again (and replace it below).
        }
      }
      const models: SoftmaxRegression[] = [];
      for (let i = 0; i < k; i++) {
        const m = new SoftmaxRegression(classes);
        m.train(rows, epochs, rate, l2, average, minCount, seed + 7919 * i);
        models.push(m);
      }
      const ensemble = new Ensemble(classes, models);
      cache?.set(name, key, ensemble.serialize());
      return ensemble;
    };
    this.actModel = trainAll('nlu-act', ACTS, actRows, options.ensemble ?? 5);
    this.serviceModel = trainAll('nlu-service', serviceClasses, svcRows, options.serviceEnsemble ?? 2);
  }

  private actFeatures(s: string, hits: Hit<string[]>[]): Features {
    const feats: Features = new Map();
    // A bare name ("退休手续", "公租房申请") is masked whole: naming a service asks for it, and the
    // words inside a name ("手续", "申请") must not learn the act of every line that is only a name.
    const bare = this.bareNames && hits.length === 1 && hits[0]!.start === 0 && hits[0]!.end === s.length;
    const masked = bare ? MASK : mask(s, this.atomicAliases.match(s)).replace(new RegExp(`${MASK}+`, 'g'), MASK);
    addNgrams(masked, 'a:', feats);
    for (const c of this.cueLex.match(s)) feats.set(`cue:${c.value}`, 1);
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

  /** The act and service of normalised text `s`. */
  classify(s: string): Intent {
    const hits = this.aliases.match(s);
    const cues = new Set(this.cueLex.match(s).map((c) => c.value));
    const actRank = ranked(ACTS, this.actModel.predict(this.actFeatures(s, hits)));
    const svcRank = ranked(this.serviceModel.classes, this.serviceModel.predict(this.serviceFeatures(s, hits)));
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
    // wins. A confident classifier may still overrule a name ("我是应届毕业生，想落户上海").
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
      mentioned && aliasServices.has(mentioned) && topReal.p >= T.namedService && pAct < T.sureChatter
    ) {
      const alt = actRank.find((a) => a.label === 'apply' || a.label === 'consult' || a.label === 'progress');
      if (alt) {
        act = alt.label as Act;
        pAct = Math.max(alt.p, pAct * 0.5);
      }
    }
    let service: string | null = null;
    if (act === 'apply' || act === 'consult' || act === 'progress') service = mentioned;
    // A handoff names a service only when the citizen clearly does.
    if (act === 'handoff' && !weakMention) service = mentioned;
    // A service the text itself names (alias) is certain evidence; a classifier guess is weaker.
    if (mentioned && aliasServices.has(mentioned)) pService = Math.max(pService, T.aliasEvidence);
    return { act, pAct, service, pService, candidates, serviceClose, weakMention, hits, cues };
  }
}

export function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
