import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unauthorized } from '../../core/errors.js';
import { createApiServer, type ApiServer } from '../http/app.js';
import { TOOL } from '../contract.js';
import type { Principal } from '../identity/principal.js';
import { apiDeps, createTestContext, type TestContext } from '../../test/context.js';
import { guideData, renderGuide } from './guide.js';
import { createMcpServer, type McpServerOptions } from './server.js';

/**
 * The stdio entry run exactly as the README documents it — `npm run -s mcp` in the project
 * folder, configured only by the environment variables shown there — as a separate process
 * driven by the SDK's StdioClientTransport; and the transaction-flow resource and `transact`
 * prompt an outside agent reads first, which every transport gets (createMcpServer).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCUMENTED = { command: 'npm', args: ['run', '-s', 'mcp'] };
const GUIDE_URI = 'xiaoshen://guide/transaction-flow';
const ALL_TOOLS = Object.values(TOOL).sort();
/** Start-up on a fresh embedded database (migrations, seed) is slow on a shared 2-core machine. */
const PROCESS_TIMEOUT = 120_000;

type ToolResult = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown> };
const text = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('');

interface StdioRun { client: Client; stderr(): string; protocolErrors: Error[]; close(): Promise<void> }

/**
 * Starts the documented command with these variables (plus only the SDK's default safe
 * environment: PATH, HOME, ...; not the test runner's NODE_ENV) and connects an MCP client.
 */
