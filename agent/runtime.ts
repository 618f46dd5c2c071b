import type pg from 'pg';
import type { Logger } from 'pino';
import { AppError } from '../core/errors.js';
import { maskSensitiveText } from '../core/mask.js';
import type { Catalogue } from '../knowledge/catalogue.js';
import { PostgresCheckpointSaver } from './checkpointer.js';
import type { AgentContext, AgentTools, Answerer } from './context.js';
import { buildAgentGraph, type AgentGraph } from './graph.js';
import type { ReplyPhraser } from './llm/phraser.js';
import { withTurnBudget } from './llm/turn-budget.js';
import type { NluEngine } from './nlu/types.js';
import { say } from './responses.js';
import { splitAccounts } from './secrets.js';
import type { SessionLock } from './session-lock.js';
import type { State, TurnRecord } from './state.js';
import type { Turn } from './turn.js';

export interface AgentRuntimeOptions {
  pool: pg.Pool;
  nlu: NluEngine;
  knowledge: Answerer;
  catalogue: Catalogue;
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
  /** Checkpoints kept per conversation (see checkpointer.ts). */
  keepCheckpoints?: number;
}

export interface TurnOptions {
  /**
   * Receives the reply as it becomes final, in order, before runTurn resolves; the pieces
   * concatenate to `turn.reply`. Only checked text is ever passed: a model's rewording is
   * validated as a whole (guard.ts) before any of it is let out.
   */
  onDelta?: (text: string) => void;
  /** The token of the card whose button sent this message: a button of an older card is refused. */
  cardToken?: string;
  /** The session's opening: the agent speaks first; `text` is empty. */
  opening?: boolean;
}

/** A line of the conversation as staff see it (identifiers masked). */
export interface TranscriptLine {
  role: 'citizen' | 'agent';
  text: string;
  at: string;
}

export interface SessionView {
  turns: TurnRecord[];
  /** The same conversation as transcript lines (citizen, agent, …). */
  transcript: TranscriptLine[];
  state: {
    service: string | null;
    stage: 'idle' | 'filling' | 'confirming';
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
    const checkpointer = new PostgresCheckpointSaver(opts.pool, { keep: opts.keepCheckpoints ?? 4 });
    return new AgentRuntime(buildAgentGraph(checkpointer), opts);
  }

  /** One citizen message in, one Turn out. `citizenId` is the session owner, never taken from text. */
  async runTurn(sessionId: string, citizenId: string | null, text: string, turnOpts: TurnOptions = {}): Promise<Turn> {
    return this.serialised(sessionId, async () => {
      const config = { configurable: { thread_id: sessionId } };
      if (turnOpts.cardToken !== undefined) {
        const live = ((await this.graph.getState(config)).values as Partial<State>).liveCard ?? null;
        if (turnOpts.cardToken !== live) throw new AppError('stale_card', 409, say('card_stale'));
      }
      const { accounts, text: withRefs } = splitAccounts(text);
      const context: AgentContext = {
        sessionId,
        citizenId,
        tools: citizenId ? await this.opts.toolsFor(citizenId) : null,
        nlu: this.opts.nlu,
        knowledge: this.opts.knowledge,
        catalogue: this.opts.catalogue,
        accounts,
        log: this.opts.log,
        phraser: this.opts.phraser,
      };
      const run = async () => this.graph.invoke(
        { input: maskSensitiveText(text), nluInput: maskSensitiveText(withRefs), cardToken: turnOpts.cardToken ?? null, opening: turnOpts.opening === true },
        { ...config, context, durability: 'exit', recursionLimit: 80 },
      );
      const budget = this.opts.llmTurnTimeoutMs;
      const result = budget ? await withTurnBudget(budget, run) : await run();
      const turn = result.turn;
      if (!turn) throw new Error('Graph finished without a reply');
      if (turnOpts.onDelta) {
        try {
          turnOpts.onDelta(turn.reply);
        } catch (err) {
          this.opts.log?.warn({ err }, 'onDelta failed');
        }
      }
      return turn;
    });
  }

  /**
   * The agent's first words in a session (a greeting, and for a signed-in citizen what they are
   * offered from shared data). Once per session: a later call answers with the opening already given.
   */
  async open(sessionId: string, citizenId: string | null): Promise<Turn> {
    const first = (await this.view(sessionId)).turns[0];
    if (first?.opening) return first.turn;
    if (first) throw new AppError('already_started', 409, '对话已经开始，无需再次开场。');
    return this.runTurn(sessionId, citizenId, '', { opening: true });
  }

  async view(sessionId: string): Promise<SessionView> {
    const snapshot = await this.graph.getState({ configurable: { thread_id: sessionId } });
    const s = (snapshot.values ?? {}) as Partial<State>;
    const task = s.task ?? null;
    const turns = s.history ?? [];
    return {
      turns,
      transcript: turns.flatMap((t) => [
        ...(t.opening ? [] : [{ role: 'citizen' as const, text: t.text, at: t.at }]),
        { role: 'agent' as const, text: t.turn.reply, at: t.at },
      ]),
      state: {
        service: task?.service ?? null,
        stage: !task ? 'idle' : task.awaiting === 'confirm' ? 'confirming' : 'filling',
        awaiting: task?.awaiting ?? null,
        values: task?.kind === 'service' ? maskValues(task.values) : {},
      },
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

/** Values as a session view shows them: account numbers and the like masked. */
function maskValues(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, maskSensitiveText(v)]));
}
