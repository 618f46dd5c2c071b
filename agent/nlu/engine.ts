/**
 * The offline, Chinese-aware local NLU engine, in layers:
 *   normalize.ts      width, script (traditional -> simplified), punctuation, ASR homophones
 *   features.ts       tokens and n-grams          lexicon.ts   phrase matching (names, cues)
 *   classifier.ts     softmax-regression ensembles
 *   intent.ts         the act and service of a message (trained on the one training set)
 *   slots.ts          field values from lexicon/slots.yaml
 *   dialogue-acts.ts  the dialogue acts and signals of lexicon/dialogue.yaml
 * and this file, which puts them together. Everything it knows lives in data files
 * (services.json, phrasings.yaml, acts.yaml, slots.yaml, dialogue.yaml, homophones.yaml,
 * section-cues.yaml): adding a service means adding data, not code. It says what a message
 * contains; what that means in the conversation is decided by the dialogue policy.
 */
import { loadCatalogue as loadServiceCatalogue } from '../../knowledge/catalogue.js';
import { loadSectionCues } from '../../knowledge/search.js';
import { DialogueActReader, loadDialogueData } from './dialogue-acts.js';
import { IntentModel, round, T, type IntentModelOptions } from './intent.js';
import { mask, type Hit } from './lexicon.js';
import { createNormalizer, loadHomophones, type Normalizer } from './normalize.js';
import { askFieldsOf, compileSlotLexicon, extractSlots, freeTextValue, loadSlotsData, slotsFile, type SlotLexicon, type SlotMatches } from './slots.js';
import { loadNluSources, resolvePaths, type CatalogueService } from './training-data.js';
import type { NluContext, NluEngine, NluResult } from './types.js';

export type LocalEngineOptions = IntentModelOptions;

export class LocalNluEngine implements NluEngine {
  readonly name = 'local';
  private readonly norm: Normalizer;
  private readonly serviceById: Map<string, CatalogueService>;
  private readonly intent: IntentModel;
  private readonly reader: DialogueActReader;
  readonly slotLex: SlotLexicon;
  /** Milliseconds spent building the engine. */
  readonly buildMs: number;
  readonly trainingSize: number;

  constructor(options: LocalEngineOptions = {}) {
    const t0 = performance.now();
    const paths = options.paths ?? {};
    this.norm = createNormalizer(loadHomophones(paths));
    const sources = loadNluSources(paths);
    this.serviceById = new Map(sources.catalogue.map((s) => [s.id, s]));
    const catalogue = loadServiceCatalogue(resolvePaths(paths).catalogue);
    // A 一件事 bundle is filled as one form: its members' fields, each once.
    for (const b of catalogue.bundles) {
      const base = this.serviceById.get(b.service);
      if (base) for (const id of new Set([b.id, b.service])) this.serviceById.set(id, { ...base, id, fields: catalogue.formFields(b.id) });
    }
    this.slotLex = compileSlotLexicon(loadSlotsData(paths), sources.catalogue, slotsFile(paths));
    this.intent = new IntentModel(sources, this.norm, options);
    this.trainingSize = this.intent.trainingSize;
    this.reader = new DialogueActReader(loadDialogueData(paths), {
      norm: this.norm,
      services: this.serviceById,
      situations: catalogue.situations,
      cues: loadSectionCues(undefined, undefined, sources.catalogue.flatMap((c) => [c.name, ...c.aliases])),
      classify: (clause) => this.intent.classify(clause),
      slots: (serviceId, text, cased) => this.slotsFor(serviceId, text, cased, this.intent.aliases.match(text)),
      freeValue: (field, answer) => freeTextValue(this.slotLex, field, answer),
    });
    this.buildMs = performance.now() - t0;
  }

  async understand(text: string, ctx: NluContext = {}): Promise<NluResult> {
    return this.understandSync(text, ctx);
  }

  /** Synchronous variant of `understand` (the engine does no I/O after construction). */
  understandSync(text: string, ctx: NluContext = {}): NluResult {
    const cased = this.norm.normalizeCased(text);
    const s = cased.toLowerCase();
    const contextService = ctx.service && this.serviceById.has(ctx.service) ? ctx.service : null;
    if (!s) {
      // Nothing usable (silence, punctuation only): nothing understood.
      return {
        act: 'out_of_scope', service: null, slots: {}, confidence: 0, candidates: [], needsClarification: true, acts: [],
        signals: { interrogative: false, plainAssent: false, assent: false, negation: false, delay: false, joke: false, instruction: false },
        freeText: '', normalized: s,
      };
    }
    const i = this.intent.classify(s);
    const read = this.reader.read({ s, cased, intent: i, contextService });
    const inQuestion = i.service ?? contextService;
    const slots = inQuestion && i.act !== 'out_of_scope' && i.act !== 'greeting' && i.act !== 'cancel'
      ? this.slotsFor(inQuestion, s, cased, i.hits).strong
      : {};
    const confidence = round(i.service ? i.pAct * i.pService : i.act === 'apply' || i.act === 'consult' ? i.pAct * 0.5 : i.pAct);
    const needsClarification =
      ((i.act === 'apply' || i.act === 'consult') && (i.service === null || i.serviceClose || confidence < T.lowConfidence)) ||
      i.pAct < T.actUncertain;
    return {
      act: i.act,
      service: i.service,
      slots,
      confidence,
      candidates: i.candidates,
      needsClarification,
      acts: read.acts,
      signals: read.signals,
      freeText: read.freeText,
      normalized: s,
    };
  }

  /** Field values of a service's asked fields; only its own names are masked. */
  private slotsFor(serviceId: string, s: string, cased: string, hits: Hit<string[]>[]): SlotMatches {
    const fields = askFieldsOf(this.serviceById.get(serviceId));
    if (!fields.length) return { strong: {}, weak: {} };
    // "居住证" must not read as 居住 -> 合法稳定居所; another service's name is ordinary wording
    // here ("房产证在我名下" is about a home).
    const own = hits.filter((h) => h.value.includes(serviceId));
    const masked = mask(s, own);
    const maskedCased = cased.length === s.length ? mask(cased, own) : undefined;
    return extractSlots(this.slotLex, { text: masked, ...(maskedCased !== undefined ? { cased: maskedCased } : {}), fields });
  }
}

/** Build the local engine (trains once, typically well under a second). */
export function createLocalEngine(options: LocalEngineOptions = {}): LocalNluEngine {
  return new LocalNluEngine(options);
}
