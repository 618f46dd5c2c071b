import type { Logger } from 'pino';
import type { Application, Handoff, Prefill, SubmitResult } from '../tools/contract.js';
import type { z } from 'zod';
import type { CreateHandoffInput, SubmitInput } from '../tools/contract.js';
import type { NluEngine } from './nlu/types.js';
import type { Citation } from './turn.js';

/** The citizen-facing service tools, each call acting as the session's authenticated citizen. */
export interface AgentTools {
  prefill(serviceId: string, values: Record<string, string>): Promise<Prefill>;
  submit(input: z.infer<typeof SubmitInput>): Promise<SubmitResult>;
  listApplications(): Promise<Application[]>;
  createHandoff(input: z.infer<typeof CreateHandoffInput>): Promise<Handoff>;
}

export interface KnowledgeAnswer {
  found: boolean;
  serviceId: string | null;
  answer: string;
  citations: Citation[];
  transactable: boolean;
}

/** Answers questions from the knowledge base only. */
export interface Answerer {
  answer(question: string, opts?: { serviceId?: string | null; section?: string }): Promise<KnowledgeAnswer>;
}

/**
 * What a graph run may use, passed per turn as LangGraph run context (never checkpointed).
 * `tools` is bound to the session owner; it is null for an anonymous (consult-only) session.
 */
export interface AgentContext {
  citizenId: string | null;
  tools: AgentTools | null;
  nlu: NluEngine;
  knowledge: Answerer;
  log?: Logger;
}

/** A tool refused the request with a message a citizen can read. */
export class ToolError extends Error {
  constructor(message: string, readonly tool: string) {
    super(message);
    this.name = 'ToolError';
  }
}
