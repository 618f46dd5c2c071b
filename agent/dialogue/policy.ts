/**
 * The dialogue policy: what a message means where the conversation stands, as a plan of
 * steps. Understanding says what the message contains (dialogue acts, agent/nlu); this module
 * alone decides what to do with it. Pure: state, understanding and catalogue in, plan out.
 *
 * The rules, as Rasa's form interruptions and Dialogflow CX's route groups put them:
 * - A task is interruptible. A question while a field is awaited or the card is shown is
 *   answered and the task stays where it was; an option word inside a question never fills
 *   a field. An edit is applied wherever it comes.
 * - Submission, the one irreversible step, needs an unambiguous yes to the card as it stands:
 *   the whole message an assent (or the card's own button). A yes with a "but", a delay, a
 *   joke, a question or a change shows the card again.
 * - Nothing is invented: an answer that is no option fills nothing; "其他" only when said or
 *   described, and then the citizen's words are kept.
 * - Several requests in one message: one is done (the transaction, or the first named), the
 *   others are kept and taken up when it is done. "帮我申请" refers to the service just
 *   discussed; "第二个" to the last card of choices.
 * - After a submission, an assent only acknowledges; a change is answered with what is
 *   possible (withdraw while unprocessed, apply again, or staff).
 */
import type { Catalogue, Service } from '../../knowledge/catalogue.js';
import { actsOf, type Act, type DialogueAct, type NluResult } from '../nlu/types.js';
import type { AgendaItem, ServiceTask, State } from '../state.js';
import type { Action, Plan } from './actions.js';

export interface PolicyInput {
  state: Pick<State, 'task' | 'focus' | 'choices' | 'candidates' | 'submitted' | 'input' | 'agenda' | 'liveHandoff'>;
  u: NluResult;
  catalogue: Catalogue;
  /** The message came from a button of the card now shown (its token matched). */
  cardAction: boolean;
  /** The message names someone's ID number. */
  thirdParty: boolean;
}

const plan = (act: Act, ...actions: Action[]): Plan => ({ act, actions });

/** The fields of the form in question: a service's, or a 一件事 bundle's (its members' fields, each once). */
type Form = Pick<Service, 'fields'>;
const formOf = (catalogue: Catalogue, id: string | null | undefined): Form => ({ fields: catalogue.formFields(id) });

export function decide(input: PolicyInput): Plan {
  const { state, u, catalogue } = input;
  if (input.thirdParty) return plan('apply', { type: 'guard' });
  const task = state.task;
  // While staff have the case, what the citizen says is for them: the agent does not answer in their place.
  if (state.liveHandoff) return plan('handoff', { type: 'relay' });
  if (task?.kind === 'withdraw') return decideWithdraw(input);
  if (task?.kind === 'service') return decideInTask(input, task);
  return decideIdle(input, catalogue);
}

// ---------------------------------------------------------------------------------- in a task

