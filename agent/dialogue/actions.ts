import type { SectionName } from '../../knowledge/guides.js';
import type { Act } from '../nlu/types.js';

/** Something the citizen asked for alongside the task, taken up when it is done. */
export interface AgendaItem {
  kind: 'request' | 'ask';
  service: string | null;
  topics: SectionName[];
  text: string;
}

/**
 * What the agent does in a turn, step by step: the dialogue policy decides the steps
 * (agent/dialogue/policy.ts), one graph node carries out each (agent/nodes/), and the graph
 * routes by the step at the head of the plan. A step may put further steps in front of the
 * rest (a started task goes on to its first question) or drop some (a declined one does not).
 */
export type Action =
  /** Someone else's ID number in the message: the agent acts for the signed-in citizen only. */
  | { type: 'guard' }
  | { type: 'cancel'; quiet?: boolean }
  | { type: 'handoff' }
  /** Answer one question from the guides (or say honestly that nothing reliable was found). */
  /** `kept`: a question kept from an earlier message (the agenda), not this one. */
  | { type: 'answer'; question: string; service: string | null; topics: SectionName[]; kept?: boolean }
  /** A question about a value of the form in hand ("卡寄到哪个地址？"): answered from the form itself. */
  | { type: 'answerField'; field: string }
  /** Begin an application (repeat and eligibility checked through the service API). */
  | { type: 'start'; service: string; values: Record<string, string> }
  /** Merge answers and changes into the task (null removes a value); the service API checks them. */
  | { type: 'fill'; values: Record<string, string | null> }
  /** Ask the next missing field, or show the confirmation card; `brief` after an interruption. */
  | { type: 'prompt'; brief?: boolean }
  | { type: 'submit' }
  /** Keep the card as it is and say why nothing was submitted. */
  | { type: 'hold'; why: 'delay' | 'joke' | 'deny' | 'question' | 'other' }
  /** The awaited answer was not understood. */
  | { type: 'reask' }
  | { type: 'refuseEdit'; field: string }
  | { type: 'clarify'; candidates: string[] }
  /** A service this agent cannot transact: where and how to do it. */
  | { type: 'offline'; service: string }
  | { type: 'progress'; service: string | null }
  | { type: 'withdrawStart'; service: string | null }
  /** A live handoff: the message goes to the staff member, the agent stays silent. */
  | { type: 'relay' }
  | { type: 'withdraw' }
  /** A change asked after the application went in: what is still possible. */
  | { type: 'afterSubmit' }
  /** An assent or thanks with nothing pending. */
  | { type: 'acknowledge' }
  | { type: 'situation'; id: string }
  | { type: 'capabilities' }
  /** 免申即享: what the citizen can have without applying; `greeting` at the start of a conversation (only those not answered yet). */
  | { type: 'offers'; greeting?: boolean }
  /** The citizen's answer to an offer: "以后再说" (later) or "不需要" (declined), remembered by the service API. */
  | { type: 'offerAnswer'; answer: 'declined' | 'later' }
  | { type: 'smalltalk'; kind: 'greeting' | 'thanks' | 'bye' | 'out_of_scope' | 'not_understood' }
  /** Keep what else was asked, to take it up when the task is done. */
  | { type: 'defer'; items: AgendaItem[] }
  /** Take up what was kept. */
  | { type: 'resume' };

export type ActionType = Action['type'];

export const ACTION_TYPES = [
  'guard', 'cancel', 'handoff', 'answer', 'answerField', 'start', 'fill', 'prompt', 'submit', 'hold', 'reask', 'refuseEdit', 'clarify',
  'offline', 'progress', 'relay', 'withdrawStart', 'withdraw', 'afterSubmit', 'acknowledge', 'situation', 'capabilities', 'offers', 'offerAnswer',
  'smalltalk', 'defer', 'resume',
] as const satisfies readonly ActionType[];

/** The decision for a turn: the steps, and the intent label the Turn reports. */
export interface Plan {
  actions: Action[];
  act: Act;
}

/** Compile-time check that every action type has a node (ACTION_TYPES is exhaustive). */
type Unlisted = Exclude<ActionType, (typeof ACTION_TYPES)[number]>;
export const everyActionListed: Unlisted extends never ? true : never = true;
