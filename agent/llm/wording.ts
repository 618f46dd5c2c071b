import type { AgentContext } from '../context.js';
import type { State } from '../state.js';
import type { Turn } from '../turn.js';

/**
 * How the graph reaches the phraser: it sits in the per-turn run context (absent without a
 * model: the templates are said as they are). Wording happens after the graph has decided
 * everything; it changes only `reply`.
 */
type WordingContext = Pick<AgentContext, 'phraser' | 'catalogue'>;

/**
 * The facts of a turn: what the reply states about the citizen and the task. Hidden from the
 * model and required verbatim in any rewording.
 */
export function turnFacts(state: Pick<State, 'task'>, out: Turn): string[] {
  const facts = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim()) facts.add(v.trim());
  };
  add(out.application?.id);
  add(out.handoff?.id);
  const task = state.task;
  if (task?.kind === 'service') {
    for (const f of task.prefill?.fields ?? []) {
      add(f.display);
      for (const o of f.options ?? []) add(o);
      for (const o of f.suggestions ?? []) add(o);
    }
    for (const [k, v] of Object.entries(task.values)) if (!/account|id_number|phone/.test(k)) add(v);
  } else if (task?.kind === 'withdraw') add(task.applicationId);
  const card = out.card;
  if (card?.type === 'choices') for (const o of card.options) add(o.label);
  if (card?.type === 'confirm') for (const f of card.fields) add(f.value);
  if (card?.type === 'receipt') add(card.licence?.name);
  return [...facts];
}

/** Rewords a task turn's reply (guide answers are worded where they are composed). */
export async function wordTurn(ctx: WordingContext, state: Pick<State, 'task'>, out: Turn): Promise<Turn> {
  if (!ctx.phraser || out.citations.length > 0) return out;
  const name = ctx.catalogue.name(out.service);
  const r = await ctx.phraser.phrase({ template: out.reply, facts: turnFacts(state, out), kind: 'task', ...(name ? { keep: [name] } : {}) });
  return r.reply === out.reply ? out : { ...out, reply: r.reply };
}

/**
 * Rewords an answer composed from retrieved guide text. It must stay supported by that text;
 * when the rewording is not, the citizen is told honestly the agent is not sure.
 */
export async function wordGuideAnswer(ctx: WordingContext, answer: string): Promise<string> {
  if (!ctx.phraser) return answer;
  return (await ctx.phraser.phrase({ template: answer, facts: [], kind: 'consult', support: answer })).reply;
}