function decideInTask(input: PolicyInput, task: ServiceTask): Plan {
  const { u, catalogue, state } = input;
  const service = { fields: catalogue.formFields(task.service) };
  const acts = u.acts;
  if (has(acts, 'handoff')) return plan('handoff', { type: 'handoff' });

  const requests = actsOf(u, 'request').filter((r) => r.service && r.service !== task.service);
  const changes = valuesFrom(input, service, task);
  const asks = actsOf(u, 'ask');
  const refused = refusedEdits(u, service);

  // An offer on the card (免申即享): "以后再说" and "不需要" are answers to it, remembered.
  if (task.offer && !Object.keys(changes).length && !asks.length) {
    if (u.signals.delay && !u.signals.plainAssent) return plan('cancel', { type: 'offerAnswer', answer: 'later' });
    if (has(acts, 'cancel') || u.signals.plainDecline) return plan('cancel', { type: 'offerAnswer', answer: 'declined' });
  }
  // "撤回申请" mid-form: an application already in is withdrawn; the one in hand, never sent, is dropped.
  // A question about withdrawing ("提交了能撤回吗？") is a question, answered as one.
  const withdrawal = actsOf(u, 'withdraw').find((w) => !w.asked);
  if (withdrawal && !Object.keys(changes).length) {
    if (state.submitted) return plan('cancel', { type: 'cancel', quiet: true }, { type: 'withdrawStart', service: withdrawal.service ?? state.submitted.service });
    return plan('cancel', { type: 'cancel' });
  }
  if (has(acts, 'cancel') && !Object.keys(changes).length) {
    const other = requests[0];
    if (other?.service) return plan('apply', { type: 'cancel', quiet: true }, ...startOrOffline(catalogue, other.service, {}));
    return plan('cancel', { type: 'cancel' });
  }
  // Another service asked for (and nothing said for this form): switch to it.
  if (requests.length && !Object.keys(changes).length && !asks.length) {
    return plan('apply', { type: 'cancel', quiet: true }, ...startOrOffline(catalogue, requests[0]!.service!, {}));
  }

  const steps: Action[] = [];
  const refusals: Action[] = refused.map((field) => ({ type: 'refuseEdit', field }));
  const formFields = new Set((service?.fields ?? []).map((f) => f.key));
  const answers: Action[] = asks.map((a): Action => (a.field && formFields.has(a.field) && !a.topics.length ? { type: 'answerField', field: a.field } : askStep(a, task.service)));
  const changed = Object.keys(changes).length > 0;
  // Another service is kept for later only when asked for in so many words ("社保卡也要办").
  const others = u.signals.requested
    ? requests.filter((r) => r.named).map((r): AgendaItem => ({ kind: 'request', service: r.service, topics: [], text: r.text }))
    : [];

  if (task.awaiting === 'confirm') {
    const plain = (u.signals.plainAssent || input.cardAction) && !changed && !asks.length && !refused.length && !u.signals.instruction;
    if (plain) return plan('apply', { type: 'submit' });
    if (changed) steps.push({ type: 'fill', values: changes }, ...refusals, ...answers, { type: 'prompt' });
    else if (refusals.length) steps.push(...refusals, ...answers, { type: 'hold', why: 'other' });
    else if (answers.length) steps.push(...answers, { type: 'hold', why: 'question' });
    else if (u.signals.joke) steps.push({ type: 'hold', why: 'joke' });
    else if (u.signals.delay) steps.push({ type: 'hold', why: 'delay' });
    else if (has(acts, 'deny')) steps.push({ type: 'hold', why: 'deny' });
    else steps.push({ type: 'hold', why: 'other' });
    if (others.length) steps.unshift({ type: 'defer', items: others });
    return plan(answers.length && !changed ? 'consult' : 'apply', ...steps);
  }

  // Filling a field.
  if (changed) steps.push({ type: 'fill', values: changes });
  steps.push(...refusals, ...answers);
  if (others.length) steps.push({ type: 'defer', items: others });
  if (changed || answers.length || refusals.length) steps.push({ type: 'prompt', brief: !changed });
  else steps.push({ type: 'reask' });
  return plan(answers.length && !changed ? 'consult' : 'apply', ...steps);
}

/** The values a message gives the task: answers, picks, changes; weak phrases only for the field awaited. */
function valuesFrom(input: PolicyInput, service: Form | undefined, task: ServiceTask): Record<string, string | null> {
  const { u, state } = input;
  const fields = new Map((service?.fields ?? []).map((f) => [f.key, f]));
  const out: Record<string, string | null> = {};
  const awaited = task.awaiting && task.awaiting !== 'confirm' ? task.awaiting : null;
  for (const a of actsOf(u, 'inform')) {
    const f = fields.get(a.field);
    if (!f || f.source !== 'ask') continue;
    if (a.weak && a.field !== awaited) continue;
    if (task.values[a.field] === a.value && task.awaiting === 'confirm') continue;
    out[a.field] = a.value;
    // "其他" from a description ("办贷款要用"): the citizen's words are kept as the note.
    const note = [...fields.values()].find((n) => n.note_for === a.field);
    if (note && (!a.weak || a.described) && a.value === '其他' && !isBareOption(u, a.value)) out[note.key] = state.input.trim().slice(0, 100);
  }
  for (const e of actsOf(u, 'edit')) {
    const f = fields.get(e.field);
    if (!f || e.value === null) continue;
    if (f.source === 'profile' && f.editable) out[f.key] = e.value;
    else if (f.source === 'ask' && f.options?.includes(e.value)) out[f.key] = e.value;
    else if (f.source === 'ask' && !f.options && !(f.key in out)) out[f.key] = e.value;
  }
  // "第二个": the option of the card of choices for the field awaited.
  const pick = actsOf(u, 'choose')[0];
  if (pick && awaited && state.choices?.field === awaited) {
    const opts = state.choices.options;
    const o = pick.ordinal === -1 ? opts[opts.length - 1] : opts[pick.ordinal - 1];
    if (o) out[awaited] = o.value;
  }
  return out;
}

/** Edits of values that come from government records: refused with the reason (never applied). */
function refusedEdits(u: NluResult, service: Form | undefined): string[] {
  const out: string[] = [];
  for (const e of actsOf(u, 'edit')) {
    const f = service?.fields?.find((x) => x.key === e.field);
    if (f && f.source !== 'ask' && !f.editable && !out.includes(f.key)) out.push(f.key);
  }
  return out;
}

function isBareOption(u: NluResult, value: string): boolean {
  return u.normalized.replace(/[,?\s的吧了呀啊]/g, '') === value;
}

