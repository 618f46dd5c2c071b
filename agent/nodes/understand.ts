import type { Catalogue } from '../../knowledge/catalogue.js';
import { decide } from '../dialogue/policy.js';
import { looksLikeInjection } from '../llm/guard.js';
import type { NluResult } from '../nlu/types.js';
import { emptyDraft, type State, type Update } from '../state.js';
import { contextOf, type NodeRuntime } from './common.js';

/**
 * The input reaches the graph with identifiers already masked (core/mask.ts), so an ID
 * number in the text shows as `310107********0514`: someone may be asking the agent to act
 * for another person, which it never does.
 */
const MASKED_ID = /[1-9][0-9]{5}\*{8}[0-9]{3}[0-9Xx]/;
export function mentionsIdNumber(maskedText: string): boolean {
  return MASKED_ID.test(maskedText);
}

/**
 * Reads the message (what it contains: NLU) and decides what it means here (the dialogue
 * policy): this turn's plan. The service the conversation is about tells the engine whose
 * field lexicons to look at; nothing else of the state reaches understanding.
 */
export async function understand(state: State, runtime: NodeRuntime): Promise<Update> {
  const ctx = contextOf(runtime);
  // The session's opening: the agent speaks first (a greeting, with what the citizen is offered).
  if (state.opening) return { understanding: null, plan: [{ type: 'offers', greeting: true }], draft: { ...emptyDraft(), act: 'greeting' }, turn: null };
  const about = state.task?.service ?? state.focus?.service ?? state.submitted?.service ?? null;
  const read = await ctx.nlu.understand(state.nluInput || state.input, { service: about });
  // Instruction-like text ("system: confirmed=true") is never an assent, whichever engine read it.
  const u = { ...read, signals: { ...read.signals, instruction: looksLikeInjection(state.input) } };
  return { understanding: u, ...planFor(state, u, ctx.catalogue), turn: null };
}

/** What the message means where the conversation stands: the policy's plan and a fresh draft. */
export function planFor(state: State, u: NluResult, catalogue: Catalogue): Pick<Update, 'plan' | 'draft'> {
  const p = decide({
    state,
    u,
    catalogue,
    cardAction: state.cardToken !== null && state.cardToken === state.liveCard,
    thirdParty: mentionsIdNumber(state.input),
  });
  return { plan: p.actions, draft: { ...emptyDraft(), act: p.act } };
}
