/**
 * The dialogue-act reader of the local engine: what a message contains, as acts (request,
 * ask, inform, edit, choose, confirm, deny, delay, joke, cancel, handoff, progress, withdraw,
 * situation, chit-chat) and signals (question form, plain assent…), from the lexicons of
 * lexicon/dialogue.yaml and slots.yaml, the catalogue's situations, the section cues of the
 * knowledge base and the intent model. It reports; it decides nothing (agent/dialogue/policy.ts does).
 *
 * Clauses are read one by one: a question clause never informs a field ("合法稳定居所算不算？"
 * fills nothing), and a message naming two services in two clauses carries two requests
 * ("办社保卡，顺便问下公积金怎么提取": a request and a question).
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Situation } from '../../knowledge/catalogue.js';
import { matchQuestionKinds, matchSectionCues, namedSection, type SectionCues } from '../../knowledge/search.js';
import { isLatin } from './features.js';
import type { Intent } from './intent.js';
import { Lexicon, type Hit } from './lexicon.js';
import type { Normalizer } from './normalize.js';
import type { SlotMatches } from './slots.js';
import { readDataFile, resolvePaths, textList, type CatalogueService, type DataPaths } from './training-data.js';
import type { DialogueAct, Signals } from './types.js';

const dialogueSchema = z.object({
  assent: textList,
  courtesy: textList,
  deny: textList,
  cancel: textList,
  delay: textList,
  joke: textList,
  question: z.object({ anywhere: textList, final: textList, initial: textList, not_final_after: textList, patterns: z.array(z.string()).default([]) }),
  ordinal: z.record(z.string().regex(/^-?\d$/), textList),
  edit: z.object({ verbs: textList, fields: z.record(z.string(), textList) }),
  handoff: textList,
  withdraw: textList,
  capabilities: textList,
  offers: textList,
  request_cues: textList.optional(),
  not_request_cues: textList.optional(),
  trouble: textList.optional(),
  deictic: textList.optional(),
  /** Words that ask about the citizen's own application ("办到哪了"), as against a question about time limits. */
  progress_cues: textList.optional(),
  progress_own: textList.optional(),
  how_to_check: textList.optional(),
  /** "不需要改": a refusal word that keeps the task (it never cancels). */
  keep: textList.optional(),
  decline: textList.optional(),
  /** A clause that reads as a full postal address (unicode regex): a new value for an editable address field of the form. */
  address_shape: z.string().optional(),
  thanks: textList,
  bye: textList,
  filler: textList,
  neutral: textList,
}).strict();
export type DialogueData = z.output<typeof dialogueSchema>;

export function loadDialogueData(paths: DataPaths = {}): DialogueData {
  return readDataFile(join(resolvePaths(paths).nluDataDir, 'dialogue.yaml'), dialogueSchema);
}

/** Placeholder the runtime writes over an account number before understanding (the digits never reach a model). */
export const ACCOUNT_REF = /accountref(\d)/;

type Unit = 'assent' | 'courtesy' | 'decline';

export interface ReadInput {
  /** Normalised, case-folded text. */
  s: string;
  /** The same, cased. */
  cased: string;
  /** The intent of the whole message. */
  intent: Intent;
  /** The service the conversation is about (its fields are probed). */
  contextService: string | null;
}

export interface ReaderDeps {
  norm: Normalizer;
  services: ReadonlyMap<string, CatalogueService>;
  situations: readonly Situation[];
  cues: SectionCues;
  /** The intent of one clause. */
  classify(clause: string): Intent;
  /** Slot values of a service's asked fields in `text` (its own names masked). */
  slots(serviceId: string, text: string, cased: string): SlotMatches;
  /** A free answer taken as a field's value, or undefined (lexicon rules of slots.yaml). */
  freeValue(field: string, answer: string): string | undefined;
}

export interface ReadResult {
  acts: DialogueAct[];
  signals: Signals;
  freeText: string;
}

