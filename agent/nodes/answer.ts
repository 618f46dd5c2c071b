import { wordGuideAnswer } from '../llm/wording.js';
import { say } from '../responses.js';
import type { State, Update } from '../state.js';
import type { Card } from '../turn.js';
import { cardToken, contextOf, next, said, serviceTask, step, type NodeRuntime } from './common.js';

/**
 * Answers from the knowledge base only, with citations: one question per step, from the
 * section it asks about. With nothing relevant found the agent says so and offers a person
 * instead of inventing an answer. Idle, after a guide answer on a service it can transact,
 * it offers to do it; "办理" / "那就办吧" then refers to that service.
 */
export async function answer(state: State, runtime: NodeRuntime): Promise<Update> {
  const a0 = state.plan[0];
  if (a0?.type !== 'answer') return { plan: next(state) };
  const ctx = contextOf(runtime);
  // One question in the message: the whole message is the question (its other clauses say what it is about).
  const asked = (state.understanding?.acts ?? []).filter((x) => x.type === 'ask' && x.about === 'guide').length;
  const question = !a0.kept && asked <= 1 && state.input.trim() ? state.input : a0.question;
  const a = await ctx.knowledge.answer(question, { serviceId: a0.service, sections: a0.topics });
  if (!a.found) {
    return { plan: next(state), draft: said(state, { part: say('answer_not_found'), outcome: 'answered', service: a0.service }) };
  }
  const body = await wordGuideAnswer(ctx, a.answer);
  const lastAnswer = !state.plan.slice(1).some((x) => x.type === 'answer');
  const idle = !state.task && !state.plan.some((x) => x.type === 'start' || x.type === 'prompt' || x.type === 'hold');
  // Never offered again to a citizen just told they cannot apply for it ("您已有上海市户籍…").
  const declined = !!a.serviceId && state.focus?.service === a.serviceId && state.focus.declined === true;
  const offer = idle && lastAnswer && a.transactable && !!ctx.tools && !!a.serviceId && !declined;
  const part = offer ? `${body}\n\n${say('answer_offer_apply', { service: ctx.catalogue.name(a.serviceId) ?? '' })}` : body;
  // A receipt or a task's card already in this turn stays the turn's card.
  const card: Card | undefined = a.serviceId && !state.task && !state.draft.card
    ? { type: 'guide', service: a.serviceId, serviceName: ctx.catalogue.name(a.serviceId) ?? a.serviceId, transactable: a.transactable, citations: a.citations }
    : undefined;
  return {
    // What was talked about, so "那就办吧" starts the right service.
    ...(state.task ? {} : { focus: a.serviceId ? { service: a.serviceId, offered: offer, ...(declined ? { declined } : {}) } : state.focus }),
    plan: next(state),
    draft: said(state, {
      part, outcome: 'answered', citations: a.citations, support: a.answer,
      ...(state.draft.card ? {} : { service: a.serviceId }),
      ...(card ? { card } : {}),
    }),
  };
}

/** A service the agent cannot transact: where and how to do it, from its guide. */
export async function offline(state: State, runtime: NodeRuntime): Promise<Update> {
  const a0 = state.plan[0];
  if (a0?.type !== 'offline') return { plan: next(state) };
  const ctx = contextOf(runtime);
  const name = ctx.catalogue.name(a0.service) ?? a0.service;
  const a = await ctx.knowledge.answer(`${name} 办理渠道`, { serviceId: a0.service, sections: ['办理渠道'] });
  if (!a.found) return { plan: next(state), draft: said(state, { part: say('answer_not_found'), outcome: 'answered', service: a0.service }) };
  return {
    focus: { service: a0.service, offered: false },
    plan: next(state),
    draft: said(state, {
      part: `${say('offline_service', { service: name })}\n${await wordGuideAnswer(ctx, a.answer)}`,
      outcome: 'answered',
      citations: a.citations,
      service: a0.service,
      support: a.answer,
      card: { type: 'guide', service: a0.service, serviceName: name, transactable: false, citations: a.citations },
    }),
  };
}

/** "你能办什么": what can be done here, transactable services first. */
export function capabilities(state: State, runtime: NodeRuntime): Update {
  const ctx = contextOf(runtime);
  const transactable = ctx.catalogue.transactable();
  const others = ctx.catalogue.services.filter((s) => !s.transactable);
  const options = transactable.map((s) => ({ value: s.id, label: s.name, text: `我要办${s.name}` }));
  return {
    candidates: transactable.map((s) => s.id),
    plan: next(state),
    draft: said(state, {
      part: say('capabilities', {
        transactable: transactable.map((s) => s.name).join('、'),
        count: ctx.catalogue.services.length,
        examples: others.slice(0, 4).map((s) => s.name).join('、'),
      }),
      outcome: 'answered',
      card: { type: 'choices', token: cardToken('capabilities', state.history.length), field: 'service', label: '可在线办理', options },
    }),
  };
}

/** A life situation ("我生了宝宝"): the services that fit, transactable ones first, to pick from. */
export function situation(state: State, runtime: NodeRuntime): Update {
  const a0 = state.plan[0];
  const ctx = contextOf(runtime);
  const sit = a0?.type === 'situation' ? ctx.catalogue.situations.find((s) => s.id === a0.id) : undefined;
  if (!sit) return { plan: next(state) };
  const ids = sit.services.filter((id) => ctx.catalogue.has(id));
  // A 一件事 bundle for the situation comes first and stands for its parts.
  const bundle = ctx.catalogue.bundles.find((b) => b.situations.includes(sit.id)) ?? ctx.catalogue.bundle(sit.bundle);
  const parts = new Set(bundle?.members.map((m) => m.service) ?? []);
  const rest = ids.filter((id) => !parts.has(id) && id !== bundle?.service);
  const ordered = [
    ...(bundle ? [bundle.service] : []),
    ...rest.filter((id) => ctx.catalogue.get(id)?.transactable),
    ...rest.filter((id) => !ctx.catalogue.get(id)?.transactable),
  ];
  const names = ordered.map((id) => `「${ctx.catalogue.name(id)}」`).join('、');
  // "我生了宝宝，能领什么钱吗": what is offered comes next and brings its own card.
  if (state.plan.slice(1).some((x) => x.type === 'offers')) {
    return { candidates: ordered, focus: ordered[0] ? { service: ordered[0], offered: false } : state.focus, plan: next(state), draft: said(state, { part: say('situation_brief', { say: sit.say, services: names }), outcome: 'answered' }) };
  }
  return {
    candidates: ordered,
    // "帮我办一个" / "要本人去吗？" next: the first of them, as the card lists it.
    focus: ordered[0] ? { service: ordered[0], offered: false } : state.focus,
    plan: next(state),
    draft: said(state, {
      part: say('situation', { say: sit.say, services: names }),
      outcome: 'answered',
      card: {
        type: 'choices', token: cardToken('situation', sit.id, state.history.length), field: 'service', label: '相关事项',
        options: ordered.map((id) => ({ value: id, label: ctx.catalogue.name(id) ?? id, text: `我要办${ctx.catalogue.name(id) ?? id}` })),
      },
    }),
  };
}


/** "卡会寄到哪个地址？": the value on the form in hand, as the card shows it (identifiers masked). */
export function answerField(state: State): Update {
  const { field } = step(state, 'answerField');
  const f = serviceTask(state)?.prefill?.fields.find((x) => x.key === field);
  if (!f) return { plan: next(state) };
  const part = f.display ? say('field_value', { label: f.label, value: f.display }) : say('field_empty', { label: f.label });
  return { plan: next(state), draft: said(state, { part, outcome: 'answered' }) };
}
