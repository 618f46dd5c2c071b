import type { OfferView, Prefill } from '../../tools/contract.js';
import { ToolError } from '../context.js';
import { say } from '../responses.js';
import type { ServiceTask, State, Update } from '../state.js';
import { contextOf, greetingPart, next, said, serviceTask, step, type NodeRuntime } from './common.js';

/**
 * 免申即享. At the start of a conversation (a greeting, or the session's opening) the agent
 * offers what the citizen is entitled to from shared data, not yet answered; asked ("我能领什么")
 * it lists everything they may have. The first offer comes with its reasons in the citizen's
 * own facts, the amount where the service API computed it, and a one-tap card: the application
 * of that service, pre-filled, asking only the few fields to confirm, so "确认" takes it up.
 * "以后再说" and "不需要" are remembered by the service API (offerAnswer).
 */
export async function offers(state: State, runtime: NodeRuntime): Promise<Update> {
  const { greeting } = step(state, 'offers');
  const ctx = contextOf(runtime);
  // At the greeting, the greeting; asked for later, what the answer is instead.
  const opening = (otherwise: string) => (greeting ? greetingPart() : { part: otherwise });
  if (!ctx.tools) return { plan: next(state), draft: said(state, opening(say('need_login', { service: '查询可享待遇' }))) };
  let list: OfferView[];
  try {
    list = await ctx.tools.listOffers(!greeting);
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    list = [];
  }
  // A conversation already on a form is not interrupted by an offer.
  const first = state.task ? undefined : list[0];
  if (!first) {
    return { plan: next(state), draft: said(state, { ...opening(say('offers_none')), ...(greeting ? {} : { outcome: 'answered' as const }) }) };
  }
  let prefill: Prefill;
  try {
    prefill = await ctx.tools.prefill(first.serviceId, {});
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    return { plan: next(state), draft: said(state, opening(say('offers_none'))) };
  }
  const amount = first.amount ? say('offer_amount', { amount: first.amount.text, explain: first.amount.explain }) : '';
  const vars = { title: first.title, department: first.department, why: first.why.join('，') };
  const name = prefill.fields.find((f) => f.key === 'name')?.display;
  let part = (greeting ? (name ? say('offer_greeting', { name, ...vars }) : say('offer_greeting_anonymous', vars)) : say('offer_intro', vars)) + amount;
  // Spoken: what can be had; why, how much and what else are on the screen.
  const speech = greeting ? (name ? say('offer_greeting_spoken', { name, title: first.title }) : say('offer_greeting_anonymous_spoken', { title: first.title })) : say('offer_intro_spoken', { title: first.title });
  const rest = list.slice(1);
  if (rest.length) {
    const items = rest.map((o) => (o.amount ? say('offer_item', { title: o.title, amount: o.amount.text }) : say('offer_item_plain', { title: o.title }))).join('、');
    part += say('offer_more', { items });
  }
  const task: ServiceTask = {
    kind: 'service', service: first.serviceId, values: {}, prefill, awaiting: null, idempotencyKey: null, misses: 0,
    offer: {
      id: first.id, title: first.title, why: first.why, amount: first.amount?.text ?? null, explain: first.amount?.explain ?? null,
      confirm: first.confirm.map((f) => f.label),
    },
  };
  return {
    task,
    focus: { service: first.serviceId, offered: false },
    plan: next(state, { then: [{ type: 'prompt' }] }),
    draft: said(state, { part, speech, service: first.serviceId }),
  };
}

/** "以后再说" / "不需要" to the offer on the card: remembered, and the card put away. */
export async function offerAnswer(state: State, runtime: NodeRuntime): Promise<Update> {
  const { answer } = step(state, 'offerAnswer');
  const ctx = contextOf(runtime);
  const task = serviceTask(state);
  if (!task?.offer) return { plan: next(state) };
  if (ctx.tools) {
    try {
      await ctx.tools.answerOffer(task.offer.id, answer);
    } catch (err) {
      if (!(err instanceof ToolError)) throw err;
    }
  }
  const part = answer === 'later' ? say('offer_later', { title: task.offer.title }) : say('offer_declined', { title: task.offer.title });
  return { task: null, choices: null, focus: null, plan: next(state), draft: said(state, { part, service: task.service }) };
}