function decideWithdraw(input: PolicyInput): Plan {
  const { u } = input;
  if ((u.signals.plainAssent || input.cardAction) && !u.signals.interrogative) return plan('apply', { type: 'withdraw' });
  // "算了，不撤了，办到哪了": the application kept, and the progress asked for as well.
  const progress = actsOf(u, 'progress')[0];
  const thenProgress: Action[] = progress ? [{ type: 'progress', service: progress.service ?? input.state.task?.service ?? null }] : [];
  if (has(u.acts, 'cancel') || has(u.acts, 'deny') || u.signals.delay) return plan('cancel', { type: 'cancel' }, ...thenProgress);
  const asks = actsOf(u, 'ask');
  if (asks.length) return plan('consult', ...asks.map((a) => askStep(a, input.state.task?.service ?? null)), { type: 'hold', why: 'question' });
  return plan('apply', { type: 'hold', why: 'other' });
}

// ---------------------------------------------------------------------------------- no task

function decideIdle(input: PolicyInput, catalogue: Catalogue): Plan {
  const { u, state } = input;
  const acts = u.acts;
  if (has(acts, 'handoff')) return plan('handoff', { type: 'handoff' });

  const requests = actsOf(u, 'request');
  const asks = actsOf(u, 'ask');
  const named = requests.filter((r) => r.service);
  // A question without a service of its own is about the service this message names, else the one just discussed.
  const spoken = acts.find((a): a is Extract<DialogueAct, { type: 'request' | 'ask' }> => (a.type === 'request' || a.type === 'ask') && !!a.service && a.named !== false);
  const about = spoken?.service ?? state.focus?.service ?? null;
  // After a submission a change ("租房类型改成…") is about that application, not a new one.
  const changeAfterSubmit = !!state.submitted && has(acts, 'edit');
  // "帮我把居住证申请撤回": the withdrawal, not a new application. "刚才那个能撤回吗？" after a
  // submission: whether it can be, and the confirmation card if it can (nothing is withdrawn unconfirmed).
  const withdrawal = actsOf(u, 'withdraw').find((w) => !w.asked || state.submitted);
  if (withdrawal) return plan('cancel', { type: 'withdrawStart', service: withdrawal.service ?? state.submitted?.service ?? null });
  // The request to act on: the transaction, or the first named; the rest kept for later.
  const main = changeAfterSubmit ? undefined : named.find((r) => catalogue.get(r.service)?.transactable) ?? named[0];
  if (main?.service) {
    const values = informValues(u, formOf(catalogue, main.service));
    const own = asks.filter((a) => a.about === 'guide' && (a.service ?? main.service) === main.service);
    const rest: AgendaItem[] = [
      ...named.filter((r) => r !== main).map((r): AgendaItem => ({ kind: 'request', service: r.service, topics: [], text: r.text })),
      ...asks.filter((a) => !own.includes(a)).map((a): AgendaItem => ({ kind: 'ask', service: a.service, topics: a.topics, text: a.text })),
    ];
    const started = startOrOffline(catalogue, main.service, values);
    // "我要开无犯罪证明，要多久？": the application begins, the question is answered, then the first question of the form.
    const answers = started[0]?.type === 'start' ? own.map((a) => askStep(a, main.service)) : [];
    return plan(
      'apply',
      ...started,
      ...answers,
      ...(answers.length ? [{ type: 'prompt' } as Action] : []),
      ...(rest.length ? [{ type: 'defer', items: rest } as Action] : []),
    );
  }

  const progress = actsOf(u, 'progress')[0];
  if (progress) return plan('progress', { type: 'progress', service: progress.service });

  // A pick from the last card of choices (services to choose from).
  const pick = actsOf(u, 'choose')[0];
  if (pick && state.candidates.length) {
    const id = pick.ordinal === -1 ? state.candidates[state.candidates.length - 1] : state.candidates[pick.ordinal - 1];
    if (id) return plan('apply', ...startOrOffline(catalogue, id, {}));
  }

  // A change asked for after the application went in.
  if (changeAfterSubmit || (state.submitted && actsOf(u, 'inform').some((a) => !a.weak) && !requests.length)) {
    return plan('apply', { type: 'afterSubmit' });
  }

  // "帮我申请" / "那就办吧" / "好的": the service just talked about, when the agent offered it;
  // "还要一张去马来西亚的": another of the one just submitted.
  const reference = requests.some((r) => r.service === null) || (state.focus?.offered && u.signals.plainAssent);
  // Never from a bare "提交" / "好的" after a submission: that only acknowledges.
  const another = requests.some((r) => r.service === null) && !u.signals.plainAssent && (u.signals.requested || actsOf(u, 'inform').some((a) => !a.weak));
  const referent = state.focus?.service ?? (another ? state.submitted?.service : undefined);
  if (reference && referent && catalogue.get(referent)) {
    return plan('apply', ...startOrOffline(catalogue, referent, informValues(u, formOf(catalogue, referent))));
  }

  // A bare yes with nothing offered ("确认提交" after the application went in): acknowledged, never a new task.
  if (u.signals.plainAssent && !input.cardAction) return plan('apply', { type: 'acknowledge' });

  const guideAsks = asks.filter((a) => a.about === 'guide');
  if (asks.some((a) => a.about === 'capabilities')) return plan('consult', { type: 'capabilities' });
  const situation = actsOf(u, 'situation')[0];
  if (asks.some((a) => a.about === 'offers') || situation) {
    const steps: Action[] = [];
    if (situation) steps.push({ type: 'situation', id: situation.situation });
    if (asks.some((a) => a.about === 'offers')) steps.push({ type: 'offers' });
    // "65岁的老人有什么补贴，怎么申请？" with nothing offered: the question answered as well, about the
    // situation's service it fits (the knowledge base decides among them).
    else if (situation && u.signals.interrogative) {
      const q = guideAsks.find((a) => !a.named);
      steps.push({ type: 'answer', question: input.state.input, service: null, topics: q?.topics ?? [] });
    }
    // "生育津贴能领吗，我能领什么": what is offered, then the question about the service it names
    // (a classifier's guess at a service is no question of the citizen's).
    steps.push(...guideAsks.filter((a) => a.named).map((a) => askStep(a, about)));
    return plan('consult', ...steps);
  }
  if (guideAsks.length) return plan('consult', ...guideAsks.map((a) => askStep(a, about)));

  if (requests.some((r) => r.service === null)) {
    const candidates = u.candidates.map((c) => c.service).filter((id) => catalogue.has(id)).slice(0, 4);
    return plan('apply', candidates.length ? { type: 'clarify', candidates } : { type: 'smalltalk', kind: 'not_understood' });
  }
  if (has(acts, 'cancel')) return plan('cancel', { type: 'cancel' });
  // Field values with no task: the service just discussed, if they belong to it.
  const informs = actsOf(u, 'inform').filter((a) => !a.weak);
  if (informs.length && state.focus) {
    const values = informValues(u, formOf(catalogue, state.focus.service));
    if (Object.keys(values).length) return plan('apply', ...startOrOffline(catalogue, state.focus.service, values));
  }
  if (has(acts, 'confirm') && !u.signals.interrogative) return plan('apply', { type: 'acknowledge' });
  const chat = actsOf(u, 'chitchat')[0];
  // "你好": the greeting, with what the citizen can have without applying (免申即享).
  if (chat?.kind === 'greeting') return plan('greeting', { type: 'offers', greeting: true });
  if (chat) return plan(chat.kind === 'out_of_scope' ? 'out_of_scope' : 'greeting', { type: 'smalltalk', kind: chat.kind });
  return plan(u.act, { type: 'smalltalk', kind: 'not_understood' });
}

