import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import type pg from 'pg';
import type { Logger } from 'pino';
import { maskSensitiveText } from '../core/mask.js';
import type { AgentContext, AgentTools, Answerer } from './context.js';
import { buildAgentGraph, type AgentGraph } from './graph.js';
import type { NluEngine } from './nlu/types.js';
import type { State, TurnRecord } from './state.js';
import type { Turn } from './turn.js';

export interface AgentRuntimeOptions {
  pool: pg.Pool;
  nlu: NluEngine;
  knowledge: Answerer;
  /** The citizen-bound tools (an MCP client of the project's own server). */
  toolsFor: (citizenId: string) => Promise<AgentTools>;
  log?: Logger;
}

export interface SessionView {
  turns: TurnRecord[];
  state: {
    service: string | null;
    stage: State['stage'];
    awaiting: string | null;
    values: Record<string, string>;
  };
}

/**
 * Runs turns of the one compiled graph. Conversation state lives only in the checkpointer
 * (Postgres), so any instance can serve any session and a restarted server continues where
 * it stopped. Turns of one session are serialised; a checkpoint is written once per turn.
 */
export class AgentRuntime {
  private readonly locks = new Map<string, Promise<unknown>>();

  private constructor(
    private readonly graph: AgentGraph,
    private readonly opts: AgentRuntimeOptions,
  ) {}

  static async create(opts: AgentRuntimeOptions): Promise<AgentRuntime> {
    const checkpointer = new PostgresSaver(opts.pool);
    await checkpointer.setup();
    return new AgentRuntime(buildAgentGraph(checkpointer), opts);
  }

  /** One citizen message in, one Turn out. `citizenId` is the session owner, never taken from text. */
  async runTurn(sessionId: string, citizenId: string | null, text: string): Promise<Turn> {
    return this.serialised(sessionId, async () => {
      const context: AgentContext = {
        citizenId,
        tools: citizenId ? await this.opts.toolsFor(citizenId) : null,
        nlu: this.opts.nlu,
        knowledge: this.opts.knowledge,
        ...(this.opts.log ? { log: this.opts.log } : {}),
      };
      const result = (await this.graph.invoke(
        { input: maskSensitiveText(text), out: null },
        { configurable: { thread_id: sessionId }, context: context as unknown as Record<string, never>, durability: 'exit' },
      )) as State;
      if (!result.out) throw new Error('Graph finished without a reply');
      return result.out;
    });
  }

  async view(sessionId: string): Promise<SessionView> {
    const snapshot = await this.graph.getState({ configurable: { thread_id: sessionId } });
    const s = (snapshot.values ?? {}) as Partial<State>;
    return {
      turns: s.turns ?? [],
      state: { service: s.service ?? null, stage: s.stage ?? 'idle', awaiting: s.awaiting ?? null, values: s.values ?? {} },
    };
  }

  private async serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(fn);
    this.locks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === run) this.locks.delete(key);
    }
  }
}
