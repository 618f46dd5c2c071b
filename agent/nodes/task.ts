import { randomUUID } from 'node:crypto';
import { notEditableMessage } from '../../knowledge/catalogue.js';
import type { BundlePrefill, Prefill, PrefilledField } from '../../tools/contract.js';
import { ToolError } from '../context.js';
import { say } from '../responses.js';
import type { ServiceTask, State, Update, WithdrawTask } from '../state.js';
import type { Card } from '../turn.js';
import { cardToken, contextOf, formView, next, profileSummary, said, serviceTask, step, type NodeRuntime } from './common.js';

type ChoicesCard = Extract<Card, { type: 'choices' }>;

/**
 * The steps of an application: start (repeat and eligibility through the service API), fill
 * (answers and changes, checked by the service API), prompt (the next question, or the one
 * confirmation card), submit, hold (the card again, nothing submitted), and withdrawal.
 */

const ACCOUNT_REF = /^accountref(\d)$/;

/** Starts an application: pre-filled through the MCP tool; a repeat or an ineligible citizen ends it at once. */
export async function start(state: State, runtime: NodeRuntime): Promise<Update> {
  const { service, values } = step(state, 'start');
  const ctx = contextOf(runtime);
  const name = ctx.catalogue.name(service) ?? service;
  if (!ctx.tools) {
    return { task: null, focus: { service, offered: false }, plan: next(state, { drop: ['prompt'] }), draft: said(state, { part: say('need_login', { service: name }), service }) };
  }
  // A 一件事 bundle is filled as one form (its parts' fields, each once) and submitted as one.
  const bundle = ctx.catalogue.bundle(service);
  let p: Prefill;
  try {
    p = bundle ? await ctx.tools.prefillBundle(bundle.id, values) : await ctx.tools.prefill(service, values);
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    return { task: null, plan: next(state, { drop: ['prompt'] }), draft: said(state, { part: say('tool_error', { message: err.message }), outcome: 'declined', service }) };
  }
  if (!p.eligibility.eligible) {
    let part = say('declined', { service: name, reason: p.eligibility.reason ?? '不符合办理条件。' });
    if (p.eligibility.alternative) part += say('declined_alternative', { alternative: p.eligibility.alternative.name });
    // "为什么不行？" next is about this service.
    return { task: null, focus: { service, offered: false, declined: true }, plan: afterTaskEnds(state), draft: said(state, { part, outcome: 'declined', service }) };
  }
  const policy = ctx.catalogue.get(service)?.repeat?.policy;
  if (p.repeat && (policy === 'once' || policy === 'while_open')) return repeatFound(state, p, service);
  const id = bundle ? bundle.id : service;
  const task: ServiceTask = { kind: 'service', service: id, values: { ...values }, prefill: p, awaiting: null, idempotencyKey: null, misses: 0, ...(bundle ? { bundle: true } : {}) };
  return { task, focus: { service: id, offered: false }, plan: next(state, { then: state.plan.slice(1).some((a) => a.type === 'prompt') ? [] : [{ type: 'prompt' }] }) };
}

/** The application would repeat one the citizen already has: say which, with its progress. */
function repeatFound(state: State, p: Prefill, service: string): Update {
  const r = p.repeat!;
  let part = say('repeat_exists', { service: r.serviceName, applicationId: r.id, status: r.statusLabel, statusMessage: r.statusMessage });
  if (p.serviceId === service && state.draft.parts.length === 0 && r.status === 'issued') part += say('repeat_other_hint');
  return {
    task: null,
    focus: { service, offered: false },
    plan: afterTaskEnds(state),
    draft: said(state, { part, outcome: 'answered', application: { id: r.id, status: r.status }, service }),
  };
}

