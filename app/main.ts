import { loadConfig } from '../core/config.js';
import { createAppContext } from './context.js';
import { buildServer } from './server.js';

/** `npm start`: configuration, context (database, identity, services), HTTP server, graceful shutdown. */
async function main(): Promise<void> {
  const config = loadConfig();
  const ctx = await createAppContext(config);
  const app = await buildServer(ctx);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    try {
      await app.close();
      await ctx.close();
      process.exit(0);
    } catch (err) {
      ctx.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  ctx.log.info({ address, docs: `${address}/docs`, mcp: `${address}/mcp` }, '小申智能办 ready');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
