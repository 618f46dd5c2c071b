import { Annotation } from '@langchain/langgraph';
import type { Prefill } from '../tools/contract.js';
import type { NluResult } from './nlu/types.js';
import type { Turn } from './turn.js';

/** One line of the conversation, as staff see it in a handoff (identifiers already masked). */
export interface TranscriptLine {
  role: 'citizen' | 'agent' | 'staff';
  text: string;
  at: string;
}

/** A citizen message and what the agent answered, as returned by GET /api/sessions/:id. */
export interface TurnRecord {
  n: number;
  text: string;
  at: string;
  turn: Turn;
}

/** Where the current task stands. */
export type Stage = 'idle' | 'clarifying' | 'filling' | 'confirming';

const last = <T>(fallback: () => T) => Annotation<T>({ reducer: (_prev: T, next: T) => next, default: fallback });

/**
 * The dialogue state, checkpointed after every turn. Identity is deliberately NOT here: it is
 * bound to the session by the channel and passed in the run context on every turn, so no
 * text and no model output can change whom the agent acts for.
 */
export const AgentState = Annotation.Root({
  /** This turn's citizen message, identifiers masked. */
  input: last<string>(() => ''),
  nlu: last<NluResult | null>(() => null),
  /** The service the current task is about (or the last one talked about). */
  service: last<string | null>(() => null),
  stage: last<Stage>(() => 'idle'),
  /** Values the citizen has given for `ask` fields and edits of editable profile fields. */
  values: last<Record<string, string>>(() => ({})),
  prefill: last<Prefill | null>(() => null),
  /** Field key, 'confirm' or 'service' (clarification) the agent waits for. */
  awaiting: last<string | null>(() => null),
  candidates: last<string[]>(() => []),
  /** Generated when the confirmation card is shown; the submission reuses it, so a replayed turn submits once. */
  idempotencyKey: last<string | null>(() => null),
  /** Set only by the confirmation step; submission refuses without it. */
  confirmed: last<boolean>(() => false),
  /** Consecutive turns in which the awaited answer was not understood. */
  misses: last<number>(() => 0),
  /** What this turn returns. */
  out: last<Turn | null>(() => null),
  transcript: Annotation<TranscriptLine[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  turns: Annotation<TurnRecord[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export type State = typeof AgentState.State;
export type Update = typeof AgentState.Update;
