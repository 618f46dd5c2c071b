import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundlePrefill, OfferList, SubmitBundleResult, SubmitResult, TOOL } from '../contract.js';
import { createTestContext, TEST_TOKEN_SECRET } from '../../test/context.js';
import { startServerProcess, type ServerProcess } from '../../test/server-process.js';

/**
 * 免申即享 and 一件事 through MCP, the SDK client and the server in different processes: the
 * server as `npm start` runs it (Streamable HTTP at /mcp) and as the stdio entry point.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
type ToolResult = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown> };
const BABY = { baby_name: '王小宝', hukou_with: '随母亲落户', delivery_method: '网点自取' };

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

/** The whole 刘芳 story over one MCP connection: the offer taken up, then the birth bundle. */
async function liuStory(client: Client): Promise<void> {
  const offers = OfferList.parse((await call(client, TOOL.listMyOffers, {})).structuredContent).offers;
  const m = offers.find((o) => o.serviceId === 'maternity_allowance')!;
  expect(m.why).toEqual(['您于10月2日生育', '已参加本市生育保险']);
  expect(m.amount?.value).toBe(47400);
  const took = SubmitResult.parse((await call(client, TOOL.submitApplication, { serviceId: 'maternity_allowance', values: {}, idempotencyKey: 'mcp-liu-offer-1' })).structuredContent);
  expect(took.application.status).toBe('submitted');
  expect(OfferList.parse((await call(client, TOOL.listMyOffers, {})).structuredContent).offers.map((o) => o.serviceId)).not.toContain('maternity_allowance');

  const pre = BundlePrefill.parse((await call(client, TOOL.prefillBundle, { bundleId: 'newborn_one_thing' })).structuredContent);
  expect(pre.missing).toEqual(['baby_name', 'hukou_with', 'delivery_method']);
  expect(pre.members.find((x) => x.serviceId === 'maternity_allowance')).toMatchObject({ applies: false, reason: expect.stringMatching(/已申请过/) });
  const first = SubmitBundleResult.parse((await call(client, TOOL.submitBundle, { bundleId: 'newborn_one_thing', values: BABY, idempotencyKey: 'mcp-liu-birth-1' })).structuredContent);
  expect(first.duplicate).toBe(false);
  expect(first.bundle.applications.map((a) => a.serviceId)).toEqual(['newborn_hukou', 'newborn_medical_insurance', 'newborn_social_security_card']);
  const replay = SubmitBundleResult.parse((await call(client, TOOL.submitBundle, { bundleId: 'newborn_one_thing', values: BABY, idempotencyKey: 'mcp-liu-birth-1' })).structuredContent);
  expect(replay.duplicate).toBe(true);
  expect(replay.bundle.applications.map((a) => a.id)).toEqual(first.bundle.applications.map((a) => a.id));
  const status = await call(client, TOOL.getBundleStatus, { bundleApplicationId: first.bundle.id });
  expect((status.structuredContent!.applications as unknown[]).length).toBe(3);
  const declined = await call(client, TOOL.answerOffer, { offerId: 'childcare_subsidy_offer', answer: 'declined' });
  expect(declined.isError).toBeFalsy();
  expect(OfferList.parse((await call(client, TOOL.listMyOffers, {})).structuredContent).offers).toEqual([]);
}

describe('over Streamable HTTP to the product in its own process', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ DATA_DIR: 'memory://', TOKEN_SECRET: TEST_TOKEN_SECRET });
  }, 120_000);
  afterAll(async () => server?.kill());

  it('offers, takes up and bundles for 刘芳; another citizen sees none of it', async () => {
    const login = async (citizenId: string) => ((await (await fetch(`${server.url}/api/auth/sandbox-login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ citizenId }),
    })).json()) as { token: string }).token;
    const connect = async (token: string) => {
      const client = new Client({ name: 'http-offers-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', server.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      return client;
    };
    const liu = await connect(await login('c-liu-fang'));
    const sun = await connect(await login('c-sun-ming'));
    try {
      await liuStory(liu);
      expect(OfferList.parse((await call(sun, TOOL.listMyOffers, { all: true })).structuredContent).offers).toEqual([]);
      const peek = await call(sun, TOOL.getBundleStatus, { bundleApplicationId: 'BA20261201000001' });
      expect(peek.isError).toBe(true);
      expect(JSON.stringify(peek)).not.toMatch(/刘芳|王小宝/);
    } finally {
      await liu.close();
      await sun.close();
    }
  }, 120_000);
});

describe('over stdio, the server a child process', () => {
  it('runs the same story through `npx tsx app/mcp-stdio.ts`', async () => {
    // The child opens its own (in-memory) database; the token is signed with the shared secret.
    const ctx = await createTestContext('pglite');
    const { token } = await ctx.identity.login({ method: 'sandbox', citizenId: 'c-liu-fang' });
    await ctx.close();
    const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const transport = new StdioClientTransport({
      command: 'npx', args: ['tsx', 'app/mcp-stdio.ts'], cwd: ROOT, stderr: 'pipe',
      env: { ...env, XIAOSHEN_TOKEN: token, TOKEN_SECRET: TEST_TOKEN_SECRET, DATA_DIR: 'memory://', LOG_LEVEL: 'warn', NODE_ENV: 'test' },
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const client = new Client({ name: 'stdio-offers-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      await liuStory(client);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nstderr: ${stderr}`);
    } finally {
      await client.close();
    }
  }, 180_000);
});