/** Merges answers and changes; the service API checks each (an invalid one is refused, the others kept). */
export async function fill(state: State, runtime: NodeRuntime): Promise<Update> {
  const { values } = step(state, 'fill');
  const ctx = contextOf(runtime);
  const task = serviceTask(state);
  if (!task || !ctx.tools) return { plan: next(state) };
  const resolved: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(values)) {
    const m = v === null ? null : ACCOUNT_REF.exec(v);
    resolved[k] = m ? (ctx.accounts[Number(m[1]) - 1] ?? null) : v;
  }
  const merged = (extra: Record<string, string | null>) => {
    const out = { ...task.values };
    for (const [k, v] of Object.entries(extra)) {
      if (v === null) delete out[k];
      else out[k] = v;
    }
    return out;
  };
  let accepted = resolved;
  let prefill: Prefill | null = null;
  const problems: string[] = [];
  try {
    prefill = await formPrefill(ctx, task, merged(accepted));
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    // Try each change alone: keep the ones the service API accepts, say why the others were not.
    accepted = {};
    for (const [k, v] of Object.entries(resolved)) {
      try {
        prefill = await formPrefill(ctx, task, merged({ ...accepted, [k]: v }));
        accepted[k] = v;
      } catch (e) {
        if (!(e instanceof ToolError)) throw e;
        problems.push(e.message);
      }
    }
    prefill ??= task.prefill;
  }
  const newValues = merged(accepted);
  // Drop values of fields that no longer apply (出国 -> 就业 drops the destination).
  for (const f of prefill?.fields ?? []) if (!f.applies && newValues[f.key] !== undefined) delete newValues[f.key];
  const changedKeys = Object.keys(accepted).filter((k) => task.values[k] !== newValues[k]);
  const atCard = task.awaiting === 'confirm';
  let part: string | null = null;
  if (atCard && changedKeys.length) {
    const items = changedKeys
      .map((k) => prefill?.fields.find((f) => f.key === k))
      .filter((f) => f && f.applies && !f.optional)
      .map((f) => say('changed_item', { label: f!.label, value: f!.display ?? '' }));
    if (items.length) part = say('changed', { changes: items.join('，') });
  }
  if (problems.length) part = [part, ...problems.map((m) => say('edit_failed', { message: m }))].filter(Boolean).join('\n');
  const changed = changedKeys.length > 0;
  return {
    task: {
      ...task,
      values: newValues,
      prefill: prefill ?? task.prefill,
      misses: changed ? 0 : task.misses,
      // A changed card is a new card: a new key, so the submission is the one confirmed.
      idempotencyKey: changed ? null : task.idempotencyKey,
    },
    plan: next(state),
    draft: said(state, { part }),
  };
}

/** The next question, or the confirmation card. */
export function prompt(state: State, runtime: NodeRuntime): Update {
  const { brief } = step(state, 'prompt');
  const ctx = contextOf(runtime);
  const task = serviceTask(state);
  if (!task?.prefill) return { plan: next(state) };
  const p = task.prefill;
  const name = p.serviceName;
  const intro = task.awaiting !== null || task.offer ? '' : task.bundle ? bundleIntro(p) : say('prefilled_intro', { service: name, summary: profileSummary(p) });
  // Spoken: that the form is pre-filled, not what it was filled with (that is on the screen).
  const introSpoken = task.awaiting !== null || task.offer || task.bundle ? intro : say('prefilled_intro_spoken', { service: name });
  const key = p.missing[0];
  if (key) {
    const field = p.fields.find((f) => f.key === key);
    const label = field?.label ?? key;
    const options = field?.options ?? [];
    const suggested = !options.length && (field?.suggestions?.length ?? 0) > 0;
    const question = options.length
      ? say(brief ? 'ask_brief_options' : 'ask_field_options', { service: name, label, options: options.join('、') })
      : suggested ? say(brief ? 'ask_brief_suggestions' : 'ask_field_suggestions', { service: name, label })
      : say(brief ? 'ask_brief' : 'ask_field', { service: name, label });
    const spokenQuestion = options.length ? say('ask_options_spoken', { label }) : question;
    const card = fieldCard(task.service, key, label, field, state.history.length);
    return {
      task: { ...task, awaiting: key },
      choices: card ? choicesMemo(card) : null,
      plan: next(state),
      draft: said(state, { part: intro + question, speech: introSpoken + spokenQuestion, card, service: task.service }),
    };
  }
  // Everything is there: the same certificate for the same purpose today is reported, not made again.
  if (p.repeat && ctx.catalogue.get(task.service)?.repeat?.policy === 'same_day') return repeatFound(state, p, task.service);
  const idempotencyKey = task.idempotencyKey ?? randomUUID();
  const shown = { ...task, awaiting: 'confirm' as const, idempotencyKey };
  const text = brief && task.awaiting === 'confirm' ? say('confirm_brief')
    : task.offer ? say('offer_confirm_prompt', { fields: task.offer.confirm.join('、') || '信息' })
    : intro + say('confirm_prompt', { amend_hint: amendHint(task) });
  const speech = brief && task.awaiting === 'confirm' ? text
    : task.offer ? say('offer_confirm_prompt_spoken')
    : introSpoken + say('confirm_prompt_spoken');
  return { task: shown, choices: null, plan: next(state), draft: said(state, { part: text, speech, card: confirmationCard(shown, state), service: task.service }) };
}

