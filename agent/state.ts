import { Annotation } from '@langchain/langgraph';
import type { Prefill } from '../tools/contract.js';
import type { Action, AgendaItem } from './dialogue/actions.js';

export type { AgendaItem } from './dialogue/actions.js';
import type { Act, NluResult } from './nlu/types.js';
import type { Card, Citation, Outcome, Turn } from './turn.js';

/** A citizen message and what the agent answered, as returned by GET /api/sessions/:id. */
export interface TurnRecord {
  n: number;
  /** The agent spoke first (the session's opening): no citizen message. */
  opening?: boolean;
  text: string;
  at: string;
  turn: Turn;
}

/** An application being put together: pre-filled, asked, shown on one card, submitted. */
export interface ServiceTask {
  kind: 'service';
  service: string;
  /** What the citizen gave: asked fields, notes in their own words, replacements of editable values. */
  values: Record<string, string>;
  prefill: Prefill | null;
  /** The field asked for, 'confirm' while the card is shown, null right after the task starts. */
  awaiting: string | null;
  /** Fixed when the card is shown; the submission reuses it, so a replayed turn submits once. */
  idempotencyKey: string | null;
  /** Consecutive answers to the awaited field that were no answer. */
  misses: number;
  /** A 一件事 bundle, filled as one form (`service` is the bundle's id; `prefill` a BundlePrefill). */
  bundle?: boolean;
  /** 免申即享: the offer this application takes up ("以后再说" / "不需要" answer it). */
  offer?: { id: string; title: string; why: string[]; amount: string | null; explain: string | null; confirm: string[] };
}

/** Taking back an application: one card, one yes. */
export interface WithdrawTask {
  kind: 'withdraw';
  service: string;
  serviceName: string;
  applicationId: string;
  awaiting: 'confirm';
}

export type Task = ServiceTask | WithdrawTask;

/** The service just talked about: what "帮我申请" / "那就办吧" refers to. */
export interface Focus {
  service: string;
  /** The agent offered to do it ("需要我现在帮您在线办理吗？"). */
  offered: boolean;
  /** The citizen was told they cannot apply for it online (eligibility): it is not offered again. */
  declined?: boolean;
}

/** The options of the last card of choices, for "第二个" and for refusing a stale pick. */
export interface ChoicesMemo {
  field: string;
  options: { value: string; label: string }[];
}

/** The last application submitted in this conversation. */
export interface Submission {
  service: string;
  applicationId: string;
  status: string;
  values: Record<string, string>;
}

/** The handoff staff have while a conversation is in it (State.liveHandoff). */
export interface LiveHandoff {
  id: string;
  reason: string;
  /** The citizen has been told once that their messages go to staff. */
  acknowledged: boolean;
}

/** What this turn will answer, built up by the action nodes; `finish` turns it into the Turn. */
export interface Draft {
  /** The intent label the Turn reports (the policy's reading of the message). */
  act: Act;
  parts: string[];
  /**
   * What is spoken, part by part (kiosk TTS): a part's short form when it has one (no lists,
   * no pre-filled values), otherwise the part itself. Optional for drafts of older checkpoints.
   */
  speech?: string[];
  card: Card | null;
  outcome: Outcome | null;
  application: { id: string; status: string } | null;
  handoff: { id: string; reason: string } | null;
  citations: Citation[];
  /** The service this turn was about, when no task says so. */
  service: string | null;
  /** Guide text the reply was composed from (for checking a model's rewording of it). */
  support: string[];
  /** The message went to staff (a live handoff): the agent says nothing in their place. */
  relayed?: boolean;
}

export const emptyDraft = (): Draft => ({
  act: 'apply', parts: [], speech: [], card: null, outcome: null, application: null, handoff: null, citations: [], service: null, support: [],
});

const last = <T>(fallback: () => T) => Annotation<T>({ reducer: (_prev: T, next: T) => next, default: fallback });

/**
 * The dialogue state, checkpointed after every turn. Identity is deliberately NOT here: it is
 * bound to the session by the channel and passed in the run context on every turn, so no
 * text and no model output can change whom the agent acts for.
 */
export const AgentState = Annotation.Root({
  /** This turn's citizen message, identifiers masked (what staff and the history see). */
  input: last<string>(() => ''),
  /** What understanding reads: the masked message with account numbers as ACCOUNTREFn. */
  nluInput: last<string>(() => ''),
  /** The session's opening turn: the agent speaks first (greeting, offers), no message to read. */
  opening: last<boolean>(() => false),
  /** This turn's card action: the token of the card the citizen pressed a button on. */
  cardToken: last<string | null>(() => null),
  understanding: last<NluResult | null>(() => null),
  task: last<Task | null>(() => null),
  agenda: last<AgendaItem[]>(() => []),
  focus: last<Focus | null>(() => null),
  choices: last<ChoicesMemo | null>(() => null),
  /** Services offered to pick from (a clarifying question or a situation). */
  candidates: last<string[]>(() => []),
  submitted: last<Submission | null>(() => null),
  /** The token of the card now shown (confirm or choices); a button on any other card is stale. */
  liveCard: last<string | null>(() => null),
  /**
   * The handoff this conversation is in, while staff have it: what the citizen says goes to
   * them (acknowledged once), until it is closed.
   */
  liveHandoff: last<LiveHandoff | null>(() => null),
  /** This turn's remaining actions, decided by the policy; routing follows it. */
  plan: last<Action[]>(() => []),
  draft: last<Draft>(emptyDraft),
  /** The turn as answered (the graph's result). */
  turn: last<Turn | null>(() => null),
  history: Annotation<TurnRecord[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export type State = typeof AgentState.State;
export type Update = typeof AgentState.Update;
