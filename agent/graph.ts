import { END, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { AgentContextSchema } from './context.js';
import { ACTION_TYPES, type ActionType } from './dialogue/actions.js';
import { answer, answerField, capabilities, offline, situation } from './nodes/answer.js';
import { offerAnswer, offers } from './nodes/offers.js';
import { acknowledge, clarify, defer, guard, handoff, progress, relay, resume, smalltalk } from './nodes/conversation.js';
import { finish } from './nodes/finish.js';
import type { NodeRuntime } from './nodes/common.js';
import { afterSubmit, cancel, fill, hold, prompt, reask, refuseEdit, start, submit, withdraw, withdrawStart } from './nodes/task.js';
import { understand } from './nodes/understand.js';
import { AgentState, type State, type Update } from './state.js';

type Node = (state: State, runtime: NodeRuntime) => Update | Promise<Update>;

/** One node per kind of step (agent/dialogue/actions.ts). */
const STEPS: Record<ActionType, Node> = {
  guard, cancel, handoff, answer, answerField, start, fill, prompt, submit, hold, reask, refuseEdit, clarify, offline, progress, relay,
  withdrawStart, withdraw, afterSubmit, acknowledge, situation, capabilities, offers, offerAnswer, smalltalk, defer, resume,
};

/** Where the turn goes next: the step at the head of the plan, or the end of the turn. */
export function route(state: State): ActionType | 'finish' {
  return state.plan[0]?.type ?? 'finish';
}

/**
 * The dialogue graph: understand (NLU + policy: the plan) -> one node per step of the plan,
 * routed by the plan's head -> finish. Small nodes, routing in conditional edges, the run
 * context typed by its schema, state checkpointed once per turn. Build it once per process;
 * every session is a thread of the same compiled graph.
 */
export function buildAgentGraph(checkpointer: BaseCheckpointSaver) {
  const targets: (ActionType | 'finish')[] = [...ACTION_TYPES, 'finish'];
  const g = new StateGraph(AgentState, AgentContextSchema)
    .addNode({ understand, finish, ...STEPS })
    .addEdge(START, 'understand')
    .addConditionalEdges('understand', route, targets)
    .addEdge('finish', END);
  for (const t of ACTION_TYPES) g.addConditionalEdges(t, route, targets);
  return g.compile({ checkpointer });
}

export type AgentGraph = ReturnType<typeof buildAgentGraph>;