/**
 * The card of choices for a field: its options; or, for a free-text field, its suggestions
 * (catalogue data) and a last button that puts the keyboard in focus to type another.
 */
function fieldCard(service: string, key: string, label: string, field: PrefilledField | undefined, n: number): ChoicesCard | null {
  const options = field?.options ?? [];
  const suggestions = options.length ? [] : field?.suggestions ?? [];
  const list = options.length ? options : suggestions;
  if (!list.length) return null;
  return {
    type: 'choices', token: cardToken(service, key, list, n), field: key, label,
    options: [
      ...list.map((o) => ({ value: o, label: o })),
      ...(suggestions.length ? [{ value: '', label: say('choice_type_in'), input: true }] : []),
    ],
  };
}

/** What "第二个" / "最后一个" pick from: the card's answers (not its type-another button). */
function choicesMemo(card: ChoicesCard): { field: string; options: ChoicesCard['options'] } {
  return { field: card.field, options: card.options.filter((o) => !o.input) };
}

export function confirmationCard(task: ServiceTask, state: Pick<State, 'history'>): Card {
  const view = formView(task.prefill);
  return {
    type: 'confirm',
    token: cardToken(task.service, task.values, task.idempotencyKey, state.history.length),
    action: 'submit',
    service: task.service,
    serviceName: view.serviceName ?? task.service,
    ...(task.prefill?.department ? { department: task.prefill.department } : {}),
    fields: view.fields,
    ...bundleGroups(task.prefill),
    ...(task.offer ? { offer: { id: task.offer.id, title: task.offer.title, why: task.offer.why, amount: task.offer.amount, explain: task.offer.explain } } : {}),
    actions: [
      { label: task.offer ? '确认领取' : '立即办理', text: '确认' },
      { label: '修改', text: '我要修改' },
      { label: '取消', text: '取消' },
    ],
  };
}

/** How to correct this form, with an example from its first choice field ("用途改成就业"). */
function amendHint(task: ServiceTask): string {
  const field = task.prefill?.fields.find((f) => f.source === 'ask' && f.applies && f.options?.length);
  const option = field?.options?.find((o) => o !== task.values[field.key]);
  return field && option ? say('amend_hint_example', { label: field.label, option }) : say('amend_hint_plain');
}

/** The card again, and why nothing was submitted. */
export function hold(state: State): Update {
  const { why } = step(state, 'hold');
  const task = state.task;
  if (!task) return { plan: next(state) };
  if (task.kind === 'withdraw') {
    return { plan: next(state), draft: said(state, { part: withdrawPrompt(task), card: withdrawCard(task, state) }) };
  }
  const part = why === 'delay' ? say('hold_delay')
    : why === 'joke' ? say('hold_joke')
    : why === 'deny' ? say('hold_deny', { amend_hint: amendHint(task) })
    : why === 'question' ? say('confirm_brief')
    : say('hold_other');
  return { plan: next(state), draft: said(state, { part, card: confirmationCard(task, state), service: task.service }) };
}

/** The awaited answer was no answer: ask again with the options spelled out; after two misses, offer a person. */
export function reask(state: State): Update {
  const task = serviceTask(state);
  if (!task?.awaiting || task.awaiting === 'confirm') return { plan: next(state) };
  const field = task.prefill?.fields.find((f) => f.key === task.awaiting);
  const label = field?.label ?? task.awaiting;
  const options = field?.options ?? [];
  const answer = state.input.trim();
  let part = options.length
    ? answer && [...answer].length <= 16 ? say('ask_again', { answer, label, options: options.join('、') }) : say('ask_again_plain', { label, options: options.join('、') })
    : field?.suggestions?.length ? say('ask_again_suggestions', { label })
    : say('ask_again_free', { label });
  const misses = task.misses + 1;
  if (misses >= 2) part += say('ask_again_handoff');
  const card = fieldCard(task.service, task.awaiting, label, field, state.history.length);
  return {
    task: { ...task, misses },
    choices: card ? choicesMemo(card) : state.choices,
    plan: next(state),
    draft: said(state, { part, card, service: task.service }),
  };
}

