import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ApiServer } from '../http/app.js';
import { Prefill, TOOL } from '../contract.js';
import type { Principal } from '../identity/principal.js';
import { apiDeps, createTestContext, TEST_TOKEN_SECRET, type TestContext } from '../../test/context.js';
import { createMcpServer } from './server.js';

/** The MCP tools through real MCP clients: in-process, over Streamable HTTP, and over stdio in a child process. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ALL_TOOLS = Object.values(TOOL).sort();

type ToolResult = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown> };
const text = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('');

async function connectInProcess(ctx: TestContext, principal: Principal): Promise<Client> {
  const server = createMcpServer(ctx.gov, principal);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1.0.0' });
  await server.connect(b);
  await client.connect(a);
  return client;
}

describe('MCP tools', () => {
  let ctx: TestContext;
  let sun: Principal;
  let zhao: Principal;
  beforeAll(async () => {
    ctx = await createTestContext('pglite');
    sun = (await ctx.identity.login({ method: 'sandbox', citizenId: 'c-sun-ming' })).principal;
    zhao = (await ctx.identity.login({ method: 'sandbox', citizenId: 'c-zhao-lei' })).principal;
  });
  afterAll(async () => ctx?.close());

  describe('in process', () => {
    let client: Client;
    beforeAll(async () => {
      client = await connectInProcess(ctx, sun);
    });
    afterAll(async () => client?.close());

    it('lists every tool of the contract with its JSON input schema', async () => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS);
      const prefill = tools.find((t) => t.name === TOOL.prefillApplication)!;
      expect(prefill.inputSchema).toMatchObject({ type: 'object', required: ['serviceId'], properties: { serviceId: { type: 'string' } } });
      expect(prefill.outputSchema).toBeDefined();
      const submit = tools.find((t) => t.name === TOOL.submitApplication)!;
      expect(submit.inputSchema.required).toEqual(expect.arrayContaining(['serviceId', 'values', 'idempotencyKey']));
      expect(JSON.stringify(tools.map((t) => t.inputSchema))).not.toMatch(/citizenId|citizen_id|principal/); // the actor is the connection, never an argument
    });

    it('pre-fills, submits idempotently and lists, for the connection\'s citizen only', async () => {
      const pre = (await client.callTool({ name: TOOL.prefillApplication, arguments: { serviceId: 'criminal_record_certificate' } })) as ToolResult;
      expect(pre.isError).toBeFalsy();
      const parsed = Prefill.parse(pre.structuredContent);
      expect(parsed.fields.find((f) => f.key === 'name')?.value).toBe('孙明');
      expect(JSON.parse(text(pre))).toEqual(pre.structuredContent);
      // A citizen argument is not part of the contract: refused, with our message.
      const sneaky = (await client.callTool({ name: TOOL.prefillApplication, arguments: { serviceId: 'criminal_record_certificate', citizenId: 'c-zhao-lei' } })) as ToolResult;
      expect(sneaky.isError).toBe(true);
      expect(text(sneaky)).toMatch(/不支持的参数：「citizenId」/);
      const args = { serviceId: 'criminal_record_certificate', values: { purpose: '出国(境)', destination: '英国' }, idempotencyKey: 'sun-mcp-0001' };
      const first = (await client.callTool({ name: TOOL.submitApplication, arguments: args })) as ToolResult;
      const again = (await client.callTool({ name: TOOL.submitApplication, arguments: args })) as ToolResult;
      expect(first.structuredContent).toMatchObject({ duplicate: false, application: { status: 'issued' }, licence: { name: '有无犯罪记录证明' } });
      expect(again.structuredContent).toMatchObject({ duplicate: true });
      const id = (first.structuredContent!.application as { id: string }).id;
      const list = (await client.callTool({ name: TOOL.listMyApplications, arguments: {} })) as ToolResult;
      expect((list.structuredContent!.applications as { id: string }[]).map((a) => a.id)).toEqual([id]);
      const wallet = (await client.callTool({ name: TOOL.listMyLicences, arguments: {} })) as ToolResult;
      expect(JSON.stringify(wallet.structuredContent)).toContain('有无犯罪记录证明');
      const profile = (await client.callTool({ name: TOOL.getMyProfile, arguments: {} })) as ToolResult;
      expect(profile.structuredContent).toMatchObject({ citizenId: 'c-sun-ming', idNumber: '310101********2038' });
    });

    it('returns errors as tool errors with Chinese messages', async () => {
      const cases: [string, Record<string, unknown>, RegExp][] = [
        [TOOL.prefillApplication, { serviceId: 'no_such_service' }, /未找到该办事事项/],
        [TOOL.submitApplication, { serviceId: 'criminal_record_certificate', values: { purpose: '旅游' }, idempotencyKey: 'sun-mcp-bad1' }, /「用途」只能选择/],
        [TOOL.submitApplication, { serviceId: 'residence_permit', values: { basis: '合法稳定就业' }, idempotencyKey: 'sun-mcp-rp01' }, /上海市户籍/],
        [TOOL.submitApplication, { serviceId: 'criminal_record_certificate' }, /请求参数不正确：缺少必填参数「values」/],
        [TOOL.searchServices, { query: '' }, /请求参数不正确：「query」/],
        [TOOL.getApplicationStatus, { applicationId: 'SA00000000000000' }, /未找到该办件/],
      ];
      for (const [name, args, message] of cases) {
        const r = (await client.callTool({ name, arguments: args })) as ToolResult;
        expect(r.isError, name).toBe(true);
        expect(text(r)).toMatch(message);
      }
    });

    it('searches services, reads a guide and creates a handoff', async () => {
      const s = (await client.callTool({ name: TOOL.searchServices, arguments: { query: '我想办社保卡' } })) as ToolResult;
      expect((s.structuredContent!.services as { id: string }[])[0]?.id).toBe('social_security_card');
      const g = (await client.callTool({ name: TOOL.getServiceGuide, arguments: { serviceId: 'criminal_record_certificate' } })) as ToolResult;
      expect(g.structuredContent).toMatchObject({ serviceId: 'criminal_record_certificate' });
      const h = (await client.callTool({ name: TOOL.createHandoff, arguments: { reason: 'citizen_request', transcript: [{ role: 'citizen', text: '转人工' }] } })) as ToolResult;
      expect(h.structuredContent).toMatchObject({ status: 'waiting', reason: 'citizen_request' });
    });

    it('never shows citizen B\'s application to citizen A', async () => {
      const zhaoClient = await connectInProcess(ctx, zhao);
      try {
        const r = (await zhaoClient.callTool({ name: TOOL.submitApplication, arguments: { serviceId: 'criminal_record_certificate', values: { purpose: '就业' }, idempotencyKey: 'zhao-mcp-0001' } })) as ToolResult;
        const app = r.structuredContent!.application as { id: string; status: string; statusMessage: string };
        expect(app.status).toBe('under_review');
        expect(app.statusMessage).not.toMatch(/记录|犯罪/);
        const peek = (await client.callTool({ name: TOOL.getApplicationStatus, arguments: { applicationId: app.id } })) as ToolResult;
        expect(peek.isError).toBe(true);
        expect(text(peek)).toMatch(/未找到该办件/);
        // Naming B in the arguments is refused: no tool takes a citizen.
        for (const name of [TOOL.getMyProfile, TOOL.listMyLicences, TOOL.listMyApplications]) {
          const r = (await client.callTool({ name, arguments: { citizenId: 'c-zhao-lei' } })) as ToolResult;
          expect(r.isError, name).toBe(true);
          expect(JSON.stringify(r)).not.toMatch(/zhao-lei|0514|赵磊/);
        }
        const apps = (await client.callTool({ name: TOOL.listMyApplications, arguments: {} })) as ToolResult;
        expect((apps.structuredContent!.applications as { id: string }[]).map((a) => a.id)).not.toContain(app.id);
      } finally {
        await zhaoClient.close();
      }
    });
  });

  describe('withdrawal over MCP', () => {
    it('withdraws the connection\'s own unprocessed application, and no one else\'s', async () => {
      const lin = (await ctx.identity.login({ method: 'sandbox', citizenId: 'c-lin-xiao' })).principal;
      const linClient = await connectInProcess(ctx, lin);
      const sunClient = await connectInProcess(ctx, sun);
      try {
        const made = (await linClient.callTool({ name: TOOL.submitApplication, arguments: { serviceId: 'social_security_card', values: { delivery_method: '网点自取' }, idempotencyKey: 'lin-mcp-wd-0001' } })) as ToolResult;
        const id = (made.structuredContent!.application as { id: string }).id;
        const other = (await sunClient.callTool({ name: TOOL.withdrawApplication, arguments: { applicationId: id } })) as ToolResult;
        expect(other.isError).toBe(true);
        expect(text(other)).toMatch(/未找到该办件/);
        const done = (await linClient.callTool({ name: TOOL.withdrawApplication, arguments: { applicationId: id, reason: '不需要了' } })) as ToolResult;
        expect(done.isError).toBeFalsy();
        expect(done.structuredContent).toMatchObject({ id, status: 'withdrawn', withdrawable: false });
        const again = (await linClient.callTool({ name: TOOL.withdrawApplication, arguments: { applicationId: id } })) as ToolResult;
        expect(again.isError).toBe(true);
        expect(text(again)).toMatch(/不能撤回/);
        const audit = await ctx.db.pool.query(`SELECT actor_id FROM audit_log WHERE action = 'application.withdraw' AND what->>'applicationId' = $1`, [id]);
        expect(audit.rows).toEqual([{ actor_id: 'c-lin-xiao' }]);
      } finally {
        await linClient.close();
        await sunClient.close();
      }
    });
  });

  describe('over Streamable HTTP', () => {
    let app: ApiServer;
    let url: URL;
    let sunToken: string;
    let zhaoToken: string;
    beforeAll(async () => {
      app = await createApiServer(apiDeps(ctx));
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      url = new URL('/mcp', address);
      sunToken = (await ctx.identity.login({ method: 'sandbox', citizenId: 'c-sun-ming' })).token;
      zhaoToken = (await ctx.identity.login({ method: 'sandbox', citizenId: 'c-zhao-lei' })).token;
    });
    afterAll(async () => app?.close());

    const httpClient = async (token: string) => {
      const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
      const client = new Client({ name: 'http-test', version: '1.0.0' });
      await client.connect(transport);
      return { client, transport };
    };

    it('lists the tools and pre-fills for the bearer token\'s citizen', async () => {
      const { client, transport } = await httpClient(sunToken);
      try {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS);
        const r = (await client.callTool({ name: TOOL.prefillApplication, arguments: { serviceId: 'criminal_record_certificate' } })) as ToolResult;
        expect(Prefill.parse(r.structuredContent).fields.find((f) => f.key === 'id_number')?.value).toBe('310101********2038'); // masked, as over HTTP
        expect(transport.sessionId).toEqual(expect.any(String));
      } finally {
        await client.close();
      }
    });

    it('refuses requests without a valid token (401) and another citizen\'s use of a session (404)', async () => {
      const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      const none = await fetch(url, { method: 'POST', headers, body: JSON.stringify(init) });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
      expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/请先登录/);
      expect((await fetch(url, { method: 'POST', headers: { ...headers, authorization: 'Bearer forged' }, body: JSON.stringify(init) })).status).toBe(401);

      const { client, transport } = await httpClient(sunToken);
      try {
        const hijack = await fetch(url, {
          method: 'POST',
          headers: { ...headers, authorization: `Bearer ${zhaoToken}`, 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-06-18' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: TOOL.getMyProfile, arguments: {} } }),
        });
        expect(hijack.status).toBe(404);
        expect(await hijack.text()).not.toContain('孙明');
      } finally {
        await client.close();
      }
    });
  });

  describe('over stdio in a separate process', () => {
    it('spawns `npx tsx app/mcp-stdio.ts` with a citizen token, lists the tools and pre-fills', async () => {
      // The child opens its own (in-memory) database; the token is signed with the shared secret.
      const { token } = await ctx.identity.login({ method: 'sandbox', citizenId: 'c-sun-ming' });
      const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
      const transport = new StdioClientTransport({
        command: 'npx',
        args: ['tsx', 'app/mcp-stdio.ts'],
        cwd: ROOT,
        env: { ...env, XIAOSHEN_TOKEN: token, TOKEN_SECRET: TEST_TOKEN_SECRET, DATA_DIR: 'memory://', LOG_LEVEL: 'warn', NODE_ENV: 'test' },
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
      const client = new Client({ name: 'stdio-test', version: '1.0.0' });
      try {
        await client.connect(transport);
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS);
        const r = (await client.callTool({ name: TOOL.prefillApplication, arguments: { serviceId: 'criminal_record_certificate', values: { purpose: '出国(境)' } } })) as ToolResult;
        const p = Prefill.parse(r.structuredContent);
        expect(p.fields.find((f) => f.key === 'name')?.value).toBe('孙明');
        expect(p.missing).toEqual(['destination']);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nstderr: ${stderr}`);
      } finally {
        await client.close();
      }
    }, 120_000);
  });
});
