import { ToolError } from '../context.js';
import { say } from '../responses.js';
import type { AgendaItem, State, Update } from '../state.js';
import { cardToken, contextOf, formView, greetingPart, next, said, serviceTask, step, type NodeRuntime } from './common.js';
import { planFor } from './understand.js';

/** A message naming someone's ID number: the agent only ever acts for the signed-in citizen. */
export function guard(state: State): Update {
  return { task: null, plan: next(state), draft: said(state, { part: say('third_party'), outcome: 'declined', service: null }) };
}

/**
 * The citizen wants a person: a handoff carrying what the agent understood and the form. The
 * transcript staff see is the server's own record of this session (the service API builds it).
 */
export async function handoff(state: State, runtime: NodeRuntime): Promise<Update> {
  const ctx = contextOf(runtime);
  if (!ctx.tools) return { task: null, plan: next(state), draft: said(state, { part: say('handoff_anonymous') }) };
  const task = serviceTask(state);
  const service = task?.service ?? state.focus?.service ?? null;
  const h = await ctx.tools.createHandoff({
    reason: 'citizen_request',
    reasonText: '市民要求转人工',
    serviceId: service,
    sessionId: ctx.sessionId,
    transcript: [{ role: 'citizen', text: state.input, at: new Date().toISOString() }],
    understanding: { act: state.understanding?.act, service, awaiting: task?.awaiting ?? null, values: maskedValues(task?.prefill ? formView(task.prefill).fields : []) },
    form: formView(task?.prefill ?? null),
  });
  return {
    task: null,
    plan: next(state),
    draft: said(state, {
      part: say('handoff_created', { handoffId: h.id }),
      outcome: 'handoff',
      handoff: { id: h.id, reason: 'citizen_request' },
      card: { type: 'handoff', handoffId: h.id, status: h.status },
      service,
    }),
  };
}

function maskedValues(fields: { key: string; value: string | null }[]): Record<string, string | null> {
  return Object.fromEntries(fields.map((f) => [f.key, f.value]));
}

/** Unsure which service is meant: ask, offering the likely ones, rather than guess. */
export function clarify(state: State, runtime: NodeRuntime): Update {
  const { candidates } = step(state, 'clarify');
  const ctx = contextOf(runtime);
  return {
    candidates,
    plan: next(state),
    draft: said(state, {
      part: say('clarify_service'),
      service: null,
      card: {
        type: 'choices', token: cardToken('clarify', candidates, state.history.length), field: 'service', label: '事项',
        options: candidates.map((id) => ({ value: id, label: ctx.catalogue.name(id) ?? id, text: `我要办${ctx.catalogue.name(id) ?? id}` })),
      },
    }),
  };
}

/** "我的居住证办到哪了": the citizen's own applications, from the service API. */
export async function progress(state: State, runtime: NodeRuntime): Promise<Update> {
  const { service } = step(state, 'progress');
  const ctx = contextOf(runtime);
  const name = ctx.catalogue.name(service);
  if (!ctx.tools) return { plan: next(state), draft: said(state, { part: say('need_login', { service: name ?? '查询办件进度' }), service }) };
  const all = await ctx.tools.listApplications();
  // "出生一件事办到哪了": every part of the citizen's latest application of that bundle.
  const bundle = ctx.catalogue.bundle(service);
  if (bundle) {
    const parts = all.filter((a) => a.bundleApplicationId && bundle.members.some((m) => m.service === a.serviceId));
    const latest = parts[0]?.bundleApplicationId;
    const order = (id: string) => bundle.members.findIndex((m) => m.service === id);
    const mine = parts.filter((a) => a.bundleApplicationId === latest).sort((a, b) => order(a.serviceId) - order(b.serviceId));
    if (mine.length) {
      const items = mine.map((a) => say('progress_item', { service: a.serviceName, id: a.id, status: a.statusLabel, message: a.statusMessage })).join('\n');
      return {
        plan: next(state),
        draft: said(state, { part: `${say('bundle_progress', { bundle: bundle.name, bundleId: latest! })}\n${items}`, outcome: 'answered', service, application: { id: mine[0]!.id, status: mine[0]!.status } }),
      };
    }
  }
  const apps = all.filter((a) => !service || a.serviceId === service);
  const part = apps.length === 0
    ? name ? say('progress_none_for', { service: name }) : say('progress_none')
    : say('progress_list', {
        items: apps.slice(0, 5).map((a) => say('progress_item', { service: a.serviceName, id: a.id, status: a.statusLabel, message: a.statusMessage })).join('\n'),
      });
  const latest = apps[0];
  return {
    plan: next(state),
    draft: said(state, { part, outcome: 'answered', service, application: latest ? { id: latest.id, status: latest.status } : null }),
  };
}