async function runDocumented(env: Record<string, string>): Promise<StdioRun> {
  const transport = new StdioClientTransport({ ...DOCUMENTED, cwd: ROOT, env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const client = new Client({ name: 'outside-agent-test', version: '1.0.0' });
  const protocolErrors: Error[] = [];
  client.onerror = (err) => void protocolErrors.push(err);
  try {
    await client.connect(transport, { timeout: PROCESS_TIMEOUT });
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new Error(`${(err as Error).message}\nstderr: ${stderr}`);
  }
  return { client, stderr: () => stderr, protocolErrors, close: () => client.close() };
}

/** Runs the documented command to its exit (stdin closed at once): exit code and stderr. */
async function runToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(DOCUMENTED.command, DOCUMENTED.args, { cwd: ROOT, env: { ...getDefaultEnvironment(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT - 10_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

interface JsonSchema { description?: string; properties?: Record<string, JsonSchema>; items?: JsonSchema | JsonSchema[]; anyOf?: JsonSchema[] }

/** Properties, at any depth (nested objects, array items), of a JSON Schema without a non-empty description. */
function undescribed(schema: JsonSchema, at = ''): string[] {
  const out: string[] = [];
  for (const [k, p] of Object.entries(schema.properties ?? {})) {
    if (!p.description?.trim()) out.push(`${at}${k}`);
    out.push(...undescribed(p, `${at}${k}.`));
  }
  for (const item of [schema.items ?? []].flat()) out.push(...undescribed(item, at));
  for (const alt of schema.anyOf ?? []) out.push(...undescribed(alt, at));
  return out;
}

describe('the stdio server, started as the README documents it', () => {
  // The server that issues the token: its own process state and database, the same exported TOKEN_SECRET.
  const secret = randomBytes(24).toString('hex');
  let ctx: TestContext;
  let api: ApiServer;
  let base: string;
  let token: string;
  let dataDir: string;
  beforeAll(async () => {
    ctx = await createTestContext('pglite', { TOKEN_SECRET: secret });
    api = await createApiServer(apiDeps(ctx));
    base = await api.listen({ host: '127.0.0.1', port: 0 });
    const r = await fetch(`${base}/api/auth/sandbox-login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ citizenId: 'c-sun-ming' }),
    });
    expect(r.status).toBe(200);
    token = ((await r.json()) as { token: string }).token;
    dataDir = mkdtempSync(join(tmpdir(), 'xiaoshen-data-mcp-')); // ./data-mcp in the README
  });
  afterAll(async () => {
    await api?.close();
    await ctx?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('TOKEN_SECRET=… XIAOSHEN_TOKEN=<token> DATA_DIR=… npm run -s mcp: tools, the guide, the prompt, a call and a refusal', async () => {
    const run = await runDocumented({ TOKEN_SECRET: secret, XIAOSHEN_TOKEN: token, DATA_DIR: dataDir });
    const { client } = run;
    try {
      expect(client.getServerCapabilities()).toMatchObject({ tools: {}, resources: {}, prompts: {} });
      expect(client.getInstructions()).toContain(GUIDE_URI);

      // Every tool, and every parameter of every tool described for the model that reads them.
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS);
      for (const t of tools) {
        expect(t.description?.trim(), t.name).toBeTruthy();
        expect(t.inputSchema.type, t.name).toBe('object');
        expect(undescribed(t.inputSchema as never), t.name).toEqual([]);
      }

      // The flow an outside agent reads first.
      const { resources } = await client.listResources();
      expect(resources).toEqual([expect.objectContaining({ uri: GUIDE_URI, mimeType: 'text/markdown', title: expect.any(String), description: expect.any(String) })]);
      const read = await client.readResource({ uri: GUIDE_URI });
      const guide = read.contents[0] as { uri: string; mimeType: string; text: string };
      expect(guide).toMatchObject({ uri: GUIDE_URI, mimeType: 'text/markdown' });
      for (const name of ALL_TOOLS) expect(guide.text, name).toContain(`\`${name}\``);
      expect(guide.text).toMatch(/idempotencyKey/);
      expect(guide.text).toContain('`newborn_one_thing`'); // the 一件事 table, generated from the catalogue
      expect(guide.text).not.toContain('{{');

      // The prompt: the guide embedded, then the task with the citizen's service and words.
      const { prompts } = await client.listPrompts();
      expect(prompts).toEqual([expect.objectContaining({
        name: 'transact',
        arguments: [expect.objectContaining({ name: 'serviceId', required: false }), expect.objectContaining({ name: 'request', required: false })],
      })]);
      const prompt = await client.getPrompt({ name: 'transact', arguments: { serviceId: 'criminal_record_certificate', request: '我要开无犯罪记录证明' } });
      expect(prompt.messages).toHaveLength(2);
      expect(prompt.messages[0]!.content).toEqual({ type: 'resource', resource: { uri: GUIDE_URI, mimeType: 'text/markdown', text: guide.text } });
      const task = (prompt.messages[1]!.content as { text: string }).text;
      expect(task).toContain('有无犯罪记录证明');
      expect(task).toContain('prefill_application（serviceId: "criminal_record_certificate"）');
      expect(task).toContain('「我要开无犯罪记录证明」');
      await expect(client.getPrompt({ name: 'transact', arguments: { serviceId: 'no_such_service' } })).rejects.toThrow(/未找到事项或“一件事”「no_such_service」/);

      // A tool call, for the token's citizen.
      const found = (await client.callTool({ name: TOOL.searchServices, arguments: { query: '我要开无犯罪记录证明' } })) as ToolResult;
      expect(found.isError).toBeFalsy();
      expect((found.structuredContent!.services as { id: string }[])[0]?.id).toBe('criminal_record_certificate');
      const profile = (await client.callTool({ name: TOOL.getMyProfile, arguments: {} })) as ToolResult;
      expect(profile.structuredContent).toMatchObject({ citizenId: 'c-sun-ming' });

      // An argument the contract does not have is refused, with the project's Chinese message.
      const sneaky = (await client.callTool({ name: TOOL.searchServices, arguments: { query: '无犯罪记录证明', citizenId: 'c-zhao-lei' } })) as ToolResult;
      expect(sneaky.isError).toBe(true);
      expect(text(sneaky)).toBe('请求参数不正确：不支持的参数：「citizenId」。');

      // stdout carried nothing but the protocol (no npm banner, no log lines).
      expect(run.protocolErrors).toEqual([]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nstderr: ${run.stderr()}`);
    } finally {
      await run.close();
    }
  }, PROCESS_TIMEOUT);

  it('XIAOSHEN_CITIZEN=… DATA_DIR=… npm run -s mcp: in development the process logs the sandbox citizen in itself', async () => {
    const run = await runDocumented({ XIAOSHEN_CITIZEN: 'c-liu-fang', DATA_DIR: dataDir }); // the same data dir, reopened
    try {
      const profile = (await run.client.callTool({ name: TOOL.getMyProfile, arguments: {} })) as ToolResult;
      expect(profile.isError).toBeFalsy();
      expect(profile.structuredContent).toMatchObject({ citizenId: 'c-liu-fang', name: '刘芳' });
      const offers = (await run.client.callTool({ name: TOOL.listMyOffers, arguments: {} })) as ToolResult;
      expect((offers.structuredContent!.offers as { serviceId: string }[]).map((o) => o.serviceId)).toContain('maternity_allowance');
      expect(run.protocolErrors).toEqual([]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nstderr: ${run.stderr()}`);
    } finally {
      await run.close();
    }
  }, PROCESS_TIMEOUT);

  it('refuses to start, saying what to do: a token from another secret, sandbox login in production, no citizen', async () => {
    // The old README line: no shared TOKEN_SECRET, so this DATA_DIR's own secret does not verify the server's token.
    const foreign = await runToExit({ XIAOSHEN_TOKEN: token, DATA_DIR: dataDir });
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(/XIAOSHEN_TOKEN was refused \(登录凭证无效或已过期/);
    expect(foreign.stderr).toMatch(/same exported TOKEN_SECRET/);
    expect(foreign.stdout).toBe('');

    const production = await runToExit({ XIAOSHEN_CITIZEN: 'c-sun-ming', DATA_DIR: 'memory://', NODE_ENV: 'production' });
    expect(production.code).toBe(2);
    expect(production.stderr).toMatch(/sandbox login, which is disabled with NODE_ENV=production: pass XIAOSHEN_TOKEN/);

    const nobody = await runToExit({ DATA_DIR: 'memory://' });
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toMatch(/no citizen: set XIAOSHEN_CITIZEN or XIAOSHEN_TOKEN/);
    expect(nobody.stderr).toMatch(/TOKEN_SECRET/);
  }, PROCESS_TIMEOUT);
});

describe('the guide resource and the transact prompt, in process and over Streamable HTTP', () => {
  let ctx: TestContext;
  let sun: Principal;
  beforeAll(async () => {
    ctx = await createTestContext('pglite');
    sun = (await ctx.identity.login({ method: 'sandbox', citizenId: 'c-sun-ming' })).principal;
  });
  afterAll(async () => ctx?.close());

  async function connect(opts: McpServerOptions = {}): Promise<Client> {
    const server = createMcpServer(ctx.gov, sun, opts);
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'guide-test', version: '1.0.0' });
    await server.connect(b);
    await client.connect(a);
    return client;
  }

  it('names every tool of the contract, and no tool that does not exist', () => {
    const guide = renderGuide(ctx.gov.catalogue);
    const toolLike = [...guide.matchAll(/`((?:search|get|list|prefill|submit|withdraw|create|message|answer)_[a-z_]+)`/g)].map((m) => m[1]!);
    expect(new Set(toolLike)).toEqual(new Set(ALL_TOOLS));
    expect(guideData().spec.resource.uri).toBe(GUIDE_URI);
  });

  it('words the task for a bundle, a service that cannot be done online, words alone, or nothing; refuses bad arguments in Chinese', async () => {
    const client = await connect();
    try {
      const task = async (args: Record<string, string>) =>
        ((await client.getPrompt({ name: 'transact', arguments: args })).messages[1]!.content as { text: string }).text;
      expect(await task({ serviceId: 'newborn_one_thing' })).toMatch(/prefill_bundle（bundleId: "newborn_one_thing"）/);
      const offline = ctx.gov.catalogue.services.find((s) => !s.transactable && !ctx.gov.catalogue.bundle(s.id))!;
      expect(await task({ serviceId: offline.id })).toContain(`不能在线直接办理：请用 get_service_guide（serviceId: "${offline.id}"）`);
      expect(await task({ request: '孩子出生了要办哪些事' })).toMatch(/「孩子出生了要办哪些事」[\s\S]*请先用 search_services/);
      expect(await task({})).toMatch(/先问市民想办什么事/);
      await expect(client.getPrompt({ name: 'transact', arguments: { request: '办'.repeat(501) } })).rejects.toThrow(/请求参数不正确：「request」最多 500 个字符/);
      const done = await client.complete({ ref: { type: 'ref/prompt', name: 'transact' }, argument: { name: 'serviceId', value: 'newborn' } });
      expect(done.completion.values[0]).toBe('newborn_one_thing');
    } finally {
      await client.close();
    }
  });

  it('refuses tool calls once the connection\'s identity is no longer valid (the stdio token check), the guide still readable', async () => {
    const client = await connect({ authorize: async () => { throw unauthorized('登录凭证无效或已过期，请重新登录。'); } });
    try {
      const r = (await client.callTool({ name: TOOL.getMyProfile, arguments: {} })) as ToolResult;
      expect(r.isError).toBe(true);
      expect(text(r)).toBe('登录凭证无效或已过期，请重新登录。');
      expect((await client.readResource({ uri: GUIDE_URI })).contents).toHaveLength(1);
      // A misnamed tool: the SDK's own (English) tool error, as the guide tells the agent.
      const misnamed = (await client.callTool({ name: 'get_status', arguments: {} })) as ToolResult;
      expect(misnamed.isError).toBe(true);
      expect(text(misnamed)).toMatch(/Tool get_status not found/);
    } finally {
      await client.close();
    }
  });

  it('serves the same resource and prompt over Streamable HTTP', async () => {
    const app = await createApiServer(apiDeps(ctx));
    try {
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      const { token } = await ctx.identity.login({ method: 'sandbox', citizenId: 'c-sun-ming' });
      const client = new Client({ name: 'guide-http-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', address), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      try {
        expect(client.getServerCapabilities()).toMatchObject({ resources: {}, prompts: {} });
        const read = await client.readResource({ uri: GUIDE_URI });
        expect((read.contents[0] as { text: string }).text).toBe(renderGuide(ctx.gov.catalogue));
        expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(['transact']);
      } finally {
        await client.close();
      }
    } finally {
      await app.close();
    }
  });
});
