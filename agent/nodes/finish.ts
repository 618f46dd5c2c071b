import { wordTurn } from '../llm/wording.js';
import { say } from '../responses.js';
import type { State, Update } from '../state.js';
import type { Turn } from '../turn.js';
import { contextOf, type NodeRuntime } from './common.js';

/**
 * Composes the Turn from the draft (the parts in order, the strongest outcome, the last card),
 * words it (with a model, when there is one: only the reply changes, and only if the rewording
 * keeps every fact) and records the exchange once, in the history (the session view and the
 * transcript staff see are both read from it).
 */
export async function finish(state: State, runtime: NodeRuntime): Promise<Update> {
  const ctx = contextOf(runtime);
  const d = state.draft;
  const task = state.task;
  const choosing = d.card?.type === 'choices' && d.card.field === 'service';
  const awaiting = task?.awaiting ?? (choosing ? 'service' : null);
  const reply = d.parts.filter(Boolean).join('\n\n') || (d.relayed ? '' : say('not_understood'));
  const spoken = (d.speech ?? d.parts).filter(Boolean).join('');
  const draftTurn: Turn = {
    reply,
    act: d.act,
    service: task?.service ?? d.service,
    awaiting,
    card: d.card,
    outcome: d.outcome,
    application: d.application,
    handoff: d.handoff,
    citations: d.citations,
  };
  const worded = await wordTurn(ctx, state, draftTurn);
  // The short spoken form, when there is one (a model's rewording changes the reply, not it).
  const turn: Turn = spoken && spoken !== d.parts.filter(Boolean).join('') ? { ...worded, speech: spoken } : worded;
  const at = new Date().toISOString();
  const token = d.card && (d.card.type === 'confirm' || d.card.type === 'choices') ? d.card.token : null;
  // A handoff made this turn (asked for, or a review on submission): staff have the case now.
  const live = d.handoff && !state.liveHandoff ? { id: d.handoff.id, reason: d.handoff.reason, acknowledged: false } : undefined;
  return {
    turn,
    ...(live ? { liveHandoff: live } : {}),
    liveCard: token,
    candidates: choosing ? state.candidates : [],
    plan: [],
    history: [{ n: state.history.length + 1, ...(state.opening ? { opening: true } : {}), text: state.input, at, turn }],
  };
}
