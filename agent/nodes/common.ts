import type { Runtime } from '@langchain/langgraph';
import type { Prefill } from '../../tools/contract.js';
import type { AgentContext } from '../context.js';
import type { Action } from '../dialogue/actions.js';
import { say } from '../responses.js';
import type { Draft, ServiceTask, State, Update } from '../state.js';
import type { Card, Citation, Outcome } from '../turn.js';

/** What every node receives besides the state: the turn's run context (typed by the graph's context schema). */
export type NodeRuntime = Runtime<AgentContext>;

export function contextOf(runtime: NodeRuntime): AgentContext {
  const ctx = runtime.context;
  if (!ctx?.nlu) throw new Error('Agent run context missing');
  return ctx;
}

const RANK: Record<Outcome, number> = { answered: 1, declined: 2, handoff: 3, submitted: 4 };

/** The greeting as shown and as spoken (the kiosk speaks the short form). */
export function greetingPart(): { part: string; speech: string } {
  return { part: say('greeting'), speech: say('greeting_spoken') };
}

/** The turn's draft with more said (parts append; the strongest outcome stays; a card replaces). */
export function said(state: State, more: {
  part?: string | null;
  /** The part as spoken (its point or question only); the part itself when absent. */
  speech?: string | null;
  card?: Card | null;
  outcome?: Outcome;
  application?: Draft['application'];
  handoff?: Draft['handoff'];
  citations?: Citation[];
  service?: string | null;
  support?: string;
}): Draft {
  const d = state.draft;
  const outcome = more.outcome && (!d.outcome || RANK[more.outcome] > RANK[d.outcome]) ? more.outcome : d.outcome;
  return {
    act: d.act,
    parts: more.part ? [...d.parts, more.part] : d.parts,
    speech: more.part ? [...(d.speech ?? d.parts), more.speech ?? more.part] : d.speech ?? d.parts,
    card: more.card !== undefined ? more.card : d.card,
    outcome,
    application: more.application ?? d.application,
    handoff: more.handoff ?? d.handoff,
    citations: more.citations ? [...d.citations, ...more.citations] : d.citations,
    service: more.service !== undefined ? more.service : d.service,
    support: more.support ? [...d.support, more.support] : d.support,
  };
}

/** The rest of the plan after this node's step (optionally with steps put in front, or some dropped). */
export function next(state: State, opts: { then?: Action[]; drop?: Action['type'][] } = {}): Action[] {
  const rest = state.plan.slice(1).filter((a) => !(opts.drop ?? []).includes(a.type));
  return [...(opts.then ?? []), ...rest];
}

/** This node's step, checked to be of the type the node handles. */
export function step<T extends Action['type']>(state: State, type: T): Extract<Action, { type: T }> {
  const a = state.plan[0];
  if (!a || a.type !== type) throw new Error(`plan head is ${a?.type ?? 'empty'}, expected ${type}`);
  return a as Extract<Action, { type: T }>;
}

export function serviceTask(state: State): ServiceTask | null {
  return state.task?.kind === 'service' ? state.task : null;
}

/** The pre-filled form as staff and the confirmation card show it (identifiers masked). */
export function formView(prefill: Prefill | null): { serviceId?: string; serviceName?: string; fields: { key: string; label: string; source: string; value: string | null }[]; missing: string[] } {
  if (!prefill) return { fields: [], missing: [] };
  const fields = prefill.fields
    .filter((f) => f.applies && (f.display !== null || !f.optional))
    .map((f) => ({ key: f.key, label: f.label, source: f.source, value: f.display }));
  return { serviceId: prefill.serviceId, serviceName: prefill.serviceName, fields, missing: prefill.missing };
}

export function profileSummary(prefill: Prefill): string {
  return prefill.fields
    .filter((f) => f.source === 'profile' && f.applies && f.display)
    .map((f) => `${f.label} ${f.display}`)
    .join('，');
}

/** A short token of what a card shows: a button pressed on a card that no longer matches is refused. */
export function cardToken(...parts: unknown[]): string {
  let h = 2166136261;
  for (const ch of JSON.stringify(parts)) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0).toString(36);
}

export type { Update };
