import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import {
  Application, ApplicationList, ApplicationStatusInput, BundleApplicationView, BundleInput, BundlePrefill, BundleStatusInput,
  CreateHandoffInput, GetServiceGuideInput, Handoff, HandoffMessageSent, LicenceList, MessageHandoffInput, ListOffersInput, OfferAnswer, OfferAnswerInput, OfferList, Prefill,
  PrefillInput, Profile, SearchServicesInput, ServiceGuide, ServiceList, SubmitBundleInput, SubmitBundleResult, SubmitInput,
  SubmitResult, TOOL, WithdrawInput,
} from '../contract.js';
import type { Principal } from '../identity/principal.js';
import type { GovService } from '../sandbox/gov-service.js';
import { parseInput } from '../validation.js';
import { guideData, registerGuide } from './guide.js';

/**
 * The MCP server of the sandbox 一网通办 tools (tools/contract.ts). One server per
 * authenticated connection: the acting citizen is the `principal` it was created for,
 * never a tool argument. Transports are chosen at the edge (app/mcp-stdio.ts, http.ts); both
 * get the same tools, the transaction-flow resource and the `transact` prompt (guide.ts).
 */
export const MCP_SERVER_INFO = { name: 'xiaoshen-gov-tools', version: '0.1.0' };

export interface McpServerOptions {
  log?: Logger;
  /**
   * Set only for this server's own agent, which records conversations itself: its handoff
   * transcripts keep their roles. Any other client's transcript lines are kept as `client`.
   */
  trustedTranscript?: boolean;
  /**
   * Checked before every tool call: throws an AppError (e.g. 401) when the connection's
   * identity is no longer valid. HTTP re-authenticates each request itself; the stdio entry
   * uses this to notice that its token expired or was revoked.
   */
  authorize?: () => Promise<void>;
}

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/**
 * The schema handed to the SDK: it advertises exactly the contract's JSON Schema (strict,
 * every parameter described) but accepts any object, so that the contract schema itself
 * validates in the handler and a caller gets our Chinese message (the SDK's are English).
 */
function advertised(schema: ObjectSchema): ObjectSchema {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return z.looseObject({}).meta(json);
}

export function toolError(err: unknown, log?: Logger, tool?: string): CallToolResult {
  let message = '系统繁忙，请稍后再试。';
  if (err instanceof AppError) message = err.message;
  else log?.error({ err, tool }, 'tool failed');
  return { isError: true, content: [{ type: 'text', text: message }] };
}

