import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { pino } from 'pino';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { createMcpServer } from '../tools/mcp/server.js';
import { createAppContext } from './context.js';

/**
 * `npm run mcp`: the tools over stdio for a local MCP client. The acting citizen comes from
 * XIAOSHEN_TOKEN (a citizen token from /api/auth/sandbox-login, signed with the same
 * TOKEN_SECRET or DATA_DIR/token-secret); the database from the usual configuration. stdout
 * carries the protocol, so logs go to stderr. Note that an embedded PGlite data dir must
 * not be open in two processes at once: beside a running server use DATABASE_URL or
 * another DATA_DIR.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, 'xiaoshen-mcp', pino.destination(2));
  const token = process.env.XIAOSHEN_TOKEN;
  if (!token) {
    log.fatal('XIAOSHEN_TOKEN is not set: log in (POST /api/auth/sandbox-login) and pass the token');
    process.exit(2);
  }
  const ctx = await createAppContext(config, { log });
  let principal;
  try {
    principal = await ctx.identity.verifyToken(token);
  } catch {
    log.fatal('XIAOSHEN_TOKEN is invalid or expired');
    await ctx.close();
    process.exit(2);
  }
  if (principal.kind !== 'citizen') {
    log.fatal('XIAOSHEN_TOKEN must be a citizen token');
    await ctx.close();
    process.exit(2);
  }
  const server = createMcpServer(ctx.gov, principal, { log });
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
  log.info({ citizen: principal.citizenId }, 'MCP stdio server ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
