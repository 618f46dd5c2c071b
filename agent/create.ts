import type { AppContext } from '../core/context.js';
import { answerQuestion } from '../knowledge/answer.js';
import { createKnowledgeBase, type KnowledgeBase } from '../knowledge/kb.js';
import { createMcpServer } from '../tools/mcp/server.js';
import type { Answerer } from './context.js';
import { createLlmPath, type LlmPath } from './llm/path.js';
import { McpToolsPool } from './mcp-pool.js';
import { createLocalEngine } from './nlu/local-engine.js';
import type { NluEngine } from './nlu/types.js';
import { AgentRuntime } from './runtime.js';
import { AdvisorySessionLock } from './session-lock.js';

export interface Agent {
  runtime: AgentRuntime;
  kb: KnowledgeBase;
  nlu: NluEngine;
  /** The model path (understanding, wording, their client and breaker); null without OPENAI_API_KEY. */
  llm: LlmPath | null;
  close(): Promise<void>;
}

/** The knowledge base as the agent's answerer: answers from retrieved guide text only. */
export function knowledgeAnswerer(kb: KnowledgeBase): Answerer {
  return {
    async answer(question, opts = {}) {
      const a = await answerQuestion(kb, question, opts.serviceId ? { serviceId: opts.serviceId } : {});
      return {
        found: a.found,
        serviceId: a.serviceId,
        answer: a.answer,
        citations: a.citations.map((c) => ({ service: c.service, section: c.section, title: c.title })),
        transactable: a.transactable,
      };
    },
  };
}

/**
 * Composes the agent for an app context: the knowledge base (ingested if stale), the NLU
 * engine, and the citizen-bound MCP tools of this project's own server, in-process.
 * With OPENAI_API_KEY the model understands (local engine as its fallback) and words the
 * replies (templates as the fallback); without it everything is local.
 */
export async function createAgent(ctx: AppContext, opts: { nlu?: NluEngine } = {}): Promise<Agent> {
  const kb = createKnowledgeBase(ctx.db.pool);
  const summary = await kb.ensureIngested();
  if (summary) ctx.log.info({ kb: summary }, 'knowledge base ingested');
  const local = opts.nlu ?? createLocalEngine();
  const llm = ctx.config.OPENAI_API_KEY ? createLlmPath(ctx.config, { fallback: local, log: ctx.log }) : null;
  const nlu = opts.nlu ?? llm?.engine ?? local;
  ctx.log.info({ nlu: nlu.name, wording: llm ? 'llm' : 'templates', model: llm ? ctx.config.OPENAI_MODEL : undefined }, 'agent language path');
  const pool = new McpToolsPool((citizenId) =>
    createMcpServer(ctx.gov, { kind: 'citizen', citizenId, name: citizenId, via: 'sandbox' }, { log: ctx.log }),
  );
  const sessionLock = ctx.db.kind === 'postgres' && ctx.config.DATABASE_URL
    ? new AdvisorySessionLock(ctx.config.DATABASE_URL, { log: ctx.log })
    : undefined;
  const runtime = await AgentRuntime.create({
    pool: ctx.db.pool,
    nlu,
    knowledge: knowledgeAnswerer(kb),
    toolsFor: (citizenId) => pool.forCitizen(citizenId),
    log: ctx.log,
    ...(llm ? { phraser: llm.phraser, llmTurnTimeoutMs: llm.turnTimeoutMs } : {}),
    // Several replicas on one server database: a session's turns are serialised across them.
    ...(sessionLock ? { sessionLock } : {}),
  });
  return { runtime, kb, nlu, llm, close: async () => { await pool.close(); await sessionLock?.close(); } };
}