/** A value from government records cannot be changed here: the reason and where to correct it. */
export function refuseEdit(state: State, runtime: NodeRuntime): Update {
  const { field } = step(state, 'refuseEdit');
  const ctx = contextOf(runtime);
  const service = ctx.catalogue.get(serviceTask(state)?.service);
  const f = service?.fields?.find((x) => x.key === field);
  return { plan: next(state), draft: said(state, { part: f ? say('refuse_edit', { message: notEditableMessage(f) }) : null }) };
}

export function cancel(state: State): Update {
  const { quiet } = step(state, 'cancel');
  const part = quiet ? null : state.task?.kind === 'withdraw' ? say('withdraw_kept') : state.task ? say('cancelled') : say('nothing_to_cancel');
  return { task: null, choices: null, plan: quiet ? next(state) : afterTaskEnds(state), draft: said(state, { part, service: quiet ? null : state.draft.service }) };
}

/** Submits the card as confirmed, with the key fixed when it was shown: a replayed turn yields the one application. */
export async function submit(state: State, runtime: NodeRuntime): Promise<Update> {
  const ctx = contextOf(runtime);
  const task = serviceTask(state);
  const p = task?.prefill;
  if (!task || task.awaiting !== 'confirm' || !p || p.missing.length > 0 || !task.idempotencyKey || !ctx.tools) {
    return { plan: next(state, { then: [{ type: 'hold', why: 'other' }] }) };
  }
  if (task.bundle) return submitBundle(state, runtime, task);
  try {
    const result = await ctx.tools.submit({ serviceId: p.serviceId, values: task.values, idempotencyKey: task.idempotencyKey, sessionId: ctx.sessionId });
    const app = result.application;
    const application = { id: app.id, status: app.status };
    const submitted = { service: app.serviceId, applicationId: app.id, status: app.status, values: task.values };
    if (result.handoff) {
      return {
        task: null, focus: null, choices: null, submitted,
        plan: afterTaskEnds(state),
        draft: said(state, {
          part: say('review_handoff', { service: p.serviceName, applicationId: app.id }),
          outcome: 'handoff',
          application,
          handoff: { id: result.handoff.id, reason: 'review' },
          card: { type: 'handoff', handoffId: result.handoff.id, applicationId: app.id, status: result.handoff.status, message: app.statusMessage },
          service: task.service,
        }),
      };
    }
    return {
      task: null, focus: null, choices: null, submitted,
      plan: afterTaskEnds(state),
      draft: said(state, {
        part: say('submitted', { service: p.serviceName, applicationId: app.id, statusMessage: app.statusMessage }),
        outcome: 'submitted',
        application,
        card: {
          type: 'receipt', applicationId: app.id, service: app.serviceId, serviceName: app.serviceName, department: app.department,
          status: app.status, statusLabel: app.statusLabel, statusMessage: app.statusMessage, licence: result.licence, submittedAt: app.createdAt,
        },
        service: task.service,
      }),
    };
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    return { task: null, plan: afterTaskEnds(state), draft: said(state, { part: say('tool_error', { message: err.message }), outcome: 'declined', service: task.service }) };
  }
}

