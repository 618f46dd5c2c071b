import { randomUUID } from 'node:crypto';
import { fieldApplies, getService } from '../../core/catalogue.js';
import { ToolError } from '../context.js';
import { say } from '../responses.js';
import type { State, Update } from '../state.js';
import { agentContext, formView, profileSummary, resetTask, serviceName, turnOut, type NodeConfig } from './common.js';

/**
 * Takes what the message says about the task: starts a new task when the citizen asks for a
 * service (keeping whatever slots the same sentence carried), or merges answers and
 * corrections into the current one. Values whose condition no longer holds are dropped
 * (purpose changed from 出国(境) to 就业 drops the destination).
 */
export function collect(state: State): Update {
  const n = state.nlu!;
  const startsTask =
    state.stage === 'idle' || state.stage === 'clarifying' ||
    (n.act === 'apply' && !!n.service && n.service !== state.service && !n.needsClarification);
  const service = startsTask ? n.service : state.service;
  const svc = service ? getService(service) : undefined;
  const askable = new Set((svc?.fields ?? []).filter((f) => f.source === 'ask').map((f) => f.key));
  const values: Record<string, string> = startsTask ? {} : { ...state.values };
  for (const [k, v] of Object.entries(n.slots)) if (askable.has(k)) values[k] = v;
  for (const f of svc?.fields ?? []) if (values[f.key] !== undefined && !fieldApplies(f, values)) delete values[f.key];
  const changed = !startsTask && JSON.stringify(values) !== JSON.stringify(state.values);
  return {
    service,
    values,
    stage: 'filling',
    candidates: [],
    misses: 0,
    confirmed: false,
    awaiting: startsTask ? null : state.awaiting,
    idempotencyKey: startsTask || changed ? null : state.idempotencyKey,
  };
}

/** Pre-fills the application through the MCP tool: everything government already holds. */
export async function prefill(state: State, config: NodeConfig): Promise<Update> {
  const { tools } = agentContext(config);
  try {
    const p = await tools!.prefill(state.service!, state.values);
    return { prefill: p };
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    return { ...resetTask(), out: turnOut(state, { reply: say('tool_error', { message: err.message }), outcome: 'declined' }) };
  }
}

export function ask(state: State): Update {
  const p = state.prefill!;
  const key = p.missing[0]!;
  const field = p.fields.find((f) => f.key === key);
  const label = field?.label ?? key;
  const question = field?.options?.length
    ? say('ask_field_options', { label, options: field.options.join('、') })
    : say('ask_field', { label });
  const intro = state.awaiting === null ? say('prefilled_intro', { service: p.serviceName, summary: profileSummary(p) }) : '';
  return {
    awaiting: key,
    out: turnOut(state, {
      reply: intro + question,
      awaiting: key,
      card: field?.options?.length ? { type: 'choices', field: key, label, options: field.options.map((o) => ({ value: o, label: o })) } : null,
    }),
  };
}

/** The awaited answer was not understood: ask again, with the options spelled out. */
export function reask(state: State): Update {
  const key = state.awaiting!;
  const field = state.prefill?.fields.find((f) => f.key === key);
  const label = field?.label ?? key;
  const reply = field?.options?.length
    ? say('ask_again', { label, options: field.options.join('、') })
    : say('ask_again_free', { label });
  return {
    misses: state.misses + 1,
    out: turnOut(state, {
      reply,
      awaiting: key,
      card: field?.options?.length ? { type: 'choices', field: key, label, options: field.options.map((o) => ({ value: o, label: o })) } : null,
    }),
  };
}

/** One confirmation card with every field (identifiers masked); the next yes submits. */
export function confirmCard(state: State): Update {
  const p = state.prefill!;
  const intro = state.awaiting === null ? say('prefilled_intro', { service: p.serviceName, summary: profileSummary(p) }) : '';
  return {
    stage: 'confirming',
    awaiting: 'confirm',
    idempotencyKey: state.idempotencyKey ?? randomUUID(),
    out: turnOut(state, { reply: intro + say('confirm_prompt', { amend_hint: amendHint(state) }), awaiting: 'confirm', card: confirmationCard(state) }),
  };
}

export function confirmationCard(state: State): Record<string, unknown> & { type: 'confirm' } {
  const view = formView(state.prefill, state.values);
  return {
    type: 'confirm',
    service: state.service,
    serviceName: view.serviceName,
    fields: view.fields,
    actions: [
      { label: '立即办理', text: '确认' },
      { label: '修改', text: '修改' },
      { label: '取消', text: '取消' },
    ],
  };
}

export function remind(state: State): Update {
  return { out: turnOut(state, { reply: say('confirm_remind'), awaiting: 'confirm', card: confirmationCard(state) }) };
}

export function amend(state: State): Update {
  return { out: turnOut(state, { reply: say('amend_prompt', { amend_hint: amendHint(state) }), awaiting: 'confirm' }) };
}

/** How to correct this form, with an example built from its first choice field ("用途改成就业"). */
function amendHint(state: State): string {
  const field = state.prefill?.fields.find((f) => f.source === 'ask' && f.applies && f.options?.length);
  const option = field?.options?.find((o) => o !== state.values[field.key]);
  return field && option ? say('amend_hint_example', { label: field.label, option }) : say('amend_hint_plain');
}

/** Not applicable or not eligible: a clear reason, and the better-fitting service if any. */
export function decline(state: State): Update {
  const e = state.prefill?.eligibility;
  let reply = say('declined', { service: serviceName(state.service), reason: e?.reason ?? '不符合办理条件。' });
  if (e?.alternative) reply += say('declined_alternative', { alternative: e.alternative.name });
  return { ...resetTask(), out: turnOut(state, { reply, outcome: 'declined' }) };
}

export function needLogin(state: State): Update {
  return { ...resetTask(), out: turnOut(state, { reply: say('need_login', { service: serviceName(state.service) }) }) };
}