export function createMcpServer(gov: GovService, principal: Principal, opts: McpServerOptions = {}): McpServer {
  const guide = guideData();
  const server = new McpServer(MCP_SERVER_INFO, {
    capabilities: { tools: {}, resources: {}, prompts: {} },
    instructions: guide.spec.instructions,
  });
  // How an outside agent goes about a transaction: a resource and a prompt (tools/mcp/guide.md).
  registerGuide(server, gov.catalogue, guide);

  function tool<I extends ObjectSchema, O extends ObjectSchema>(
    name: string,
    spec: { title: string; description: string; input: I; output: O; annotations?: ToolAnnotations },
    run: (args: z.output<I>) => Promise<z.output<O>> | z.output<O>,
  ): void {
    server.registerTool(name, {
      title: spec.title,
      description: spec.description,
      inputSchema: advertised(spec.input),
      outputSchema: spec.output,
      annotations: { openWorldHint: false, ...spec.annotations },
    }, async (args: Record<string, unknown>): Promise<CallToolResult> => {
      try {
        await opts.authorize?.();
        const out = await run(parseInput(spec.input, args));
        return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out as Record<string, unknown> };
      } catch (err) {
        return toolError(err, opts.log, name);
      }
    });
  }

  const read = { readOnlyHint: true };
  const Empty = z.strictObject({});

  tool(TOOL.searchServices, {
    title: '检索办事事项',
    description: '按名称、别名或一句话检索上海一网通办办事事项，返回事项编号（serviceId）、名称、部门、能否在线直接办理及匹配分数。',
    input: SearchServicesInput, output: ServiceList, annotations: read,
  }, (a) => ({ services: gov.services.search(principal, a) }));

  tool(TOOL.getServiceGuide, {
    title: '查看办事指南',
    description: '返回事项的办事指南各章节（服务简介、申请条件、申请材料、办理流程、办理渠道、办理时限、收费标准、设定依据、常见问题）。指南尚未编写时 available 为 false。',
    input: GetServiceGuideInput, output: ServiceGuide, annotations: read,
  }, (a) => gov.services.guide(principal, a));

  tool(TOOL.getMyProfile, {
    title: '查询本人信息',
    description: '返回当前登录市民的共享数据信息（身份证号、手机号、银行账户已脱敏）。',
    input: Empty, output: Profile, annotations: read,
  }, () => gov.citizens.profile(principal));

  tool(TOOL.listMyLicences, {
    title: '查看本人卡包',
    description: '返回当前登录市民随申办卡包中的电子证照，包括已出具的证明。',
    input: Empty, output: LicenceList, annotations: read,
  }, async () => ({ licences: await gov.citizens.licences(principal) }));

  tool(TOOL.prefillApplication, {
    title: '预填申请表',
    description: '用共享数据和电子证照预填事项申请表（两个免于提交）：返回每个字段的值与脱敏显示值、仍需询问的字段（missing）和资格核验结果（eligibility）。values 传入市民已说明的内容。',
    input: PrefillInput, output: Prefill, annotations: read,
  }, (a) => gov.applications.prefill(principal, a));

  tool(TOOL.submitApplication, {
    title: '提交申请',
    description: '在市民对确认卡片明确同意后提交申请（不可逆：未经市民明确同意不要调用）。values 为需询问的字段及可修改的预填字段（邮寄地址、银行账户）。同一 idempotencyKey 重复提交返回同一申请（duplicate 为 true）；同一键配不同内容返回错误。会被事项的重复申请规则拒绝的，返回错误并给出已有申请编号。',
    input: SubmitInput, output: SubmitResult, annotations: { destructiveHint: false, idempotentHint: true },
  }, (a) => gov.applications.submit(principal, a));

  tool(TOOL.getApplicationStatus, {
    title: '查询办件进度',
    description: '按申请编号查询本人办件的状态和下一步说明。',
    input: ApplicationStatusInput, output: Application, annotations: read,
  }, (a) => gov.applications.get(principal, a));

  tool(TOOL.listMyApplications, {
    title: '本人办件列表',
    description: '返回当前登录市民的全部办件，最新的在前。',
    input: Empty, output: ApplicationList, annotations: read,
  }, async () => ({ applications: await gov.applications.listMine(principal) }));

  tool(TOOL.withdrawApplication, {
    title: '撤回申请',
    description: '撤回本人尚未受理（状态为 submitted）的申请，撤回后部门不再办理，可重新申请；已办结或审核中的申请不能撤回。撤回不可恢复，请先向市民确认。',
    input: WithdrawInput, output: Application, annotations: { destructiveHint: true, idempotentHint: false },
  }, (a) => gov.applications.withdraw(principal, a));

  tool(TOOL.listMyOffers, {
    title: '免申即享：本人可享待遇',
    description: '根据共享数据列出当前登录市民无需申请即可享受的待遇：名称、符合条件的原因（本人信息）、可计算的金额及算法、需要确认的少量信息（如银行账户）。领取时用 submit_application 提交对应事项（serviceId）。默认只列出可以主动推送的；市民主动询问时传 all 为 true。',
    input: ListOffersInput, output: OfferList, annotations: read,
  }, async (a) => ({ offers: await gov.offers.list(principal, a) }));

  tool(TOOL.answerOffer, {
    title: '回复待遇推送',
    description: '记录市民对某项待遇推送的回复：declined（不需要，不再主动推送）或 later（以后再说，一段时间内不再推送）。',
    input: OfferAnswerInput, output: OfferAnswer, annotations: { destructiveHint: false, idempotentHint: true },
  }, (a) => gov.offers.answer(principal, a));

  tool(TOOL.prefillBundle, {
    title: '预填“一件事”',
    description: '预填“一件事”联办表单（如 newborn_one_thing 出生一件事）：返回每个部门事项是否适用及原因（members）、合并后的字段（fields，共用字段只出现一次）和仍需询问的字段（missing）。values 传入市民已说明的内容。',
    input: BundleInput, output: BundlePrefill, annotations: read,
  }, (a) => gov.bundles.prefill(principal, a));

  tool(TOOL.submitBundle, {
    title: '提交“一件事”',
    description: '市民对“一件事”确认卡片明确同意后提交（不可逆：未经明确同意不要调用）：每个适用的部门事项各生成一份申请；同一 idempotencyKey 重复确认不会重复提交（duplicate 为 true）；需人工审核的事项转工作人员，其余照常办理。',
    input: SubmitBundleInput, output: SubmitBundleResult, annotations: { destructiveHint: false, idempotentHint: true },
  }, (a) => gov.bundles.submit(principal, a));

  tool(TOOL.getBundleStatus, {
    title: '查询“一件事”进度',
    description: '按“一件事”申请编号查询各部门事项的状态。',
    input: BundleStatusInput, output: BundleApplicationView, annotations: read,
  }, (a) => gov.bundles.get(principal, a));

  tool(TOOL.createHandoff, {
    title: '转人工',
    description: '把对话转给窗口工作人员：附理解结果、已填表单和转人工原因，返回工单编号。指定本人的 sessionId 时，工作人员会看到服务端记录的该会话全文，回复也会推送到该会话；transcript 中由客户端提供的记录会按“客户端提供”展示。',
    input: CreateHandoffInput, output: Handoff, annotations: { destructiveHint: false },
  }, (a) => gov.handoffs.create(principal, a, { trusted: opts.trustedTranscript === true }));

  tool(TOOL.messageHandoff, {
    title: '给人工服务留言',
    description: '工单转人工后、结束前，把市民说的话转给处理该工单的工作人员（工作人员在工作台实时看到）。工单已结束时返回错误，此时应恢复由智能助手回答。',
    input: MessageHandoffInput, output: HandoffMessageSent, annotations: { destructiveHint: false },
  }, (a) => gov.handoffs.messageFromCitizen(principal, a.handoffId, a.text));

  return server;
}
