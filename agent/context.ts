import { Annotation } from '@langchain/langgraph';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Catalogue } from '../knowledge/catalogue.js';
import type { SectionName } from '../knowledge/guides.js';
import type {
  Application, BundlePrefill, CreateHandoffInput, Handoff, HandoffMessageSent, OfferView, Prefill, SubmitBundleInput, SubmitBundleResult, SubmitInput, SubmitResult,
  WithdrawInput,
} from '../tools/contract.js';
import type { ReplyPhraser } from './llm/phraser.js';
import type { NluEngine } from './nlu/types.js';
import type { Citation } from './turn.js';

/** The citizen-facing service tools, each call acting as the session's authenticated citizen. */
export interface AgentTools {
  prefill(serviceId: string, values: Record<string, string>): Promise<Prefill>;
  submit(input: z.input<typeof SubmitInput>): Promise<SubmitResult>;
  listApplications(): Promise<Application[]>;
  withdraw(input: z.input<typeof WithdrawInput>): Promise<Application>;
  createHandoff(input: z.input<typeof CreateHandoffInput>): Promise<Handoff>;
  /** Passes the citizen's words to the staff member of an open handoff (a ToolError once it is closed). */
  messageHandoff(handoffId: string, text: string): Promise<HandoffMessageSent>;
  /** 免申即享: what the citizen is entitled to; `all` also lists those answered "later" or "declined". */
  listOffers(all?: boolean): Promise<OfferView[]>;
  answerOffer(offerId: string, answer: 'declined' | 'later'): Promise<void>;
  prefillBundle(bundleId: string, values: Record<string, string>): Promise<BundlePrefill>;
  submitBundle(input: z.input<typeof SubmitBundleInput>): Promise<SubmitBundleResult>;
}

export interface KnowledgeAnswer {
  found: boolean;
  serviceId: string | null;
  section: SectionName | null;
  answer: string;
  citations: Citation[];
  transactable: boolean;
}

/** Answers questions from the knowledge base only. */
export interface Answerer {
  answer(question: string, opts?: { serviceId?: string | null; sections?: readonly SectionName[] }): Promise<KnowledgeAnswer>;
}

/**
 * What a graph run may use, passed per turn as LangGraph run context (never checkpointed) and
 * declared to the graph as its context schema. `tools` is bound to the session owner; it is
 * null for an anonymous (consult-only) session.
 */
export const AgentContextSchema = Annotation.Root({
  sessionId: Annotation<string>(),
  citizenId: Annotation<string | null>(),
  tools: Annotation<AgentTools | null>(),
  nlu: Annotation<NluEngine>(),
  knowledge: Annotation<Answerer>(),
  catalogue: Annotation<Catalogue>(),
  /** Account numbers of this turn's message, by ACCOUNTREFn (never in the checkpoint's history, never shown to a model). */
  accounts: Annotation<readonly string[]>(),
  log: Annotation<Logger | undefined>(),
  /** Rewords replies with a model (LLM path); absent: the templates are said as they are. */
  phraser: Annotation<ReplyPhraser | undefined>(),
});
export type AgentContext = typeof AgentContextSchema.State;

/** A tool refused the request with a message a citizen can read. */
export class ToolError extends Error {
  constructor(message: string, readonly tool: string, readonly code?: string) {
    super(message);
    this.name = 'ToolError';
  }
}
