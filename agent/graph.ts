import { END, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { AgentState, type State } from './state.js';
import { answer, offline } from './nodes/answer.js';
import { agentContext, type NodeConfig } from './nodes/common.js';
import { cancel, clarify, finish, guard, handoff, progress, smalltalk } from './nodes/conversation.js';
import { routeAfterCollect, routeAfterPrefill, routeAfterUnderstand } from './nodes/route.js';
import { submit } from './nodes/submit.js';
import { amend, ask, collect, confirmCard, decline, needLogin, prefill, reask, remind } from './nodes/task.js';
import { understand } from './nodes/understand.js';

/**
 * The dialogue graph: understand -> route -> (task steps | answer | progress | handoff | ...)
 * -> finish. Small nodes, routing in conditional edges, state checkpointed per turn.
 * Build it once per process; every session is a thread of the same compiled graph.
 */
export function buildAgentGraph(checkpointer: BaseCheckpointSaver) {
  const g = new StateGraph(AgentState)
    .addNode('understand', understand)
    .addNode('guard', guard)
    .addNode('handoff', handoff)
    .addNode('cancel', cancel)
    .addNode('collect', collect)
    .addNode('prefillForm', prefill)
    .addNode('ask', ask)
    .addNode('reask', reask)
    .addNode('confirmCard', confirmCard)
    .addNode('remind', remind)
    .addNode('amend', amend)
    .addNode('submit', submit)
    .addNode('decline', decline)
    .addNode('needLogin', needLogin)
    .addNode('offline', offline)
    .addNode('clarify', clarify)
    .addNode('answer', answer)
    .addNode('progress', progress)
    .addNode('smalltalk', smalltalk)
    .addNode('finish', finish)
    .addEdge(START, 'understand')
    .addConditionalEdges('understand', routeAfterUnderstand, [
      'guard', 'handoff', 'cancel', 'submit', 'amend', 'remind', 'collect', 'reask', 'clarify', 'answer', 'progress', 'smalltalk',
    ])
    .addConditionalEdges('collect', (s: State, config: NodeConfig) => routeAfterCollect(s, !!agentContext(config).tools), [
      'prefillForm', 'needLogin', 'offline',
    ])
    .addConditionalEdges('prefillForm', (s: State) => (s.out ? 'finish' : routeAfterPrefill(s)), ['decline', 'ask', 'confirmCard', 'finish']);
  for (const node of ['guard', 'handoff', 'cancel', 'submit', 'amend', 'remind', 'reask', 'clarify', 'answer', 'progress', 'smalltalk', 'ask', 'confirmCard', 'decline', 'needLogin', 'offline'] as const) {
    g.addEdge(node, 'finish');
  }
  g.addEdge('finish', END);
  return g.compile({ checkpointer });
}

export type AgentGraph = ReturnType<typeof buildAgentGraph>;