export class DialogueActReader {
  private readonly units: Lexicon<Unit>;
  private readonly deny: Lexicon<true>;
  private readonly cancel: Lexicon<true>;
  private readonly delay: Lexicon<true>;
  private readonly joke: Lexicon<true>;
  private readonly questionAnywhere: Lexicon<true>;
  private readonly questionFinal: string[];
  private readonly questionInitial: string[];
  private readonly notFinalAfter: string[];
  private readonly questionPatterns: RegExp[];
  private readonly ordinals: Lexicon<number>;
  private readonly editVerbs: Lexicon<true>;
  private readonly fieldNames: Lexicon<string>;
  private readonly withdraw: Lexicon<true>;
  private readonly handoff: Lexicon<true>;
  private readonly capabilities: Lexicon<true>;
  private readonly offers: Lexicon<true>;
  /** Request cues (true) and longer phrases that contain one but ask nothing done (false: "办下来"). */
  private readonly requestCues: Lexicon<boolean>;
  private readonly trouble: Lexicon<true>;
  private readonly deictic: Lexicon<true>;
  private readonly progressCues: Lexicon<true>;
  private readonly progressOwn: Lexicon<true>;
  private readonly howToCheck: Lexicon<true>;
  private readonly keep: Lexicon<true>;
  private readonly addressShape: RegExp | null;
  private readonly thanks: Lexicon<true>;
  private readonly bye: Lexicon<true>;
  private readonly fillers: Lexicon<true>;
  private readonly neutral: Lexicon<true>;
  private readonly situationCues: Lexicon<string>;

  constructor(data: DialogueData, private readonly deps: ReaderDeps) {
    const n = (xs: readonly string[]) => [...new Set(xs.map((x) => deps.norm.normalize(x)).filter(Boolean))];
    const lex = <V>(xs: readonly string[], value: V) => new Lexicon(n(xs).map((t) => ({ text: t, value, latin: isLatin(t[0]) || isLatin(t[t.length - 1]) })));
    this.units = new Lexicon([
      ...n(data.assent).map((t) => ({ text: t, value: 'assent' as Unit, latin: isLatin(t[0]) })),
      ...n(data.courtesy).map((t) => ({ text: t, value: 'courtesy' as Unit, latin: isLatin(t[0]) })),
      ...n(data.decline ?? []).map((t) => ({ text: t, value: 'decline' as Unit, latin: isLatin(t[0]) })),
    ]);
    this.deny = lex(data.deny, true as const);
    this.cancel = lex(data.cancel, true as const);
    this.delay = lex(data.delay, true as const);
    this.joke = lex(data.joke, true as const);
    this.questionAnywhere = lex(data.question.anywhere, true as const);
    this.questionFinal = n(data.question.final);
    this.questionInitial = n(data.question.initial);
    this.notFinalAfter = n(data.question.not_final_after);
    this.questionPatterns = data.question.patterns.map((p) => new RegExp(p, 'u'));
    this.ordinals = new Lexicon(Object.entries(data.ordinal).flatMap(([k, words]) =>
      n(words).map((t) => ({ text: t, value: Number(k), latin: isLatin(t[0]) }))));
    this.editVerbs = lex(data.edit.verbs, true as const);
    const fieldNames: { text: string; value: string; latin: boolean }[] = [];
    for (const [key, words] of Object.entries(data.edit.fields)) for (const t of n(words)) fieldNames.push({ text: t, value: key, latin: isLatin(t[0]) });
    for (const svc of deps.services.values()) for (const f of svc.fields) {
      const t = deps.norm.normalize(f.label);
      if (t.length >= 2 && !fieldNames.some((x) => x.text === t && x.value === f.key)) fieldNames.push({ text: t, value: f.key, latin: false });
    }
    this.fieldNames = new Lexicon(fieldNames);
    this.withdraw = lex(data.withdraw, true as const);
    this.handoff = lex(data.handoff, true as const);
    this.capabilities = lex(data.capabilities, true as const);
    this.offers = lex(data.offers, true as const);
    this.requestCues = new Lexicon([...lex(data.request_cues ?? [], true).entries, ...lex(data.not_request_cues ?? [], false).entries]);
    this.trouble = lex(data.trouble ?? [], true as const);
    this.deictic = lex(data.deictic ?? [], true as const);
    this.progressCues = lex(data.progress_cues ?? [], true as const);
    this.progressOwn = lex(data.progress_own ?? [], true as const);
    this.howToCheck = lex(data.how_to_check ?? [], true as const);
    this.keep = lex(data.keep ?? [], true as const);
    this.addressShape = data.address_shape ? new RegExp(data.address_shape, 'u') : null;
    this.thanks = lex(data.thanks, true as const);
    this.bye = lex(data.bye, true as const);
    this.fillers = lex(data.filler, true as const);
    this.neutral = lex(data.neutral, true as const);
    this.situationCues = new Lexicon(deps.situations.flatMap((sit) => n(sit.cues).map((t) => ({ text: t, value: sit.id, latin: isLatin(t[0]) }))));
  }