/** One confirmation, every part filed (one application each) under the card's key; parts to review go to staff. */
async function submitBundle(state: State, runtime: NodeRuntime, task: ServiceTask): Promise<Update> {
  const ctx = contextOf(runtime);
  try {
    const r = await ctx.tools!.submitBundle({ bundleId: task.service, values: task.values, idempotencyKey: task.idempotencyKey!, sessionId: ctx.sessionId });
    const b = r.bundle;
    const items = [
      ...b.applications.map((a) => say('bundle_submitted_item', { service: a.serviceName, department: a.department, status: a.statusLabel, applicationId: a.id })),
      ...b.failed.map((f) => say('bundle_failed_item', { service: f.serviceName, reason: f.reason })),
    ];
    let part = `${say('bundle_submitted', { bundle: b.name, bundleId: b.id })}\n${items.join('\n')}`;
    const reviewed = b.applications.filter((a) => r.handoffs.some((h) => h.applicationId === a.id));
    if (reviewed.length) part += `\n${say('bundle_review_note', { services: reviewed.map((a) => `「${a.serviceName}」`).join('、') })}`;
    const firstApp = b.applications[0];
    const firstHandoff = r.handoffs[0];
    return {
      task: null, focus: null, choices: null,
      submitted: { service: task.service, applicationId: b.id, status: 'submitted', values: task.values },
      plan: afterTaskEnds(state),
      draft: said(state, {
        part,
        outcome: b.applications.length ? 'submitted' : 'declined',
        application: firstApp ? { id: firstApp.id, status: firstApp.status } : null,
        ...(firstHandoff ? { handoff: { id: firstHandoff.id, reason: 'review' } } : {}),
        card: firstApp ? {
          type: 'receipt', applicationId: firstApp.id, service: task.service, serviceName: b.name, department: task.prefill?.department ?? firstApp.department,
          status: firstApp.status, statusLabel: firstApp.statusLabel, statusMessage: firstApp.statusMessage, licence: null, submittedAt: b.createdAt,
          bundle: { id: b.id, name: b.name, parts: b.applications.map((a) => ({ applicationId: a.id, serviceName: a.serviceName, department: a.department, status: a.status, statusLabel: a.statusLabel })) },
        } : null,
        service: task.service,
      }),
    };
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    return { task: null, plan: afterTaskEnds(state), draft: said(state, { part: say('tool_error', { message: err.message }), outcome: 'declined', service: task.service }) };
  }
}

/** The pre-filled form of a task: a service's, or a 一件事 bundle's. */
function formPrefill(ctx: ReturnType<typeof contextOf>, task: ServiceTask, values: Record<string, string>): Promise<Prefill> {
  return task.bundle ? ctx.tools!.prefillBundle(task.service, values) : ctx.tools!.prefill(task.service, values);
}

/** "为您办理「出生“一件事”」：一次确认，分别提交「…」（市公安局）、…", and the parts left out with why. */
function bundleIntro(p: Prefill): string {
  const b = isBundle(p) ? p : null;
  if (!b) return say('prefilled_intro', { service: p.serviceName, summary: profileSummary(p) });
  const parts = b.members.filter((m) => m.applies || m.missing.length).map((m) => say('bundle_part', { service: m.serviceName, department: m.department })).join('、');
  const skipped = b.members.filter((m) => !m.applies && m.reason).map((m) => m.reason!);
  return say('bundle_intro', { bundle: b.serviceName, parts, summary: profileSummary(p) }) + (skipped.length ? say('bundle_skipped', { items: skipped.join('；') }) : '');
}

function isBundle(p: Prefill | null | undefined): p is BundlePrefill {
  return !!p && Array.isArray((p as Partial<BundlePrefill>).members);
}

/** A bundle's card: its parts grouped by department, each with the fields that are its own. */
function bundleGroups(p: Prefill | null): Pick<Extract<Card, { type: 'confirm' }>, 'groups' | 'skipped'> {
  if (!isBundle(p)) return {};
  const taking = p.members.filter((m) => m.applies);
  const common = new Set(p.fields.map((f) => f.key).filter((k) => taking.every((m) => m.fields.some((f) => f.key === k && f.applies))));
  const groups = new Map<string, { department: string; services: string[]; fields: { key: string; label: string; source: string; value: string | null }[] }>();
  for (const m of taking) {
    const g = groups.get(m.department) ?? { department: m.department, services: [], fields: [] };
    g.services.push(m.serviceName);
    for (const f of m.fields) {
      if (!f.applies || common.has(f.key) || (f.display === null && f.optional) || g.fields.some((x) => x.key === f.key)) continue;
      g.fields.push({ key: f.key, label: f.label, source: f.source, value: f.display });
    }
    groups.set(m.department, g);
  }
  const skipped = p.members.filter((m) => !m.applies && m.reason).map((m) => ({ serviceName: m.serviceName, reason: m.reason! }));
  return { groups: [...groups.values()], ...(skipped.length ? { skipped } : {}) };
}

