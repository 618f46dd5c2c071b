import { getService } from '../../core/catalogue.js';
import { wordGuideAnswer } from '../llm/wording.js';
import { say } from '../responses.js';
import type { State, Update } from '../state.js';
import { agentContext, resetTask, serviceName, turnOut, type NodeConfig } from './common.js';

/**
 * Answers a question from the knowledge base only, with citations. Mid-task the task stays
 * open and the awaited question is asked again; with nothing relevant found the agent says
 * so and offers a person instead of inventing an answer.
 */
export async function answer(state: State, config: NodeConfig): Promise<Update> {
  const { knowledge, tools } = agentContext(config);
  const n = state.nlu!;
  const serviceId = n.service ?? (state.stage !== 'idle' ? state.service : null);
  const a = await knowledge.answer(state.input, { serviceId });
  if (!a.found) {
    return { out: turnOut(state, { reply: say('answer_not_found'), outcome: 'answered', service: serviceId, awaiting: state.awaiting }) };
  }
  let reply = await wordGuideAnswer(config, a.answer);
  const midTask = state.stage === 'filling' || state.stage === 'confirming';
  if (midTask) reply += `\n\n${state.stage === 'confirming' ? say('confirm_remind') : say('ask_field', { label: awaitedLabel(state) })}`;
  else if (a.transactable && tools) reply += `\n\n${say('answer_offer_apply')}`;
  const card = a.serviceId
    ? { type: 'guide' as const, service: a.serviceId, serviceName: serviceName(a.serviceId), transactable: a.transactable, citations: a.citations }
    : null;
  return {
    // Remember what was talked about, so "那就办理吧" starts the right service.
    ...(midTask ? {} : { service: a.serviceId ?? state.service }),
    out: turnOut(state, { reply, outcome: 'answered', citations: a.citations, card, service: a.serviceId, awaiting: state.awaiting }),
  };
}

function awaitedLabel(state: State): string {
  const key = state.awaiting ?? '';
  return state.prefill?.fields.find((f) => f.key === key)?.label ?? key;
}

/** A service the agent cannot transact: where and how to do it, from its guide. */
export async function offline(state: State, config: NodeConfig): Promise<Update> {
  const { knowledge } = agentContext(config);
  const svc = getService(state.service!);
  const a = await knowledge.answer(`${svc?.name ?? ''} 办理渠道`, { serviceId: state.service, section: '办理渠道' });
  const reply = a.found
    ? `${say('offline_service', { service: serviceName(state.service) })}\n${await wordGuideAnswer(config, a.answer)}`
    : say('answer_not_found');
  return {
    ...resetTask(),
    out: turnOut(state, {
      reply,
      outcome: 'answered',
      citations: a.citations,
      card: a.found ? { type: 'guide', service: state.service, serviceName: serviceName(state.service), transactable: false, citations: a.citations } : null,
    }),
  };
}