  /** Whether a text asks for something to be done ("帮我办", not the "办下" of "办下来要多久"). */
  isRequest(text: string): boolean {
    return this.requestCues.match(text).some((h) => h.value);
  }

  /** Is a clause a question (疑问词 anywhere, a final 吗/呢, "?", an English question word first)? */
  isQuestion(clause: string): boolean {
    const c = clause.trim();
    if (!c) return false;
    if (c.includes('?')) return true;
    if (this.questionAnywhere.match(c).length) return true;
    if (this.questionPatterns.some((re) => re.test(c))) return true;
    for (const f of this.questionFinal) {
      if (!c.endsWith(f) || c.length <= f.length) continue;
      const before = c.slice(0, -f.length);
      if (this.notFinalAfter.some((w) => before === w)) continue; // 好伐 = 好的
      return true;
    }
    return this.questionInitial.some((w) => c === w || c.startsWith(`${w} `));
  }

  /** The whole message is nothing but assent, courtesy and particles, with at least one assent. */
  isPlainAssent(s: string): boolean {
    return this.onlyUnits(s) === 'assent';
  }

  /** The whole message only says no ("不需要", "不用了谢谢"). */
  isPlainDecline(s: string): boolean {
    return this.onlyUnits(s) === 'decline';
  }

  /** 'assent' / 'decline' when the message is made only of such units (and courtesy), never both; else null. */
  private onlyUnits(s: string): 'assent' | 'decline' | null {
    // Spaces stay (as single ones) so that Latin words keep their boundaries ("yes please submit").
    const t = s.replace(/[,!]+/g, ' ').replace(/\s+/g, ' ').trim();
    if (!t || t.includes('?')) return null;
    let assent = false;
    let decline = false;
    let i = 0;
    // Greedy longest unit at each position; any character not covered makes it something else.
    while (i < t.length) {
      if (t[i] === ' ') {
        i++;
        continue;
      }
      const rest = t.slice(i);
      const hit = this.units.match(rest).find((h) => h.start === 0);
      if (!hit) return null;
      if (hit.value === 'assent') assent = true;
      if (hit.value === 'decline') decline = true;
      i += hit.end;
    }
    return assent && !decline ? 'assent' : decline && !assent ? 'decline' : null;
  }