/** When a task ends, what was kept for later is taken up. */
export function afterTaskEnds(state: State): State['plan'] {
  const rest = next(state, { drop: ['prompt', 'hold'] });
  return state.agenda.length && !rest.some((a) => a.type === 'resume') ? [...rest, { type: 'resume' }] : rest;
}

// ---- withdrawal ------------------------------------------------------------------------

export async function withdrawStart(state: State, runtime: NodeRuntime): Promise<Update> {
  const { service } = step(state, 'withdrawStart');
  const ctx = contextOf(runtime);
  if (!ctx.tools) return { plan: next(state), draft: said(state, { part: say('need_login', { service: ctx.catalogue.name(service) ?? '撤回申请' }) }) };
  const apps = (await ctx.tools.listApplications()).filter((a) => !service || a.serviceId === service);
  const target = apps.find((a) => a.id === state.submitted?.applicationId) ?? apps.find((a) => a.withdrawable) ?? apps[0];
  if (!target) return { plan: next(state), draft: said(state, { part: say('withdraw_none'), outcome: 'answered' }) };
  if (!target.withdrawable) {
    return {
      plan: next(state),
      draft: said(state, {
        part: say('withdraw_not_possible', { service: target.serviceName, applicationId: target.id, status: target.statusLabel }),
        outcome: 'answered', application: { id: target.id, status: target.status }, service: target.serviceId,
      }),
    };
  }
  const task: WithdrawTask = { kind: 'withdraw', service: target.serviceId, serviceName: target.serviceName, applicationId: target.id, awaiting: 'confirm' };
  return { task, plan: next(state), draft: said(state, { part: withdrawPrompt(task), card: withdrawCard(task, state), service: target.serviceId }) };
}

function withdrawPrompt(task: WithdrawTask): string {
  return say('withdraw_confirm', { service: task.serviceName, applicationId: task.applicationId });
}

function withdrawCard(task: WithdrawTask, state: Pick<State, 'history'>): Card {
  return {
    type: 'confirm',
    token: cardToken('withdraw', task.applicationId, state.history.length),
    action: 'withdraw',
    service: task.service,
    serviceName: task.serviceName,
    applicationId: task.applicationId,
    fields: [{ key: 'applicationId', label: '申请编号', source: 'derived', value: task.applicationId }],
    actions: [
      { label: '确认撤回', text: '确认' },
      { label: '保留申请', text: '取消' },
    ],
  };
}

export async function withdraw(state: State, runtime: NodeRuntime): Promise<Update> {
  const ctx = contextOf(runtime);
  const task = state.task;
  if (task?.kind !== 'withdraw' || !ctx.tools) return { plan: next(state) };
  try {
    const a = await ctx.tools.withdraw({ applicationId: task.applicationId });
    return {
      task: null,
      submitted: state.submitted?.applicationId === a.id ? { ...state.submitted, status: a.status } : state.submitted,
      plan: next(state),
      draft: said(state, { part: say('withdraw_done', { service: a.serviceName, applicationId: a.id }), outcome: 'answered', application: { id: a.id, status: a.status }, service: a.serviceId }),
    };
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    return { task: null, plan: next(state), draft: said(state, { part: say('tool_error', { message: err.message }), outcome: 'declined' }) };
  }
}

/** A change asked for after the application went in: it was submitted, and what is possible now. */
export async function afterSubmit(state: State, runtime: NodeRuntime): Promise<Update> {
  const ctx = contextOf(runtime);
  const s = state.submitted;
  if (!s || !ctx.tools) return { plan: next(state) };
  const app = (await ctx.tools.listApplications()).find((a) => a.id === s.applicationId);
  const options = [
    ...(app?.withdrawable ? [say('after_submit_withdraw')] : []),
    say('after_submit_again'),
    say('after_submit_staff'),
  ].join('；');
  return {
    plan: next(state),
    draft: said(state, {
      part: say('after_submit', {
        service: app?.serviceName ?? ctx.catalogue.name(s.service) ?? s.service, applicationId: s.applicationId,
        status: app?.statusLabel ?? s.status, options,
      }),
      outcome: 'answered', application: { id: s.applicationId, status: app?.status ?? s.status }, service: s.service,
    }),
  };
}
