import { getService } from '../../core/catalogue.js';
import type { NodeConfig } from '../nodes/common.js';
import type { State } from '../state.js';
import type { Turn } from '../turn.js';
import type { ReplyPhraser } from './phraser.js';

/**
 * How graph nodes reach the phraser: the runtime puts it in the per-turn run context next to
 * the AgentContext (absent without a model: the templates are said as they are). Wording
 * happens after the graph has decided everything; it changes only `reply`.
 */
export interface LlmRunContext {
  phraser?: ReplyPhraser;
}

function phraserOf(config: NodeConfig): ReplyPhraser | undefined {
  return (config.context as LlmRunContext | undefined)?.phraser;
}

/**
 * The facts of a turn: what the reply states about the citizen and the task. Hidden from the
 * model and required verbatim in any rewording.
 */
export function turnFacts(state: State, out: Turn): string[] {
  const facts = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim()) facts.add(v.trim());
  };
  add(out.application?.id);
  add(out.handoff?.id);
  for (const f of state.prefill?.fields ?? []) {
    add(f.display);
    add(f.value);
    for (const o of f.options ?? []) add(o);
  }
  for (const v of Object.values(state.values)) add(v);
  const card = out.card as { options?: { label?: unknown }[]; fields?: { value?: unknown }[]; licence?: { name?: unknown } | null } | null;
  for (const o of card?.options ?? []) add(o.label);
  for (const f of card?.fields ?? []) add(f.value);
  add(card?.licence?.name);
  return [...facts];
}

/** Rewords a task turn's reply (guide answers are worded where they are composed). */
export async function wordTurn(config: NodeConfig, state: State, out: Turn): Promise<Turn> {
  const phraser = phraserOf(config);
  if (!phraser || out.citations.length > 0) return out;
  const name = out.service ? getService(out.service)?.name : undefined;
  const r = await phraser.phrase({ template: out.reply, facts: turnFacts(state, out), kind: 'task', ...(name ? { keep: [name] } : {}) });
  return r.reply === out.reply ? out : { ...out, reply: r.reply };
}

/**
 * Rewords an answer composed from retrieved guide text. It must stay supported by that text;
 * when the rewording is not, the citizen is told honestly the agent is not sure.
 */
export async function wordGuideAnswer(config: NodeConfig, answer: string): Promise<string> {
  const phraser = phraserOf(config);
  if (!phraser) return answer;
  return (await phraser.phrase({ template: answer, facts: [], kind: 'consult', support: answer })).reply;
}
