import { createServer as createHttpServer } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyRequest } from 'fastify';
import { createJsonSchemaTransform, serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../../core/log.js';
import { maskSensitiveText } from '../../core/mask.js';
import type { IdentityProvider } from '../identity/provider.js';
import type { GovService } from '../sandbox/gov-service.js';
import { mcpHttpPlugin } from '../mcp/http.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { govApiPlugin } from './plugin.js';
import { zhValidatorCompiler } from './zod-compiler.js';

/** Request bodies above this are refused with 413 (the MCP endpoint allows 4 MB for transcripts). */
export const BODY_LIMIT = 256 * 1024;
export const VERSION = '0.1.0';

/**
 * The fastify app with everything but the agent: pino logging with identifiers masked, zod
 * validation with Chinese messages, one error shape (`{"error": {"code", "message"}}`),
 * OpenAPI at /docs, the sandbox service API and the MCP endpoint at /mcp.
 * app/server.ts builds on it (sessions, channels); tests use it on its own.
 */
export interface ApiDeps {
  gov: GovService;
  identity: IdentityProvider;
  log: Logger;
  /** Shown by /api/health: 'pglite' or 'postgres'. */
  dbKind: string;
  /** MCP session limits (defaults: 1000 in all, 10 per identity). */
  mcp?: { maxSessions?: number; maxSessionsPerIdentity?: number };
  /** A request must arrive whole within this time (slow or stalled bodies are cut off); default 30 s. */
  requestTimeoutMs?: number;
}

export async function createApiServer(deps: ApiDeps) {
  // Request logs carry the URL with ID numbers and phone numbers masked (bodies are never logged).
  const log = deps.log.child({ component: 'http' }, {
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: maskSensitiveText(req.url).replace(/([?&](?:token|access_token)=)[^&]*/gi, '$1[masked]'), remoteAddress: req.ip }),
    },
  });
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: BODY_LIMIT,
    // An incomplete request is not waited for forever: after requestTimeoutMs it is answered 408
    // and the socket closed (checked every second, not node's default 30 s); headers must come
    // within 20 s; an idle keep-alive connection is closed after 10 s.
    serverFactory: (handler) => {
      const timeout = deps.requestTimeoutMs ?? 30_000;
      const server = createHttpServer({ requestTimeout: timeout, headersTimeout: Math.min(20_000, timeout), connectionsCheckingInterval: 1000, keepAliveTimeout: 10_000 }, handler);
      return server;
    },
    routerOptions: { ignoreTrailingSlash: true },
    // Malformed URLs (bad %-escapes) and over-long path parameters get the one error shape too,
    // instead of fastify's built-in English body.
    frameworkErrors: (err, req, reply) => errorHandler(err, req, reply),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(zhValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await app.register(swagger, {
    openapi: {
      info: { title: '小申智能办 API', description: '上海“一网通办”对话式办事助手：沙箱政务服务、登录、工作人员后台。会话的 WebSocket（GET /api/sessions/{id}/ws）协议见 [/docs/websocket](/docs/websocket)。', version: VERSION },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: createJsonSchemaTransform({ skipList: ['/docs', '/docs/*', '/docs/json', '/docs/yaml', '/docs/static/*', '/docs/initOAuth', '/docs/uiConfig'] }),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(govApiPlugin, { gov: deps.gov, identity: deps.identity, dbKind: deps.dbKind, version: VERSION });
  await app.register(mcpHttpPlugin, { gov: deps.gov, identity: deps.identity, log: deps.log, path: '/mcp', ...deps.mcp });
  return app;
}

export type ApiServer = Awaited<ReturnType<typeof createApiServer>>;
