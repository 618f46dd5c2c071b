import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../core/config.js';
import { createAgent } from './agent.js';
import { createAppContext } from './context.js';
import { buildServer } from './server.js';

/**
 * `--prepare`: fills the cache (CACHE_DIR) a start reuses — the trained NLU models and the
 * initialised empty embedded database — on a temporary data folder, then exits. Run when an
 * image is built, so that a container's first start on a new volume does not train or initdb.
 */
async function prepare(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'xiaoshen-prepare-'));
  try {
    const config = loadConfig({ ...process.env, DATA_DIR: dir, DATABASE_URL: '' });
    const ctx = await createAppContext(config);
    const agent = await createAgent(ctx);
    await agent.close();
    await ctx.close();
    ctx.log.info({ cache: ctx.cache?.dir ?? null }, 'cache prepared');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm start`: configuration, context (database, identity, services), HTTP server, graceful shutdown. */
async function main(): Promise<void> {
  if (process.argv.includes('--prepare')) {
    await prepare();
    process.exit(0);
  }
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
