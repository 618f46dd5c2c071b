import type { AppContext } from '../core/context.js';
import { createApiServer } from '../tools/http/app.js';
import { authenticateRequest } from '../tools/http/auth.js';
import { createAgent, type Agent } from '../agent/create.js';
import { sessionRoutes } from './sessions/plugin.js';
import { SessionStore } from './sessions/store.js';
import { channelRoutes, createChannelKit } from './web/index.js';

export { BODY_LIMIT, VERSION } from '../tools/http/app.js';

/**
 * The HTTP server: the sandbox service API, the MCP endpoint at /mcp, OpenAPI docs at /docs,
 * one error shape (`{"error": {"code", "message"}}`, Chinese message) for every failure.
 */
export async function buildServer(ctx: AppContext, opts: { agent?: Agent } = {}) {
  const agent = opts.agent ?? (await createAgent(ctx));
  // The sandbox service API, MCP at /mcp, OpenAPI at /docs, logging, validation, errors.
  const app = await createApiServer(ctx);

  // Agent conversations: the session routes and their WebSocket.
  // Citizen channels (channels/web, voice, live): pages, TTS, voice frames and live staff replies on the socket.
  const channels = createChannelKit(ctx);
  app.addHook('onClose', async () => channels.close());
  await app.register(sessionRoutes, {
    agent: agent.runtime,
    sessions: new SessionStore(ctx.db.pool),
    principalOf: (req) => authenticateRequest(ctx.identity, req),
    socket: channels.socket,
  });
  await app.register(channelRoutes, { kit: channels });
  app.addHook('onClose', async () => agent.close());

  return app;
}

export type AppServer = Awaited<ReturnType<typeof buildServer>>;
