import type { AppContext } from '../core/context.js';
import { createApiServer } from '../tools/http/app.js';
import { authenticateRequest } from '../tools/http/auth.js';
import { createAgent, type Agent } from '../agent/create.js';
import { Metrics, instrumentAgent, registerMetrics } from './metrics/index.js';
import { cachedTokenVerifier, limitsFromEnv, registerSecurity, type LimitsConfig } from './security/index.js';
import { sessionRoutes } from './sessions/plugin.js';
import { SessionStore } from './sessions/store.js';
import { channelRoutes, createChannelKit } from './web/index.js';

export { BODY_LIMIT, VERSION } from '../tools/http/app.js';

/**
 * The HTTP server: the sandbox service API, the MCP endpoint at /mcp, OpenAPI docs at /docs,
 * one error shape (`{"error": {"code", "message"}}`, Chinese message) for every failure.
 */
export async function buildServer(ctx: AppContext, opts: { agent?: Agent; limits?: Partial<LimitsConfig>; metricsToken?: string } = {}) {
  const agent = opts.agent ?? (await createAgent(ctx));
  // The sandbox service API, MCP at /mcp, OpenAPI at /docs, logging, validation, errors.
  const app = await createApiServer(ctx);

  // Security headers, per-IP and per-identity rate limits (RATE_LIMIT_* env), /metrics.
  const metrics = new Metrics();
  const security = await registerSecurity(app, { ...limitsFromEnv(process.env, ctx.config.NODE_ENV), ...opts.limits }, {
    onLimited: (scope) => metrics.rateLimited.inc({ scope }),
  });
  await registerMetrics(app, metrics, { token: opts.metricsToken ?? process.env.METRICS_TOKEN });
  // Turns see the same bearer token again and again: verified once, then cached briefly.
  const identity = { ...ctx.identity, verifyToken: cachedTokenVerifier((t) => ctx.identity.verifyToken(t)) };

  // Agent conversations: the session routes and their WebSocket.
  // Citizen channels (channels/web, voice, live): pages, TTS, voice frames and live staff replies on the socket.
  const channels = createChannelKit(ctx);
  app.addHook('onClose', async () => channels.close());
  await app.register(sessionRoutes, {
    agent: instrumentAgent(agent.runtime, metrics),
    sessions: new SessionStore(ctx.db.pool),
    principalOf: (req) => authenticateRequest(identity, req),
    socket: channels.socket,
    turnLimit: security.turnLimit,
  });
  await app.register(channelRoutes, { kit: channels });
  app.addHook('onClose', async () => agent.close());

  return app;
}

export type AppServer = Awaited<ReturnType<typeof buildServer>>;