  read(input: ReadInput): ReadResult {
    const { s, cased, intent, contextService } = input;
    const clauses = splitClauses(s);
    const casedClauses = splitClauses(cased);
    const questionClauses = clauses.map((c) => this.isQuestion(c.text));
    const interrogative = questionClauses.some(Boolean);
    const has = (l: Lexicon<unknown>) => l.match(s).length > 0;
    // An assent word inside a refusal or a delay ("不对", "别提交") is none.
    const against = [this.deny, this.delay, this.cancel, this.neutral].flatMap((l) => l.match(s));
    // A one-character assent counts only as a clause of its own ("对，…"), not inside a word (银行).
    const assentHits = this.units.match(s).filter((h) => h.value === 'assent' && !against.some((a) => h.start < a.end && a.start < h.end) &&
      ([...h.text].length >= 2 || clauses.some((c) => c.start <= h.start && h.end <= c.end && this.isPlainAssent(c.text))));
    const requestCue = this.isRequest(s);
    const signals: Signals = {
      interrogative,
      plainAssent: this.isPlainAssent(s),
      plainDecline: this.isPlainDecline(s),
      assent: assentHits.length > 0,
      negation: has(this.deny) || /[不别没勿覅弗甭]/.test(s) || /\b(no|not|dont|don't|never)\b/.test(s),
      delay: has(this.delay),
      joke: has(this.joke),
      instruction: false,
      requested: requestCue,
    };

    const acts: DialogueAct[] = [];

    // -- services: one act per service named (per clause when several are named apart). A
    // service the text does not name (a classifier's guess) is offered only when nothing else
    // says what the message is about: no conversation service, no life situation.
    const named = distinctServices(intent.hits);
    const perClause = named.length > 1;
    const servicesSeen = new Set<string>();
    const situations = named.length ? [] : this.situationCues.match(s);
    if (perClause) {
      clauses.forEach((clause, i) => {
        const hits = intent.hits.filter((h) => h.start >= clause.start && h.end <= clause.end);
        const ids = distinctServices(hits);
        if (!ids.length) return;
        const ci = this.deps.classify(clause.text);
        for (const id of ids) {
          if (servicesSeen.has(id)) continue;
          servicesSeen.add(id);
          // Each clause by its own words: "公积金怎么提取？另外帮我办张社保卡" asks one and requests the other.
          this.pushServiceAct(acts, ci.act, id, true, clause.text, questionClauses[i]!, this.isRequest(clause.text));
        }
      });
    } else {
      const isNamed = intent.service !== null && named.includes(intent.service);
      const guessOnly = intent.service !== null && !isNamed && (contextService !== null || situations.length > 0);
      const ask = questionClauses.findIndex(Boolean);
      const service = guessOnly ? null : intent.service;
      if (!(guessOnly && (intent.act === 'apply' || intent.act === 'progress'))) {
        this.pushServiceAct(acts, intent.act, service, isNamed, s, interrogative, requestCue, ask >= 0 ? clauses[ask]!.text : s);
      }
      if (service) servicesSeen.add(service);
    }
    // "社保卡丢了": a question about what to do, unless a request is said.
    if (!requestCue && this.trouble.match(s).length) {
      for (let i = 0; i < acts.length; i++) {
        const a = acts[i]!;
        if (a.type === 'request' && a.service) acts[i] = { type: 'ask', service: a.service, named: a.named, topics: matchSectionCues(s, this.deps.cues), about: 'guide', text: s };
      }
    }

    // -- questions without a service of their own ("要多久？要带什么材料？" about the service in question)
    clauses.forEach((clause, i) => {
      if (!questionClauses[i]) return;
      if (acts.some((a) => a.type === 'ask' && a.text === clause.text)) return;
      const topics = matchSectionCues(clause.text, this.deps.cues);
      const own = distinctServices(intent.hits.filter((h) => h.start >= clause.start && h.end <= clause.end));
      if (own.length) return; // read above, with its service
      if (topics.length && !acts.some((a) => a.type === 'ask' && a.topics.join() === topics.join() && a.service === null)) {
        acts.push({ type: 'ask', service: null, topics, about: 'guide', text: clause.text });
      }
    });

    // -- a question about a value of the form ("钱打到哪张卡上？"): answered from the citizen's own data
    if (contextService) {
      const fields = new Set((this.deps.services.get(contextService)?.fields ?? []).map((f) => f.key));
      for (const a of acts) {
        if (a.type !== 'ask') continue;
        // A kind of question that asks for a form's value ("钱打到哪张卡上？") is about this form's value.
        const kindField = matchQuestionKinds(a.text, this.deps.cues).find((k) => k.kind.field && fields.has(k.kind.field))?.kind.field;
        if (kindField) {
          a.field = kindField;
          a.topics = [];
          continue;
        }
        if (a.topics.length) continue;
        const hit = this.fieldNames.match(a.text).find((h) => fields.has(h.value));
        if (hit) a.field = hit.value;
      }
      clauses.forEach((clause, i) => {
        if (!questionClauses[i] || acts.some((a) => a.type === 'ask' && a.text === clause.text)) return;
        const hit = this.fieldNames.match(clause.text).find((h) => fields.has(h.value));
        if (hit && !matchSectionCues(clause.text, this.deps.cues).length) acts.push({ type: 'ask', service: null, topics: [], about: 'guide', field: hit.value, text: clause.text });
      });
    }

    // -- "我已经领退休金了，还能领这个吗？": a question that points at "this" is about the service in
    // question, whatever other service it mentions on the way
    if (contextService) {
      for (const a of acts) {
        if (a.type === 'ask' && a.service && a.service !== contextService && this.deictic.match(a.text).length) {
          a.service = null;
          a.named = false;
        }
      }
    }

    // -- capabilities and offers
    if (has(this.capabilities)) replaceAsk(acts, { type: 'ask', service: null, topics: [], about: 'capabilities', text: s });
    if (has(this.offers)) replaceAsk(acts, { type: 'ask', service: null, topics: [], about: 'offers', text: s });

    // -- life situations (only when no service is named)
    for (const h of situations) {
      if (!acts.some((a) => a.type === 'situation' && a.situation === h.value)) acts.push({ type: 'situation', situation: h.value, text: s });
    }

    // -- explicit changes (an account number given is the change of the account, wherever the verb is)
    const edits = this.edits(s, cased, questionClauses, clauses, contextService);
    const editClauses = new Set(edits.map((e) => e.text));

    // -- field values said as answers: never inside a question (nor the option a question asks
    // about), never inside a change (its value is the change's), for the services in question
    const blank = (i: number, text: string) => (questionClauses[i] || editClauses.has(clauses[i]!.text) ? ' '.repeat(text.length) : text);
    const answerText = clauses.map((c, i) => blank(i, c.text)).join(',');
    const answerCased = casedClauses.map((c, i) => blank(i, c.text)).join(',');
    // The option a question asks about, for this service: questions about another service ("还有港澳通行证怎么续签注") ask nothing of it.
    const questionTextFor = (id: string) => clauses.map((c, i) => {
      const other = intent.hits.some((h) => h.start >= c.start && h.end <= c.end && !h.value.includes(id));
      return questionClauses[i] && !other ? c.text : ' '.repeat(c.text.length);
    }).join(',');
    const forServices = [...new Set([...servicesSeen, ...(contextService ? [contextService] : [])])].filter((id) => this.deps.services.has(id));
    const informed = new Set<string>();
    for (const id of forServices) {
      const questionText = questionTextFor(id);
      const asked = interrogative ? this.deps.slots(id, questionText, questionText).strong : {};
      const m0 = this.deps.slots(id, answerText, answerCased.length === answerText.length ? answerCased : answerText);
      const m = { strong: Object.fromEntries(Object.entries(m0.strong).filter(([k]) => asked[k] === undefined)), weak: m0.weak };
      for (const [field, value] of Object.entries(m.strong)) {
        if (informed.has(field)) continue;
        informed.add(field);
        acts.push({ type: 'inform', field, value, text: s });
      }
      for (const [field, value] of Object.entries(m.weak)) {
        if (informed.has(field)) continue;
        informed.add(field);
        acts.push({ type: 'inform', field, value, weak: true, ...(m0.described?.includes(field) ? { described: true } : {}), text: s });
      }
    }

    // -- "社保卡寄到家": a statement that names a service and gives a value for its form is a
    // request, whatever section words it happens to contain
    if (!interrogative && !this.trouble.match(s).length && acts.some((a) => a.type === 'inform')) {
      const strong = acts.some((a) => a.type === 'inform' && !a.weak);
      for (let i = acts.length - 1; i >= 0; i--) {
        const a = acts[i]!;
        if (a.type !== 'ask' || a.about !== 'guide' || a.field) continue;
        if (!a.service) acts.splice(i, 1);
        else if (strong) acts[i] = { type: 'request', service: a.service, named: a.named, text: a.text };
      }
    }

    // -- a free answer ("旺财", "冰岛") for a field without options of the service in question:
    // offered as a weak inform, which counts only as the answer to that very field
    const freeText = this.freeText(cased, intent.hits);
    const blocking = acts.some((a) => a.type !== 'inform');
    if (contextService && freeText && !interrogative && !signals.plainAssent && !blocking && !has(this.cancel) && !has(this.neutral)) {
      for (const f of this.deps.services.get(contextService)?.fields ?? []) {
        if (f.source !== 'ask' || f.optional || f.options?.length || informed.has(f.key)) continue;
        const v = this.deps.freeValue(f.key, freeText);
        if (v !== undefined) acts.push({ type: 'inform', field: f.key, value: v, weak: true, text: s });
      }
    }

    const accountEdit = edits.find((e) => e.type === 'edit' && e.value !== null && ACCOUNT_REF.test(e.value));
    for (const e of accountEdit ? [accountEdit, ...edits.filter((x) => x.type === 'edit' && x.field !== 'bank_account' && x.field !== 'value')] : edits) {
      // "租房类型改成未备案": the new value of a field with options, as the option it means.
      if (e.value !== null) e.value = this.optionOf(e.field, e.value, forServices) ?? e.value;
      // "地址不对，寄到……": the change with its value stands for the complaint without one.
      const i = acts.findIndex((a) => a.type === 'edit' && a.field === e.field);
      if (i < 0) acts.push(e);
      else if ((acts[i] as typeof e).value === null && e.value !== null) acts[i] = e;
    }

    // -- picks, consent and refusal
    for (const h of this.ordinals.match(s)) acts.push({ type: 'choose', ordinal: h.value, text: h.text });
    // Leaving the task takes its own words ("算了", "不办了"): the act model's guess alone ends nothing.
    // A question about leaving ("提交了能撤回吗？", "submit之后能cancel吗？") leaves nothing; "弗要提交" is a delay, not a cancel.
    const delays = [...this.delay.match(s), ...this.keep.match(s)];
    const outsideQuestions = (l: Lexicon<unknown>) => l.match(s).some((h) => {
      const ci = clauses.findIndex((c) => c.start <= h.start && h.end <= c.end);
      return !(ci >= 0 && questionClauses[ci]) && !delays.some((d) => h.start < d.end && d.start < h.end);
    });
    const cancelled = outsideQuestions(this.cancel);
    if (outsideQuestions(this.withdraw)) acts.push({ type: 'withdraw', service: intent.service, text: s });
    else if (cancelled) acts.push({ type: 'cancel', text: s });
    else if (interrogative && this.withdraw.match(s).length && !delays.length) acts.push({ type: 'withdraw', service: intent.service, asked: true, text: s });
    // "算了，不撤了，办到哪了": a progress question in a message the classifier read as something else.
    if (!acts.some((a) => a.type === 'progress' || a.type === 'ask') && this.progressCues.match(s).length && !this.howToCheck.match(s).length) {
      acts.push({ type: 'progress', service: intent.service && named.includes(intent.service) ? intent.service : null, text: s });
    }
    if (signals.assent) acts.push({ type: 'confirm', text: s });
    if (has(this.deny)) acts.push({ type: 'deny', text: s });
    if (signals.delay) acts.push({ type: 'delay', text: s });
    if (signals.joke) acts.push({ type: 'joke', text: s });

    // -- a section named outright ("legal basis for …") asks the guides, whatever service it is
    // about: the knowledge base decides, and says so when no guide answers it
    if (!acts.length && intent.act === 'out_of_scope') {
      const section = namedSection(s, this.deps.cues);
      if (section) acts.push({ type: 'ask', service: null, topics: matchSectionCues(s, this.deps.cues), about: 'guide', text: s });
    }

    // -- chit-chat, when nothing else was said
    if (!acts.length && !has(this.neutral) && (intent.act === 'greeting' || intent.act === 'out_of_scope')) {
      const kind = intent.act === 'out_of_scope' ? 'out_of_scope' : has(this.thanks) ? 'thanks' : has(this.bye) ? 'bye' : 'greeting';
      acts.push({ type: 'chitchat', kind, text: s });
    } else if (acts.length > 0 && !acts.some((a) => a.type !== 'confirm') && has(this.thanks) && !signals.plainAssent) {
      acts.push({ type: 'chitchat', kind: 'thanks', text: s });
    }

    return { acts, signals, freeText };
  }

  private pushServiceAct(acts: DialogueAct[], act: Intent['act'], service: string | null, named: boolean, text: string, question: boolean, requestCue: boolean, askText = text): void {
    const topics = matchSectionCues(askText, this.deps.cues);
    const ask = (): DialogueAct => ({ type: 'ask', service, named, topics, about: 'guide', text: askText });
    switch (act) {
      case 'apply':
        // A plain question that names a service ("<事项>的办理时限", "<事项>要提交什么") is answered,
        // never turned into an application; "我要开证明，要多久？" is both.
        // Without question form only a section named outright ("<事项>的办理时限") makes it a question:
        // "公积金交租金，办一下" asks for the service.
        // A question with no word asking anything done ("申请低保会不会查存款") is a question too.
        if (!requestCue && (question || namedSection(askText, this.deps.cues) !== null)) acts.push(ask());
        else {
          acts.push({ type: 'request', service, named, text });
          if (question && topics.length) acts.push(ask());
        }
        return;
      case 'consult':
        // "居住证怎么申请我不懂，帮我弄一个": a question and a request.
        if (requestCue) {
          acts.push({ type: 'request', service, named, text });
          if (question) acts.push(ask());
        } else if (question || topics.length || service !== null) acts.push(ask());
        return;
      case 'progress':
        // "多久能办好？" asks about time limits; "办到哪了" asks about the citizen's own application.
        // A question with no word of progress ("投诉了会不会暴露我的身份") asks about the service; one
        // asking how progress is checked ("12345工单进度怎么查"), not about one's own, asks the guide.
        if (question && (!this.progressCues.match(text).length || (this.howToCheck.match(text).length && !this.progressOwn.match(text).length))) acts.push(ask());
        // "嗯，可以提交了" is assent, whatever the classifier guessed: no progress without a word of it.
        else if (this.progressCues.match(text).length || !this.isPlainAssent(text)) acts.push({ type: 'progress', service, text });
        return;
      case 'handoff':
        // Only with words that ask for a person: "找工作用" answers a question, it asks for nobody.
        if (this.handoff.match(text).length) acts.push({ type: 'handoff', service, text });
        return;
      default:
        if (service && named) acts.push(question ? ask() : { type: 'request', service, named, text });
    }
  }

  /** The option of a field (of the services in question) that a said value means, if it has options and the value names one. */
  private optionOf(field: string, value: string, services: readonly string[]): string | undefined {
    for (const id of services) {
      const f = this.deps.services.get(id)?.fields.find((x) => x.key === field);
      if (!f?.options?.length) continue;
      if (f.options.includes(value)) return value;
      const m = this.deps.slots(id, value.toLowerCase(), value);
      const v = m.strong[field] ?? m.weak[field];
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** "邮寄地址改成…", "银行卡换成这张 ACCOUNTREF1", "用途改为就业": field and new value. */
  private edits(s: string, cased: string, questionClauses: boolean[], clauses: Clause[], contextService: string | null): Extract<DialogueAct, { type: 'edit' }>[] {
    const out: Extract<DialogueAct, { type: 'edit' }>[] = [];
    const verbs = this.editVerbs.match(s);
    const denials = this.deny.match(s);
    const ownFields = new Set((this.deps.services.get(contextService ?? '')?.fields ?? []).map((f) => f.key));
    clauses.forEach((clause, ci) => {
      const inClause = (h: Hit<unknown>) => h.start >= clause.start && h.end <= clause.end;
      const account = ACCOUNT_REF.exec(clause.text);
      const names = this.fieldNames.match(s).filter(inClause);
      let verb: Hit<true> | undefined = verbs.find(inClause);
      // "地址是浦东新区……": a field named and its new value after 是/为.
      if (!verb && !account) {
        const n = names.find((h) => /^[是为:]/.test(s.slice(h.end)) && (ownFields.has(h.value) || !contextService));
        if (n) verb = { start: n.end, end: n.end + 1, value: true, text: s.slice(n.end, n.end + 1) };
      }
      if (!verb && !account) {
        // "身份证号码好像不对": a field said to be wrong, no new value.
        const wrong = denials.find(inClause);
        const n = names.find((h) => ownFields.has(h.value));
        if (wrong && n) out.push({ type: 'edit', field: n.value, value: null, text: clause.text });
        return;
      }
      if (questionClauses[ci] && !account) return;
      // The field: the name nearest before the verb, else one after it, else what the value looks like.
      const before = verb ? names.filter((n) => n.end <= verb.start).pop() : undefined;
      const after = verb ? names.find((n) => n.start >= verb.end) : undefined;
      let field = before?.value ?? (verb?.text === '寄到' ? 'mailing_address' : after?.value);
      const valueStart = verb ? verb.end : (account ? clause.start + account.index : clause.end);
      let value: string | null = cased.slice(valueStart, clause.end).replace(/^[\s:：,是为]+/, '').replace(/[吧了啊呀哦,\s]+$/, '').trim() || null;
      if (!field) field = account ? 'bank_account' : 'value';
      // "邮寄到家" names the way of delivery, not an address; a value must say something ("这张", "家" do not).
      if (value && !account && ([...value].length < 2 || (verb?.text === '寄到' && [...value].length < 6))) {
        if (verb?.text === '寄到') return;
        value = null;
      }
      if (value && after && field === after.value) value = value.slice(after.end - valueStart).replace(/^[\s:：,是为]+/, '') || null;
      if (account) value = `accountref${account[1]}`;
      out.push({ type: 'edit', field, value, text: clause.text });
    });
    // "寄到我爸妈家，浦东新区锦绣路2580弄8号": a clause that is a whole address, for the form's one editable address field.
    const addressFields = (this.deps.services.get(contextService ?? '')?.fields ?? []).filter((f) => f.editable && f.validate?.pattern && this.addressShape);
    clauses.forEach((clause, ci) => {
      if (questionClauses[ci] || addressFields.length !== 1 || out.some((e) => e.text === clause.text && e.value !== null)) return;
      const raw = cased.slice(clause.start, clause.end).trim();
      const f = addressFields[0]!;
      if (!this.addressShape!.test(raw) || !new RegExp(f.validate!.pattern!, 'u').test(raw)) return;
      const value = raw.replace(/^.*?(改成|改为|换成|寄到|送到|是)/u, '').replace(/[吧了啊呀哦\s]+$/u, '');
      if ([...value].length >= (f.validate?.min_length ?? 6)) out.push({ type: 'edit', field: f.key, value, text: clause.text });
    });
    return out;
  }

  /** What is left once service names, fillers and punctuation are taken out. */
  private freeText(cased: string, hits: Hit<string[]>[]): string {
    let t = cased;
    for (const h of [...hits].sort((a, b) => b.start - a.start)) t = t.slice(0, h.start) + t.slice(h.end);
    const low = t.toLowerCase();
    const fills = this.fillers.match(low).sort((a, b) => b.start - a.start);
    for (const f of fills) t = t.slice(0, f.start) + t.slice(f.end);
    return t.replace(/[,?!\s]+/g, ' ').trim();
  }
}

interface Clause {
  text: string;
  start: number;
  end: number;
}

/** Clauses of normalised text: split at "," and after "?" (a question mark ends its clause). */
export function splitClauses(s: string): Clause[] {
  const out: Clause[] = [];
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    const ch = s[i];
    if (i === s.length || ch === ',' || ch === '?') {
      const end = ch === '?' ? i + 1 : i;
      if (end > start && s.slice(start, end).trim()) out.push({ text: s.slice(start, end), start, end });
      start = i + 1;
    }
  }
  return out;
}

function distinctServices(hits: readonly Hit<string[]>[]): string[] {
  const out: string[] = [];
  for (const h of hits) if (h.value.length === 1 && !out.includes(h.value[0]!)) out.push(h.value[0]!);
  // A name shared by several services ("落户") names none of them alone.
  return out;
}

function replaceAsk(acts: DialogueAct[], ask: Extract<DialogueAct, { type: 'ask' }>): void {
  for (let i = acts.length - 1; i >= 0; i--) {
    const a = acts[i]!;
    if ((a.type === 'ask' || a.type === 'request') && a.service === null) acts.splice(i, 1);
  }
  acts.unshift(ask);
}

