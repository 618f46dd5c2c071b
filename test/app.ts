import type { AppServer } from '../app/server.js';
import { loadConfig, type Config } from '../core/config.js';
import { createAppContext, type AppContext, type AppContextOptions } from '../app/context.js';
import { buildServer } from '../app/server.js';
import type { Turn } from '../agent/turn.js';
import { resetCitizenHistory } from '../tools/sandbox/reset.js';
import { createAgent, type Agent } from '../app/agent.js';

/**
 * A real app for tests: the production context and fastify server on an in-memory
 * database, driven through the public HTTP API (fastify inject, or a real port).
 */
export interface TestApp {
  ctx: AppContext;
  app: AppServer;
  /** The agent behind the app (its runtime, NLU engine and, with a key, the model path). */
  agent: Agent;
  login(citizenId: string): Promise<string>;
  staffToken(): Promise<string>;
  session(token: string | null, channel?: 'app' | 'kiosk'): Promise<string>;
  /** Citizens meet the next test fresh: their applications, certificates, handoffs removed (sandbox only). */
  reset(...citizenIds: string[]): Promise<void>;
  say(sessionId: string, token: string | null, text: string): Promise<Turn>;
  close(): Promise<void>;
}

/** `serverOpts`: buildServer options other than the agent (e.g. rate limits for the limit tests). */
export async function startTestApp(
  overrides: Partial<Config> = {},
  serverOpts: Omit<NonNullable<Parameters<typeof buildServer>[1]>, 'agent'> = {},
  ctxOpts: AppContextOptions = {},
): Promise<TestApp> {
  // No model unless a test asks for one (a developer's OPENAI_API_KEY must not reach tests).
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' }, { DATA_DIR: 'memory://', LOG_LEVEL: 'silent', OPENAI_API_KEY: undefined, ...overrides });
  const ctx = await createAppContext(config, ctxOpts);
  const agent = await createAgent(ctx);
  const app = await buildServer(ctx, { ...serverOpts, agent });
  await app.ready();
  const auth = (token: string | null) => (token ? { authorization: `Bearer ${token}` } : {});
  return {
    ctx,
    app,
    agent,
    async login(citizenId) {
      const r = await app.inject({ method: 'POST', url: '/api/auth/sandbox-login', payload: { citizenId } });
      if (r.statusCode !== 200) throw new Error(`login ${citizenId}: ${r.statusCode} ${r.body}`);
      return r.json<{ token: string }>().token;
    },
    async staffToken() {
      const r = await app.inject({
        method: 'POST', url: '/api/auth/staff-login',
        payload: { username: config.STAFF_USERNAME, password: config.STAFF_PASSWORD },
      });
      if (r.statusCode !== 200) throw new Error(`staff login: ${r.statusCode} ${r.body}`);
      return r.json<{ token: string }>().token;
    },
    async session(token, channel = 'app') {
      const r = await app.inject({ method: 'POST', url: '/api/sessions', headers: auth(token), payload: { channel } });
      if (r.statusCode !== 201) throw new Error(`session: ${r.statusCode} ${r.body}`);
      return r.json<{ sessionId: string }>().sessionId;
    },
    async reset(...citizenIds) {
      const ids = citizenIds.length ? citizenIds : (await ctx.db.pool.query<{ id: string }>('SELECT id FROM citizens')).rows.map((r) => r.id);
      for (const id of ids) await resetCitizenHistory(ctx.db.pool, id);
    },
    async say(sessionId, token, text) {
      const r = await app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/messages`, headers: auth(token), payload: { text } });
      if (r.statusCode !== 200) throw new Error(`message "${text}": ${r.statusCode} ${r.body}`);
      return r.json<Turn>();
    },
    async close() {
      await app.close();
      await ctx.close();
    },
  };
}
