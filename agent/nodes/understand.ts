import type { State, Update } from '../state.js';
import { agentContext, type NodeConfig } from './common.js';

/** Understands the citizen's message in the context of what the agent is waiting for. */
export async function understand(state: State, config: NodeConfig): Promise<Update> {
  const { nlu } = agentContext(config);
  const result = await nlu.understand(state.input, { service: state.service, awaiting: state.awaiting });
  return { nlu: result };
}

/**
 * The input reaches the graph with identifiers already masked (core/mask.ts), so an ID
 * number in the text shows as `310107********0514`: someone may be asking the agent to act
 * for another person, which it never does.
 */
const MASKED_ID = /[1-9][0-9]{5}\*{8}[0-9]{3}[0-9Xx]/;
export function mentionsIdNumber(maskedText: string): boolean {
  return MASKED_ID.test(maskedText);
}