/** An assent or thanks with nothing pending: never a new application. */
export function acknowledge(state: State, runtime: NodeRuntime): Update {
  const ctx = contextOf(runtime);
  const s = state.submitted;
  const part = s
    ? say('acknowledge_submitted', { service: ctx.catalogue.name(s.service) ?? s.service, applicationId: s.applicationId, status: ctx.catalogue.statusLabel(s.status) })
    : say('acknowledge');
  return { plan: next(state), draft: said(state, { part }) };
}

export function smalltalk(state: State): Update {
  const { kind } = step(state, 'smalltalk');
  const spoken = kind === 'greeting' ? greetingPart()
    : kind === 'thanks' ? { part: say('thanks') }
    : kind === 'bye' ? { part: say('bye') }
    : kind === 'out_of_scope' ? { part: say('out_of_scope') }
    : { part: say('not_understood') };
  return { plan: next(state), draft: said(state, { ...spoken, service: null, ...(kind === 'out_of_scope' ? { outcome: 'answered' as const } : {}) }) };
}

/** Keeps what else the citizen asked, and says it will be taken up. */
export function defer(state: State, runtime: NodeRuntime): Update {
  const { items } = step(state, 'defer');
  const ctx = contextOf(runtime);
  const names = items.map((i) => describe(i, ctx.catalogue.name(i.service))).join('、');
  return { agenda: [...state.agenda, ...items], plan: next(state), draft: said(state, { part: say('deferred', { items: names }) }) };
}

function describe(i: AgendaItem, name: string | undefined): string {
  if (i.kind === 'request') return `「${name ?? '另一件事'}」`;
  return name ? `「${name}」的问题` : '一个问题';
}

/** Takes up the first thing kept: answers the question, or starts the other request. */
export function resume(state: State, runtime: NodeRuntime): Update {
  const ctx = contextOf(runtime);
  const [item, ...rest] = state.agenda;
  if (!item || state.task) return { plan: next(state) };
  const name = ctx.catalogue.name(item.service);
  if (item.kind === 'ask') {
    return {
      agenda: rest,
      plan: next(state, { then: [{ type: 'answer', question: item.text, service: item.service, topics: item.topics, kept: true }] }),
      draft: said(state, { part: say('resume_ask', { what: name ? `「${name}」的问题` : '一个问题' }) }),
    };
  }
  if (!item.service) return { agenda: rest, plan: next(state) };
  const transactable = ctx.catalogue.get(item.service)?.transactable;
  return {
    agenda: rest,
    plan: next(state, { then: transactable ? [{ type: 'start', service: item.service, values: {} }] : [{ type: 'offline', service: item.service }] }),
    draft: said(state, { part: say('resume_request', { service: name ?? item.service }) }),
  };
}

/**
 * A live handoff: the citizen's words go to the staff member who has the case, acknowledged
 * once; the agent says nothing in their place. Once staff have closed it, the agent answers
 * this message itself, as if no handoff were open.
 */
export async function relay(state: State, runtime: NodeRuntime): Promise<Update> {
  const ctx = contextOf(runtime);
  const live = state.liveHandoff;
  if (live && ctx.tools) {
    try {
      await ctx.tools.messageHandoff(live.id, state.input);
      return {
        liveHandoff: { ...live, acknowledged: true },
        plan: next(state),
        draft: { ...said(state, { part: live.acknowledged ? null : say('handoff_relayed'), outcome: 'handoff', handoff: { id: live.id, reason: live.reason } }), relayed: true },
      };
    } catch (err) {
      if (!(err instanceof ToolError)) throw err;
    }
  }
  // Closed (or no citizen to relay for): the conversation is the agent's again.
  const u = state.understanding;
  if (!u) return { liveHandoff: null, plan: next(state) };
  return { liveHandoff: null, ...planFor({ ...state, liveHandoff: null }, u, ctx.catalogue) };
}
