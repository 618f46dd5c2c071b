import { getService } from '../../core/catalogue.js';
import type { State } from '../state.js';
import { asksToSubmit, isPlainConfirmation } from '../responses.js';
import { mentionsIdNumber } from './understand.js';

export type AfterUnderstand =
  | 'guard' | 'handoff' | 'cancel' | 'submit' | 'amend' | 'remind' | 'collect' | 'reask'
  | 'clarify' | 'answer' | 'progress' | 'smalltalk';

/**
 * The dialogue policy's first decision: what this message means given where the task stands.
 * Pure: reads the state, returns the next node.
 */
export function routeAfterUnderstand(state: State): AfterUnderstand {
  const n = state.nlu;
  if (!n) return 'smalltalk';
  if (mentionsIdNumber(state.input)) return 'guard';
  if (n.act === 'handoff') return 'handoff';
  if (n.act === 'cancel') return 'cancel';
  const hasSlots = Object.keys(n.slots).length > 0;
  const switchesService = n.act === 'apply' && !!n.service && n.service !== state.service && !n.needsClarification;

  if (state.stage === 'confirming') {
    if (switchesService) return 'collect';
    if (hasSlots) {
      // A correction ("不对，用途改成就业") is applied and shown again on the card. Repeating a
      // correction the card already shows, with "提交", goes ahead.
      const changes = Object.entries(n.slots).some(([k, v]) => state.values[k] !== v);
      if (changes) return 'collect';
      return asksToSubmit(n.normalized) ? 'submit' : 'remind';
    }
    if (n.dialogue === 'deny') return 'amend';
    if (n.dialogue === 'confirm' || isPlainConfirmation(n.normalized)) return 'submit';
    if (n.act === 'consult' && n.service) return 'answer';
    if (n.act === 'progress') return 'progress';
    return 'remind';
  }

  if (state.stage === 'filling' && state.awaiting) {
    if (hasSlots || switchesService) return 'collect';
    if (n.act === 'consult' && n.service && n.confidence >= 0.6) return 'answer';
    if (n.act === 'progress' && n.confidence >= 0.6) return 'progress';
    return 'reask';
  }

  if (state.stage === 'clarifying') {
    if (n.service && (state.candidates.includes(n.service) || !n.needsClarification)) return 'collect';
    if (n.act === 'consult' || n.act === 'progress' || n.act === 'greeting' || n.act === 'out_of_scope') {
      return n.act === 'consult' ? 'answer' : n.act === 'progress' ? 'progress' : 'smalltalk';
    }
    return 'clarify';
  }

  switch (n.act) {
    case 'apply':
      if (!n.service || n.needsClarification) return 'clarify';
      return 'collect';
    case 'consult':
      return 'answer';
    case 'progress':
      return 'progress';
    default:
      return 'smalltalk';
  }
}

export type AfterCollect = 'prefillForm' | 'needLogin' | 'offline';

export function routeAfterCollect(state: State, hasTools: boolean): AfterCollect {
  const service = state.service ? getService(state.service) : undefined;
  if (!service?.transactable) return 'offline';
  if (!hasTools) return 'needLogin';
  return 'prefillForm';
}

export type AfterPrefill = 'decline' | 'ask' | 'confirmCard';

export function routeAfterPrefill(state: State): AfterPrefill {
  const p = state.prefill;
  if (!p || !p.eligibility.eligible) return 'decline';
  if (p.missing.length > 0) return 'ask';
  return 'confirmCard';
}
