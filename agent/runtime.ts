import type pg from 'pg';
import type { Logger } from 'pino';
import { maskSensitiveText } from '../core/mask.js';
import { LatestCheckpointSaver } from './checkpointer.js';
import type { AgentContext, AgentTools, Answerer } from './context.js';
import { buildAgentGraph, type AgentGraph } from './graph.js';
import type { ReplyPhraser } from './llm/phraser.js';
import { withTurnBudget } from './llm/turn-budget.js';
import type { LlmRunContext } from './llm/wording.js';
import type { NluEngine } from './nlu/types.js';
import type { SessionLock } from './session-lock.js';
import type { State, TurnRecord } from './state.js';
import type { Turn } from './turn.js';

export interface AgentRuntimeOptions {
  pool: pg.Pool;
  nlu: NluEngine;
  knowledge: Answerer;
  /** The citizen-bound tools (an MCP client of the project's own server). */
  toolsFor: (citizenId: string) => Promise<AgentTools>;
  log?: Logger;
  /** Rewords replies with a model (LLM path); without it the templates are said as they are. */
  phraser?: ReplyPhraser;
  /** Model time a whole turn may spend (understanding and wording together); unset: no turn budget. */
  llmTurnTimeoutMs?: number;
  /**
   * Serialises a session's turns across instances (several replicas on one server database:
   * a Postgres advisory lock, see session-lock.ts). Within this process turns are always serialised.
   */
  sessionLock?: SessionLock;
}

export interface TurnOptions {
  /**
   * Receives the reply as it becomes final, in order, before runTurn resolves; the pieces
   * concatenate to `turn.reply`. Only checked text is ever passed: a model's rewording is
   * validated as a whole (guard.ts) before any of it is let out.
   */
  onDelta?: (text: string) => void;
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
    // One row per session with its latest state (see checkpointer.ts): a turn reads one row and
    // writes one, instead of PostgresSaver's ~22 statements and ever-growing history.
    const checkpointer = new LatestCheckpointSaver(opts.pool);
    await checkpointer.setup();
    return new AgentRuntime(buildAgentGraph(checkpointer), opts);
  }

  /** One citizen message in, one Turn out. `citizenId` is the session owner, never taken from text. */
  async runTurn(sessionId: string, citizenId: string | null, text: string, turnOpts: TurnOptions = {}): Promise<Turn> {
    return this.serialised(sessionId, async () => {
      const context: AgentContext & LlmRunContext = {
        citizenId,
        tools: citizenId ? await this.opts.toolsFor(citizenId) : null,
        nlu: this.opts.nlu,
        knowledge: this.opts.knowledge,
        ...(this.opts.log ? { log: this.opts.log } : {}),
        ...(this.opts.phraser ? { phraser: this.opts.phraser } : {}),
      };
      const run = async () => (await this.graph.invoke(
        { input: maskSensitiveText(text), out: null },
        { configurable: { thread_id: sessionId }, context: context as unknown as Record<string, never>, durability: 'exit' },
      )) as State;
      const budget = this.opts.llmTurnTimeoutMs;
      const result = budget ? await withTurnBudget(budget, run) : await run();
      if (!result.out) throw new Error('Graph finished without a reply');
      if (turnOpts.onDelta) {
        try {
          turnOpts.onDelta(result.out.reply);
        } catch (err) {
          this.opts.log?.warn({ err }, 'onDelta failed');
        }
      }
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
    const lock = this.opts.sessionLock;
    const run = prev.catch(() => undefined).then(lock ? () => lock.run(key, fn) : fn);
    this.locks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === run) this.locks.delete(key);
    }
  }
}
