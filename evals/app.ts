/**
 * The product, started in process for the eval: the production composition root (app/context,
 * app/agent, app/server) on the configured database, driven through its HTTP routes with the
 * harness client. The database is the embedded in-memory one unless DATABASE_URL is set, in
 * which case the eval uses (and writes into) that Postgres server.
 */
import { loadConfig, type Config } from '../core/config.js';
import { createAgent, type Agent } from '../app/agent.js';
import { createAppContext, type AppContext } from '../app/context.js';
import { buildServer, type AppServer } from '../app/server.js';
import { resetCitizenHistory } from '../tools/sandbox/reset.js';
import { HarnessClient } from './client.js';

export type EngineChoice = 'local' | 'llm';

/**
 * The eval's configuration: the environment (DATABASE_URL honoured), silent logs, test mode,
 * an in-memory embedded database when no DATABASE_URL is set. The local engine never sees a
 * model key (the app picks the model path whenever one is configured).
 */
export function evalConfig(engine: EngineChoice, env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const e: NodeJS.ProcessEnv = { ...env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: 'memory://' };
  if (!e.DATABASE_URL) delete e.DATABASE_URL;
  const config = loadConfig(e, overrides);
  return engine === 'local' ? { ...config, OPENAI_API_KEY: undefined } : config;
}

/** Where the eval's data lives, for the printout (a server URL without its password). */
export function describeDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>): string {
  if (!config.DATABASE_URL) return config.DATA_DIR.startsWith('memory://') ? 'in-memory embedded database (PGlite)' : `embedded database in ${config.DATA_DIR}`;
  try {
    const u = new URL(config.DATABASE_URL);
    if (u.password) u.password = '***';
    return `Postgres server from DATABASE_URL: ${u.toString()}`;
  } catch {
    return 'Postgres server from DATABASE_URL';
  }
}

export interface EvalApp {
  config: Config;
  ctx: AppContext;
  agent: Agent;
  server: AppServer;
  client: HarnessClient;
  /** What `describeDatabase` says of the database in use. */
  database: string;
  /** Removes a citizen's applications (and what hangs off them), so an item meets them fresh. */
  resetCitizen(citizenId: string): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Reuse an app context (its database) instead of creating one; it is not closed by `close()`. */
  ctx?: AppContext;
  /** Overrides on top of the eval configuration (e.g. OPENAI_BASE_URL of a stand-in). */
  config?: Partial<Config>;
}

/** createAppContext + createAgent + buildServer, rate limits off (one identity sends hundreds of turns). */
export async function startEvalApp(engine: EngineChoice, opts: StartOptions = {}): Promise<EvalApp> {
  const base = opts.ctx?.config ?? evalConfig(engine);
  const config: Config = { ...base, ...opts.config, ...(engine === 'local' ? { OPENAI_API_KEY: undefined } : {}) };
  if (engine === 'llm' && !config.OPENAI_API_KEY) {
    throw new Error('the llm engine needs OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible endpoint)');
  }
  const ownCtx = !opts.ctx;
  const ctx = opts.ctx ?? (await createAppContext(config));
  const scoped: AppContext = { ...ctx, config };
  let agent: Agent | undefined;
  try {
    agent = await createAgent(scoped);
    const server = await buildServer(scoped, { agent, limits: { ipMax: 0, identityMax: 0 } });
    await server.ready();
    let closed = false;
    return {
      config,
      ctx: scoped,
      agent,
      server,
      client: new HarnessClient(server),
      database: describeDatabase(config),
      resetCitizen: (citizenId) => resetCitizenHistory(ctx.db.pool, citizenId),
      async close() {
        if (closed) return;
        closed = true;
        await server.close().catch(() => undefined);
        if (ownCtx) await ctx.close().catch(() => undefined);
      },
    };
  } catch (err) {
    await agent?.close().catch(() => undefined);
    if (ownCtx) await ctx.close().catch(() => undefined);
    throw err;
  }
}
