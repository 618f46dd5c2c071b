import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { principalKey, type Principal } from '../../tools/identity/principal.js';

// Any server flavour (the app uses the zod type provider and a pino logger).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFastify = FastifyInstance<any, any, any, any, any>;

/**
 * Request limits and security headers for the whole server (registered by buildServer).
 *
 * - Per IP: every HTTP request (WebSocket upgrades included), RATE_LIMIT_IP_MAX per window.
 * - Per identity: what costs a turn — creating a session, a message over HTTP, a message or a
 *   voice clip over the WebSocket — RATE_LIMIT_IDENTITY_MAX per window for each citizen or
 *   staff member (anonymous callers count per IP).
 * - Headers: @fastify/helmet's (nosniff, frame and referrer policies, HSTS, COOP/CORP...), and a
 *   Content-Security-Policy on every response that has none of its own: the pages under
 *   channels/web set theirs (self-only, no inline code); OpenAPI /docs gets one that allows the
 *   inline style attributes Swagger UI renders.
 *
 * Counters are kept in memory per instance (see deploy/README.md for several replicas).
 */
export interface LimitsConfig {
  windowMs: number;
  /** Requests per window per client IP; 0 turns the limit off. */
  ipMax: number;
  /** Turns and new sessions per window per identity; 0 turns the limit off. */
  identityMax: number;
  /** Behind a reverse proxy: the client IP is the last X-Forwarded-For entry (the one the proxy added). */
  trustProxy: boolean;
}

/**
 * Limits from the configuration (defaults: 1,200 requests per IP and 120 turns per identity per
 * minute). Under NODE_ENV=test the limits are off unless RATE_LIMIT_IP_MAX /
 * RATE_LIMIT_IDENTITY_MAX are set: test suites and the eval harness drive hundreds of turns a
 * minute as one sandbox citizen from one address.
 */
export function limitsFromConfig(config: {
  NODE_ENV: string; RATE_LIMIT_WINDOW_MS: number; RATE_LIMIT_IP_MAX?: number | undefined; RATE_LIMIT_IDENTITY_MAX?: number | undefined; RATE_LIMIT_TRUST_PROXY: boolean;
}): LimitsConfig {
  const test = config.NODE_ENV === 'test';
  return {
    windowMs: config.RATE_LIMIT_WINDOW_MS,
    ipMax: config.RATE_LIMIT_IP_MAX ?? (test ? 0 : 1200),
    identityMax: config.RATE_LIMIT_IDENTITY_MAX ?? (test ? 0 : 120),
    trustProxy: config.RATE_LIMIT_TRUST_PROXY,
  };
}

/** Checks one turn (or new session) of `principal` against the identity limit; throws a 429 AppError. */
export type TurnLimiter = (req: FastifyRequest, principal: Principal | null) => Promise<void>;

export interface SecurityHooks {
  turnLimit: TurnLimiter;
  /** Called for each request refused by a limit (metrics). */
  onLimited?: (scope: 'ip' | 'identity') => void;
}

/** Content-Security-Policy for responses that set none: the app's own inline-free pages and JSON. */
export const DEFAULT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob: data:",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Swagger UI (/docs) loads only its own scripts but renders inline style attributes. */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export function rateLimited(retryAfterSeconds: number): AppError {
  return new AppError('rate_limited', 429, `操作太频繁了，请 ${Math.max(1, retryAfterSeconds)} 秒后再试。`, { retryAfterSeconds });
}

/** The client address used for the per-IP limit. */
export function clientIp(req: FastifyRequest, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const last = (Array.isArray(xff) ? xff.join(',') : xff ?? '').split(',').map((s) => s.trim()).filter(Boolean).at(-1);
    if (last) return last;
  }
  return req.ip;
}

/**
 * Registers helmet, the per-IP limit and the default CSP on `app` (root scope: they apply to
 * every route, including those registered before), and returns the per-identity limiter.
 */
export async function registerSecurity(app: AnyFastify, limits: LimitsConfig, hooks: { onLimited?: SecurityHooks['onLimited'] } = {}): Promise<SecurityHooks> {
  await app.register(helmet, {
    // CSP is set below, per response, so that a page's own policy is kept.
    contentSecurityPolicy: false,
    // The pages are same-origin; nothing is meant to be embedded cross-origin.
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (!reply.hasHeader('content-security-policy')) {
      reply.header('content-security-policy', req.url.startsWith('/docs') ? DOCS_CSP : DEFAULT_CSP);
    }
    return payload;
  });

  await app.register(rateLimit, { global: false });
  const ipKey = (req: FastifyRequest) => `ip:${clientIp(req, limits.trustProxy)}`;

  if (limits.ipMax > 0) {
    const perIp = app.createRateLimit({ max: limits.ipMax, timeWindow: limits.windowMs, keyGenerator: ipKey });
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const r = await perIp(req);
      if (r.isAllowed || !r.isExceeded) return;
      hooks.onLimited?.('ip');
      void reply.header('retry-after', r.ttlInSeconds);
      throw rateLimited(r.ttlInSeconds);
    });
  }

  const subject = new WeakMap<FastifyRequest, string>();
  const perIdentity = limits.identityMax > 0
    ? app.createRateLimit({
      max: limits.identityMax,
      timeWindow: limits.windowMs,
      keyGenerator: (req) => subject.get(req) ?? ipKey(req),
    })
    : null;

  return {
    onLimited: hooks.onLimited,
    async turnLimit(req, principal) {
      if (!perIdentity) return;
      subject.set(req, principal ? `id:${principalKey(principal)}` : `anon:${clientIp(req, limits.trustProxy)}`);
      const r = await perIdentity(req);
      if (r.isAllowed || !r.isExceeded) return;
      hooks.onLimited?.('identity');
      throw rateLimited(r.ttlInSeconds);
    },
  };
}

/**
 * Remembers verified bearer tokens for a short while (the session routes and the WebSocket see
 * the same token on every turn; an HMAC verification each time is wasted work). Only successful
 * verifications are kept, never past the token's own expiry, at most `max` of them.
 */
export function cachedTokenVerifier(
  verify: (token: string) => Promise<Principal>,
  opts: { ttlMs?: number; max?: number; now?: () => number } = {},
): ((token: string) => Promise<Principal>) & { forget(token: string): void } {
  const ttlMs = opts.ttlMs ?? 60_000;
  const max = opts.max ?? 10_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { principal: Principal; until: number }>();
  const verifyCached = async (token: string): Promise<Principal> => {
    const hit = cache.get(token);
    if (hit && hit.until > now()) return hit.principal;
    if (hit) cache.delete(token);
    const principal = await verify(token);
    const exp = tokenExpiry(token);
    const until = Math.min(now() + ttlMs, exp ?? 0);
    if (until > now()) {
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(token, { principal, until });
    }
    return principal;
  };
  return Object.assign(verifyCached, { forget: (token: string) => void cache.delete(token) });
}

/** The `exp` claim of a JWT (already verified by the caller), in ms. */
function tokenExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}