/** Values said for a service's asked fields in the same message ("去英国留学用"). */
function informValues(u: NluResult, service: Form | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const fields = new Map((service?.fields ?? []).map((f) => [f.key, f]));
  for (const a of actsOf(u, 'inform')) {
    const f = fields.get(a.field);
    if (!a.weak && f?.source === 'ask') out[a.field] = a.value;
  }
  // "办居住证，依据是合法稳定就业": a value said as "<field>是……" is as good as an answer.
  for (const e of actsOf(u, 'edit')) {
    const f = fields.get(e.field);
    if (f?.source !== 'ask' || e.value === null || e.field in out) continue;
    if (!f.options || f.options.includes(e.value)) out[e.field] = e.value;
  }
  return out;
}

function startOrOffline(catalogue: Catalogue, service: string, values: Record<string, string>): Action[] {
  // A 一件事 bundle is transacted as one form, though its guide's service is not itself transactable.
  if (catalogue.get(service)?.transactable || catalogue.bundle(service)) return [{ type: 'start', service, values }];
  return [{ type: 'offline', service }];
}

/**
 * The answer step of a question: about the service it names, else the one in question; a
 * classifier's guess at a service the message does not name is left to the knowledge base,
 * which weighs every guide (and names the service it answered from).
 */
function askStep(a: Extract<DialogueAct, { type: 'ask' }>, fallbackService: string | null): Action {
  if (a.about === 'capabilities') return { type: 'capabilities' };
  if (a.about === 'offers') return { type: 'offers' };
  const service = a.named === false ? null : a.service;
  return { type: 'answer', question: a.text, service: service ?? fallbackService, topics: a.topics };
}

function has(acts: readonly DialogueAct[], type: DialogueAct['type']): boolean {
  return acts.some((a) => a.type === type);
}
