import { createChannelKit, channelRoutes } from '../channels/web/index.js';
import { Metrics, instrumentAgent, registerMetrics } from '../channels/metrics/index.js';
import { cachedTokenVerifier, limitsFromConfig, registerSecurity, type LimitsConfig } from '../channels/security/index.js';
import { sessionRoutes } from '../channels/sessions/plugin.js';
import { SessionStore } from '../channels/sessions/store.js';
import { createApiServer } from '../tools/http/app.js';
import { authenticateRequest } from '../tools/http/auth.js';
import { createAgent, type Agent } from './agent.js';
import type { AppContext } from './context.js';

export { BODY_LIMIT, VERSION } from '../tools/http/app.js';

/**
 * The HTTP server, composed: the sandbox service API, the MCP endpoint at /mcp, OpenAPI docs
 * at /docs, security headers and limits, /metrics, the agent's session routes and WebSocket,
 * and the citizen channels (pages, voice, live staff replies). One error shape
 * (`{"error": {"code", "message"}}`, Chinese message) for every failure.
 */
export async function buildServer(ctx: AppContext, opts: { agent?: Agent; limits?: Partial<LimitsConfig>; metricsToken?: string } = {}) {
  const agent = opts.agent ?? (await createAgent(ctx));
  const sessions = new SessionStore(ctx.db.pool);
  // The service API checks session ownership and builds handoff transcripts from the server's own record.
  ctx.gov.useSessions({
    owner: (id) => sessions.ownerOf(id),
    transcript: async (id) => (await agent.runtime.view(id)).transcript,
  });
  const app = await createApiServer({ gov: ctx.gov, identity: ctx.identity, log: ctx.log, dbKind: ctx.db.kind });

  const metrics = new Metrics();
  const security = await registerSecurity(app, { ...limitsFromConfig(ctx.config), ...opts.limits }, {
    onLimited: (scope) => metrics.rateLimited.inc({ scope }),
  });
  await registerMetrics(app, metrics, { token: opts.metricsToken ?? ctx.config.METRICS_TOKEN, production: ctx.config.NODE_ENV === 'production' });
  // Turns see the same bearer token again and again: verified once, then cached briefly.
  const verify = cachedTokenVerifier((t) => ctx.identity.verifyToken(t), { ttlMs: 15_000 });
  const identity = {
    ...ctx.identity,
    verifyToken: verify,
    // A token taken back is forgotten by the cache at once on this instance (others within 15 s).
    revoke: async (token: string, reason: string) => {
      verify.forget(token);
      await ctx.identity.revoke(token, reason);
    },
  };

  const channels = createChannelKit(ctx);
  app.addHook('onClose', async () => channels.close());
  await app.register(sessionRoutes, {
    agent: instrumentAgent(agent.runtime, metrics),
    sessions,
    principalOf: (req) => authenticateRequest(identity, req),
    socket: channels.socket,
    turnLimit: security.turnLimit,
    tokens: identity,
    // The page resets after KIOSK_IDLE_SECONDS; the server ends the visit a little after that.
    kioskIdleSeconds: ctx.config.KIOSK_IDLE_SECONDS + Math.min(30, ctx.config.KIOSK_IDLE_SECONDS),
  });
  await app.register(channelRoutes, { kit: channels });
  app.addHook('onClose', async () => agent.close());

  return app;
}

export type AppServer = Awaited<ReturnType<typeof buildServer>>;
