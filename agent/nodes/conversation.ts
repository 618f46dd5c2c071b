import { getService } from '../../core/catalogue.js';
import { wordTurn } from '../llm/wording.js';
import { say, statusLabel } from '../responses.js';
import type { State, Update } from '../state.js';
import { agentContext, formView, resetTask, serviceName, turnOut, type NodeConfig } from './common.js';

/** The citizen wants a person: a handoff carrying the transcript, the understanding and the form. */
export async function handoff(state: State, config: NodeConfig): Promise<Update> {
  const { tools } = agentContext(config);
  if (!tools) return { ...resetTask(), out: turnOut(state, { reply: say('handoff_anonymous') }) };
  const sessionId = String(config.configurable?.thread_id ?? '');
  const h = await tools.createHandoff({
    reason: 'citizen_request',
    reasonText: '市民要求转人工',
    serviceId: state.service,
    ...(sessionId ? { sessionId } : {}),
    transcript: [...state.transcript, { role: 'citizen', text: state.input, at: new Date().toISOString() }],
    understanding: {
      act: state.nlu?.act, service: state.service, stage: state.stage, awaiting: state.awaiting,
      values: state.values, confidence: state.nlu?.confidence,
    },
    form: formView(state.prefill, state.values),
  });
  return {
    ...resetTask(),
    out: turnOut(state, {
      reply: say('handoff_created', { handoffId: h.id }),
      outcome: 'handoff',
      handoff: { id: h.id, reason: 'citizen_request' },
      card: { type: 'handoff', handoffId: h.id, status: h.status },
    }),
  };
}

export function cancel(state: State): Update {
  const reply = state.stage === 'idle' ? say('nothing_to_cancel') : say('cancelled');
  return { ...resetTask(), out: turnOut(state, { reply }) };
}

export function smalltalk(state: State): Update {
  const act = state.nlu?.act;
  if (act === 'greeting') return { out: turnOut(state, { reply: say('greeting'), service: null }) };
  if (act === 'out_of_scope') return { out: turnOut(state, { reply: say('out_of_scope'), outcome: 'answered', service: null }) };
  return { out: turnOut(state, { reply: say('not_understood'), service: null }) };
}

/** A message naming someone's ID number: the agent only ever acts for the signed-in citizen. */
export function guard(state: State): Update {
  return { ...resetTask(), out: turnOut(state, { reply: say('third_party'), outcome: 'declined', service: null }) };
}

/** Unsure which service is meant: ask, offering the likely ones, rather than guess. */
export function clarify(state: State): Update {
  const candidates = (state.nlu?.candidates ?? []).map((c) => c.service).filter((id) => getService(id)).slice(0, 4);
  if (candidates.length === 0) return { ...resetTask(), out: turnOut(state, { reply: say('not_understood'), service: null }) };
  return {
    stage: 'clarifying',
    awaiting: 'service',
    candidates,
    out: turnOut(state, {
      reply: say('clarify_service'),
      service: null,
      awaiting: 'service',
      card: { type: 'choices', field: 'service', label: '事项', options: candidates.map((id) => ({ value: id, label: serviceName(id), text: `我要办${serviceName(id)}` })) },
    }),
  };
}

/** "我的居住证办到哪了": the citizen's own applications, from the service API. */
export async function progress(state: State, config: NodeConfig): Promise<Update> {
  const { tools } = agentContext(config);
  const serviceId = state.nlu?.service ?? null;
  if (!tools) return { out: turnOut(state, { reply: say('need_login', { service: serviceName(serviceId) }), service: serviceId }) };
  const apps = (await tools.listApplications()).filter((a) => !serviceId || a.serviceId === serviceId);
  const what = serviceId ? `「${serviceName(serviceId)}」` : '';
  const reply = apps.length === 0
    ? say('progress_none', { what })
    : say('progress_list', {
        items: apps.slice(0, 5).map((a) => say('progress_item', { service: a.serviceName, id: a.id, status: `${statusLabel(a.status)}。${a.statusMessage}` })).join('；'),
      });
  const latest = apps[0];
  return {
    out: turnOut(state, {
      reply, outcome: 'answered', service: serviceId, awaiting: state.awaiting,
      application: latest ? { id: latest.id, status: latest.status } : null,
    }),
  };
}

/**
 * Words the reply (with a model, when there is one: only the reply changes, and only if the
 * rewording keeps every fact) and records the exchange: transcript lines (for staff) and the
 * turn (for the session view).
 */
export async function finish(state: State, config: NodeConfig): Promise<Update> {
  const at = new Date().toISOString();
  const out = await wordTurn(config, state, state.out ?? turnOut(state, { reply: say('not_understood') }));
  return {
    out,
    transcript: [
      { role: 'citizen', text: state.input, at },
      { role: 'agent', text: out.reply, at },
    ],
    turns: [{ n: state.turns.length + 1, text: state.input, at, turn: out }],
  };
}
