import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';
import { createLlmEngine, type LlmNluEngine } from '../nlu/llm-engine.js';
import type { LocalNluEngine } from '../nlu/engine.js';
import { LlmClient } from './client.js';
import { createPhraser, type ReplyPhraser } from './phraser.js';

/** The LLM path of the agent: understanding and wording on one client (one circuit breaker). */
export interface LlmPath {
  engine: LlmNluEngine;
  phraser: ReplyPhraser;
  client: LlmClient;
  /** Model time one turn may spend in all (OPENAI_TIMEOUT_MS). */
  turnTimeoutMs: number;
}

export function createLlmPath(config: Config, opts: { fallback: LocalNluEngine; log?: Logger }): LlmPath {
  const client = new LlmClient(config, opts.log ? { log: opts.log } : {});
  return {
    engine: createLlmEngine(config, opts.fallback, opts.log, client),
    phraser: createPhraser(client, opts.log ? { log: opts.log } : {}),
    client,
    turnTimeoutMs: config.OPENAI_TIMEOUT_MS,
  };
}
