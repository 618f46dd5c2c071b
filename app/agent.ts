import type { Answerer } from '../agent/context.js';
import { createLlmPath, type LlmPath } from '../agent/llm/path.js';
import { McpToolsPool } from '../agent/mcp-pool.js';
import { createLocalEngine } from '../agent/nlu/engine.js';
import type { NluEngine } from '../agent/nlu/types.js';
import { AgentRuntime } from '../agent/runtime.js';
import { AdvisorySessionLock } from '../agent/session-lock.js';
import { answerQuestion } from '../knowledge/answer.js';
import { configuredEmbedder } from '../knowledge/embeddings.js';
import { createKnowledgeBase, type KnowledgeBase } from '../knowledge/kb.js';
import { createMcpServer } from '../tools/mcp/server.js';
import type { AppContext } from './context.js';

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
      const a = await answerQuestion(kb, question, {
        ...(opts.serviceId ? { serviceId: opts.serviceId } : {}),
        ...(opts.sections?.length ? { sections: opts.sections } : {}),
      });
      return {
        found: a.found,
        serviceId: a.serviceId,
        section: a.section,
        answer: a.answer,
        citations: a.citations.map((c) => ({ service: c.service, section: c.section, title: c.title })),
        transactable: a.transactable,
      };
    },
  };
}

/**
 * Composes the agent for an app context: the knowledge base (with the configured embedder,
 * ingested if stale), the NLU engine, and the citizen-bound MCP tools of this project's own
 * server, in-process. With OPENAI_API_KEY the model understands (local engine as its
 * fallback) and words the replies (templates as the fallback); without it everything is local.
 */
export async function createAgent(ctx: AppContext, opts: { nlu?: NluEngine } = {}): Promise<Agent> {
  const embedder = await configuredEmbedder(ctx.config, { warn: (m) => ctx.log.warn(m) });
  const kb = createKnowledgeBase(ctx.db.pool, embedder, { catalogue: ctx.data.catalogue.services, guidesDir: ctx.data.guidesDir });
  const summary = await kb.ensureIngested();
  if (summary) ctx.log.info({ kb: summary }, 'knowledge base ingested');
  const local = createLocalEngine({ paths: { catalogue: ctx.data.cataloguePath, guidesDir: ctx.data.guidesDir }, ...(ctx.cache ? { cache: ctx.cache } : {}) });
  const llm = ctx.config.OPENAI_API_KEY ? createLlmPath(ctx.config, { fallback: local, log: ctx.log }) : null;
  const nlu = opts.nlu ?? llm?.engine ?? local;
  ctx.log.info({ nlu: nlu.name, wording: llm ? 'llm' : 'templates', model: llm ? ctx.config.OPENAI_MODEL : undefined, embeddings: embedder?.id ?? 'offline' }, 'agent language path');
  // The agent's own connection: it records the conversation itself, so its handoff transcripts are trusted.
  const pool = new McpToolsPool((citizenId) =>
    createMcpServer(ctx.gov, { kind: 'citizen', citizenId, name: citizenId, via: 'sandbox' }, { log: ctx.log, trustedTranscript: true }),
  );
  const sessionLock = ctx.db.kind === 'postgres' && ctx.config.DATABASE_URL
    ? new AdvisorySessionLock(ctx.config.DATABASE_URL, { log: ctx.log })
    : undefined;
  const runtime = await AgentRuntime.create({
    pool: ctx.db.pool,
    nlu,
    knowledge: knowledgeAnswerer(kb),
    catalogue: ctx.data.catalogue,
    toolsFor: (citizenId) => pool.forCitizen(citizenId),
    log: ctx.log,
    ...(llm ? { phraser: llm.phraser, llmTurnTimeoutMs: llm.turnTimeoutMs } : {}),
    // Several replicas on one server database: a session's turns are serialised across them.
    ...(sessionLock ? { sessionLock } : {}),
  });
  return { runtime, kb, nlu, llm, close: async () => { await pool.close(); await sessionLock?.close(); } };
}
