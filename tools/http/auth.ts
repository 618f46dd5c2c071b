import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { forbidden, unauthorized } from '../../core/errors.js';
import type { CitizenPrincipal, Principal, StaffPrincipal } from '../identity/principal.js';
import type { IdentityProvider } from '../identity/provider.js';

/**
 * Bearer-token authentication for fastify routes, reusable by any plugin:
 *
 *     app.get('/x', { preHandler: bearerAuth(identity, 'citizen') }, (req) => principalOf(req));
 *
 * `optional` lets anonymous callers through (principal null) but rejects a bad token;
 * `any` needs a valid token; `citizen` / `staff` also need that kind of principal (403).
 */
export type AuthRequirement = 'optional' | 'any' | 'citizen' | 'staff';

const principals = new WeakMap<FastifyRequest, Principal>();

/** The bearer token of an `Authorization` header, if any. */
export function bearerToken(authorization: string | string[] | undefined): string | undefined {
  const h = Array.isArray(authorization) ? authorization[0] : authorization;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h ?? '');
  return m?.[1];
}

/** Verifies the request's bearer token: null without one, a 401 AppError for a bad one. */
export async function authenticateRequest(identity: IdentityProvider, req: FastifyRequest): Promise<Principal | null> {
  const header = req.headers.authorization;
  if (header === undefined || header === '') return null;
  const token = bearerToken(header);
  if (!token) throw unauthorized('登录凭证格式不正确，请使用 Authorization: Bearer <token>。');
  return identity.verifyToken(token);
}

export function bearerAuth(identity: IdentityProvider, requirement: AuthRequirement = 'any'): preHandlerAsyncHookHandler {
  return async function bearerAuthHook(req: FastifyRequest, _reply: FastifyReply) {
    const principal = await authenticateRequest(identity, req);
    if (!principal) {
      if (requirement === 'optional') return;
      throw unauthorized('请先登录。');
    }
    if (requirement === 'citizen' && principal.kind !== 'citizen') throw forbidden('此操作需要市民本人登录。');
    if (requirement === 'staff' && principal.kind !== 'staff') throw forbidden('此操作仅限窗口工作人员。');
    principals.set(req, principal);
  };
}

/** The principal set by `bearerAuth` (null for an anonymous caller of an `optional` route). */
export function principalOf(req: FastifyRequest): Principal | null {
  return principals.get(req) ?? null;
}

export function requirePrincipal(req: FastifyRequest): Principal {
  const p = principals.get(req);
  if (!p) throw unauthorized('请先登录。');
  return p;
}

export function citizenOf(req: FastifyRequest): CitizenPrincipal {
  const p = requirePrincipal(req);
  if (p.kind !== 'citizen') throw forbidden('此操作需要市民本人登录。');
  return p;
}

export function staffOf(req: FastifyRequest): StaffPrincipal {
  const p = requirePrincipal(req);
  if (p.kind !== 'staff') throw forbidden('此操作仅限窗口工作人员。');
  return p;
}
