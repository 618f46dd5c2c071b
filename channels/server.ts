import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyRequest } from 'fastify';
import { createJsonSchemaTransform, serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext } from '../core/context.js';
import { maskSensitiveText } from '../core/mask.js';
import { errorHandler, notFoundHandler } from '../tools/http/errors.js';
import { govApiPlugin } from '../tools/http/plugin.js';
import { zhValidatorCompiler } from '../tools/http/zod-compiler.js';
import { mcpHttpPlugin } from '../tools/mcp/http.js';
import { authenticateRequest } from '../tools/http/auth.js';
import { createAgent, type Agent } from '../agent/create.js';
import { sessionRoutes } from './sessions/plugin.js';
import { SessionStore } from './sessions/store.js';
import { channelRoutes, createChannelKit } from './web/index.js';

/** Request bodies above this are refused with 413 (the MCP endpoint allows 4 MB for transcripts). */
export const BODY_LIMIT = 256 * 1024;
export const VERSION = '0.1.0';

/**
 * The HTTP server: the sandbox service API, the MCP endpoint at /mcp, OpenAPI docs at /docs,
 * one error shape (`{"error": {"code", "message"}}`, Chinese message) for every failure.
 */
export async function buildServer(ctx: AppContext, opts: { agent?: Agent } = {}) {
  const agent = opts.agent ?? (await createAgent(ctx));
  // Request logs carry the URL with ID numbers and phone numbers masked (bodies are never logged).
  const log = ctx.log.child({ component: 'http' }, {
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: maskSensitiveText(req.url), remoteAddress: req.ip }),
    },
  });
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(zhValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await app.register(swagger, {
    openapi: {
      info: { title: '小申智能办 API', description: '上海“一网通办”对话式办事助手：沙箱政务服务、登录、工作人员后台。', version: VERSION },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: createJsonSchemaTransform({ skipList: ['/docs', '/docs/*', '/docs/json', '/docs/yaml', '/docs/static/*', '/docs/initOAuth', '/docs/uiConfig'] }),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(govApiPlugin, { gov: ctx.gov, identity: ctx.identity, dbKind: ctx.db.kind, version: VERSION });
  await app.register(mcpHttpPlugin, { gov: ctx.gov, identity: ctx.identity, log: ctx.log, path: '/mcp' });

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
