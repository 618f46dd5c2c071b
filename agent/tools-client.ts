import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { z } from 'zod';
import { Application, BundlePrefill, Handoff, HandoffMessageSent, OfferAnswer, OfferList, Prefill, SubmitBundleResult, SubmitResult, TOOL } from '../tools/contract.js';
import { ToolError, type AgentTools } from './context.js';

/**
 * The agent's side of the MCP tools: typed calls over a connected MCP client, with every
 * result validated against the contract. A tool error becomes a ToolError carrying the
 * tool's Chinese message.
 */
export function mcpAgentTools(client: Client): AgentTools {
  async function call<T>(name: string, args: Record<string, unknown>, schema: z.ZodType<T>): Promise<T> {
    const result = await client.callTool({ name, arguments: args });
    const text = Array.isArray(result.content)
      ? result.content.map((c: { type: string; text?: string }) => (c.type === 'text' ? c.text ?? '' : '')).join('')
      : '';
    if (result.isError) throw new ToolError(extractMessage(text), name);
    const payload: unknown = result.structuredContent ?? JSON.parse(text);
    const parsed = schema.safeParse(payload);
    if (!parsed.success) throw new Error(`Tool ${name} returned an unexpected shape: ${parsed.error.message}`);
    return parsed.data;
  }
  const ApplicationList = z.union([
    z.array(Application),
    z.object({ applications: z.array(Application) }).transform((o) => o.applications),
  ]);
  return {
    prefill: (serviceId, values) => call(TOOL.prefillApplication, { serviceId, values }, Prefill),
    submit: (input) => call(TOOL.submitApplication, input, SubmitResult),
    listApplications: () => call(TOOL.listMyApplications, {}, ApplicationList),
    withdraw: (input) => call(TOOL.withdrawApplication, input, Application),
    createHandoff: (input) => call(TOOL.createHandoff, input, z.union([Handoff, z.object({ handoff: Handoff }).transform((o) => o.handoff)])),
    messageHandoff: (handoffId, text) => call(TOOL.messageHandoff, { handoffId, text }, HandoffMessageSent),
    listOffers: async (all) => (await call(TOOL.listMyOffers, all ? { all: true } : {}, OfferList)).offers,
    answerOffer: async (offerId, answer) => void (await call(TOOL.answerOffer, { offerId, answer }, OfferAnswer)),
    prefillBundle: (bundleId, values) => call(TOOL.prefillBundle, { bundleId, values }, BundlePrefill),
    submitBundle: (input) => call(TOOL.submitBundle, input, SubmitBundleResult),
  };
}

function extractMessage(text: string): string {
  try {
    const obj = JSON.parse(text) as { error?: { message?: string }; message?: string };
    return obj.error?.message ?? obj.message ?? text;
  } catch {
    return text || '服务暂时不可用，请稍后再试。';
  }
}
