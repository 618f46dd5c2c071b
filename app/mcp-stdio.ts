import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { pino } from 'pino';
import { z } from 'zod';
import { loadConfig, type Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import type { CitizenPrincipal, Principal } from '../tools/identity/principal.js';
import { createMcpServer } from '../tools/mcp/server.js';
import { createAppContext, type AppContext } from './context.js';

/**
 * `npm run -s mcp`: the MCP tools over stdio for a local MCP client (`-s` keeps npm's own
 * banner off stdout, which carries the protocol; logs go to stderr). The acting citizen is
 * fixed for the process, one of two ways:
 *
 * - XIAOSHEN_TOKEN: a citizen token, e.g. from POST /api/auth/sandbox-login of a running
 *   server. It verifies only with that server's TOKEN_SECRET: unset, each DATA_DIR generates
 *   its own, so both processes must be started with the same exported TOKEN_SECRET. The token
 *   is checked again before every tool call, so once it expires or is revoked (logout; seen
 *   when both share the database) the tools refuse.
 * - XIAOSHEN_CITIZEN: a sandbox citizen id; the process logs the citizen in itself through the
 *   sandbox login (audited like any login). That login exists only outside production, so
 *   with NODE_ENV=production this is refused and a token is required.
 *
 * The database comes from the usual configuration. An embedded PGlite data dir must not be
 * open in two processes at once: beside a running server use DATABASE_URL or another DATA_DIR.
 */
const emptyAsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const StdioEnv = z.object({
  XIAOSHEN_TOKEN: z.preprocess(emptyAsUnset, z.string().trim().max(4096).optional()),
  XIAOSHEN_CITIZEN: z.preprocess(emptyAsUnset, z.string().trim().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a citizen id such as c-sun-ming').optional()),
});

const HOW_TO = [
  'Development: XIAOSHEN_CITIZEN=c-sun-ming DATA_DIR=./data-mcp npm run -s mcp (this process logs the sandbox citizen in itself).',
  'With a token: start the server and this process with the same exported TOKEN_SECRET (32+ characters; without it every DATA_DIR',
  'generates its own secret, so a token from one does not verify in the other), log in with POST /api/auth/sandbox-login,',
  'and pass the token as XIAOSHEN_TOKEN.',
].join('\n  ');

/** A start-up problem the person running the command can fix: said plainly on stderr, exit code 2. */
class UsageError extends Error {}

function fail(message: string): never {
  throw new UsageError(message);
}

/** Who acts in this process, and the check before each tool call. */
async function actingCitizen(ctx: AppContext, env: z.output<typeof StdioEnv>): Promise<{ principal: CitizenPrincipal; authorize?: () => Promise<void> }> {
  if (env.XIAOSHEN_CITIZEN) {
    const id = env.XIAOSHEN_CITIZEN;
    let principal: Principal;
    try {
      principal = (await ctx.identity.login({ method: 'sandbox', citizenId: id })).principal;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      fail(`XIAOSHEN_CITIZEN=${id} was refused: ${err.message}`);
    }
    if (principal.kind !== 'citizen') fail(`XIAOSHEN_CITIZEN=${id} is not a citizen.`);
    return { principal };
  }
  const token = env.XIAOSHEN_TOKEN!;
  let principal: Principal;
  try {
    principal = await ctx.identity.verifyToken(token);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    fail(`XIAOSHEN_TOKEN was refused (${err.message}). A token verifies only with the TOKEN_SECRET of the server that issued it,\n  `
      + `and only until it expires (TOKEN_TTL_SECONDS).\n  ${HOW_TO}`);
  }
  if (principal.kind !== 'citizen') fail('XIAOSHEN_TOKEN must be a citizen token (sandbox or 随申办 login), not a staff token.');
  let warned = false;
  return {
    principal,
    authorize: async () => {
      try {
        await ctx.identity.verifyToken(token);
      } catch (err) {
        if (!warned) ctx.log.warn({ citizen: principal.citizenId }, 'XIAOSHEN_TOKEN expired or was revoked: tool calls are refused; restart with a new token');
        warned = true;
        throw err;
      }
    },
  };
}

function readEnv(config: Config): z.output<typeof StdioEnv> {
  const parsed = StdioEnv.safeParse(process.env);
  if (!parsed.success) fail(`invalid ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const env = parsed.data;
  if (env.XIAOSHEN_TOKEN && env.XIAOSHEN_CITIZEN) fail('set XIAOSHEN_TOKEN or XIAOSHEN_CITIZEN, not both.');
  if (!env.XIAOSHEN_TOKEN && !env.XIAOSHEN_CITIZEN) fail(`no citizen: set XIAOSHEN_CITIZEN or XIAOSHEN_TOKEN.\n  ${HOW_TO}`);
  if (env.XIAOSHEN_CITIZEN && config.NODE_ENV === 'production') {
    fail('XIAOSHEN_CITIZEN uses the sandbox login, which is disabled with NODE_ENV=production: pass XIAOSHEN_TOKEN '
      + '(a citizen token signed with this deployment\'s TOKEN_SECRET) instead.');
  }
  return env;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const env = readEnv(config);
  const log = createLogger(config.LOG_LEVEL, 'xiaoshen-mcp', pino.destination(2));
  const ctx = await createAppContext(config, { log });
  let acting;
  try {
    acting = await actingCitizen(ctx, env);
  } catch (err) {
    await ctx.close().catch(() => undefined);
    throw err;
  }
  const { principal } = acting;
  const server = createMcpServer(ctx.gov, principal, { log, ...(acting.authorize ? { authorize: acting.authorize } : {}) });
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => undefined);
    await ctx.close().catch(() => undefined);
    process.exit(0);
  };
  transport.onclose = () => void shutdown();
  process.stdin.on('end', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  await server.connect(transport);
  log.info({ citizen: principal.citizenId, via: env.XIAOSHEN_CITIZEN ? 'XIAOSHEN_CITIZEN' : 'XIAOSHEN_TOKEN' }, 'MCP stdio server ready');
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || (err instanceof Error && err.message.startsWith('Invalid configuration'))) {
    process.stderr.write(`xiaoshen-mcp: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
