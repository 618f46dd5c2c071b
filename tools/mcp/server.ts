import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import {
  Application, ApplicationList, ApplicationStatusInput, CreateHandoffInput, GetServiceGuideInput, Handoff, LicenceList, Prefill,
  PrefillInput, Profile, SearchServicesInput, ServiceGuide, ServiceList, SubmitInput, SubmitResult, TOOL,
} from '../contract.js';
import type { Principal } from '../identity/principal.js';
import type { GovService } from '../sandbox/gov-service.js';
import { parseInput } from '../validation.js';

/**
 * The MCP server of the sandbox 一网通办 tools (tools/contract.ts). One server per
 * authenticated connection: the acting citizen is the `principal` it was created for,
 * never a tool argument. Transports are chosen at the edge (stdio.ts, http.ts).
 */
export const MCP_SERVER_INFO = { name: 'xiaoshen-gov-tools', version: '0.1.0' };

export interface McpServerOptions {
  log?: Logger;
}

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/**
 * The schema handed to the SDK: it advertises exactly the contract's JSON Schema but
 * accepts any object, so that the contract schema itself validates in the handler and a
 * caller gets a Chinese message (the SDK's own validation messages are English).
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
  const server = new McpServer(MCP_SERVER_INFO, {
    capabilities: { tools: {} },
    instructions: '上海“一网通办”沙箱服务工具：检索事项、查看办事指南、查询本人信息和卡包、预填与提交申请、查询办件、转人工。'
      + '办事人由连接的登录身份确定，参数中不需要也不能指定办事人。',
  });

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
        const out = await run(parseInput(spec.input, args));
        return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out as Record<string, unknown> };
      } catch (err) {
        return toolError(err, opts.log, name);
      }
    });
  }

  const read = { readOnlyHint: true };
  const Empty = z.object({});

  tool(TOOL.searchServices, {
    title: '检索办事事项',
    description: '按名称、别名或一句话检索上海一网通办办事事项，返回事项编号（serviceId）、名称、部门、能否在线直接办理及匹配分数。',
    input: SearchServicesInput, output: ServiceList, annotations: read,
  }, (a) => ({ services: gov.searchServices(principal, a) }));

  tool(TOOL.getServiceGuide, {
    title: '查看办事指南',
    description: '返回事项的办事指南各章节（服务简介、申请条件、申请材料、办理流程、办理渠道、办理时限、收费标准、设定依据、常见问题）。指南尚未编写时 available 为 false。',
    input: GetServiceGuideInput, output: ServiceGuide, annotations: read,
  }, (a) => gov.getServiceGuide(principal, a));

  tool(TOOL.getMyProfile, {
    title: '查询本人信息',
    description: '返回当前登录市民的共享数据信息（身份证号、手机号、银行账户已脱敏）。',
    input: Empty, output: Profile, annotations: read,
  }, () => gov.getProfile(principal));

  tool(TOOL.listMyLicences, {
    title: '查看本人卡包',
    description: '返回当前登录市民随申办卡包中的电子证照，包括已出具的证明。',
    input: Empty, output: LicenceList, annotations: read,
  }, async () => ({ licences: await gov.listLicences(principal) }));

  tool(TOOL.prefillApplication, {
    title: '预填申请表',
    description: '用共享数据和电子证照预填事项申请表（两个免于提交）：返回每个字段的值与脱敏显示值、仍需询问的字段（missing）和资格核验结果（eligibility）。values 传入市民已说明的内容。',
    input: PrefillInput, output: Prefill, annotations: read,
  }, (a) => gov.prefill(principal, a));

  tool(TOOL.submitApplication, {
    title: '提交申请',
    description: '在市民确认后提交申请。values 为需询问的字段及可修改的预填字段（邮寄地址、银行账户）。同一 idempotencyKey 重复提交返回同一申请（duplicate 为 true）。',
    input: SubmitInput, output: SubmitResult, annotations: { destructiveHint: false, idempotentHint: true },
  }, (a) => gov.submit(principal, a));

  tool(TOOL.getApplicationStatus, {
    title: '查询办件进度',
    description: '按申请编号查询本人办件的状态和下一步说明。',
    input: ApplicationStatusInput, output: Application, annotations: read,
  }, (a) => gov.getApplication(principal, a));

  tool(TOOL.listMyApplications, {
    title: '本人办件列表',
    description: '返回当前登录市民的全部办件，最新的在前。',
    input: Empty, output: ApplicationList, annotations: read,
  }, async () => ({ applications: await gov.listMyApplications(principal) }));

  tool(TOOL.createHandoff, {
    title: '转人工',
    description: '把对话转给窗口工作人员：附对话记录、理解结果、已填表单和转人工原因。返回工单编号。',
    input: CreateHandoffInput, output: Handoff, annotations: { destructiveHint: false },
  }, (a) => gov.createHandoff(principal, a));

  return server;
}
