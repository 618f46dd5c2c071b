import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { unauthorized } from '../../core/errors.js';
import type { Principal } from './principal.js';

/** Signed bearer tokens (JWT, HS256) carrying a principal, each with its own id (jti) so it can be taken back. */
const ISSUER = 'xiaoshen';
const AUDIENCE = 'xiaoshen-api';

const Claims = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('citizen'), sub: z.string().min(1), name: z.string(), via: z.enum(['sandbox', 'kiosk_card']), jti: z.string().min(8), exp: z.number() }),
  z.object({ kind: z.literal('staff'), sub: z.string().min(1), name: z.string(), jti: z.string().min(8), exp: z.number() }),
]);

export interface TokenOptions {
  /** Lifetime of a kiosk ID-card token: a visit, not a working day. */
  kioskTtlSeconds?: number;
  /** Whether a token id was revoked (a kiosk visit ended, a logout); checked on every verification. */
  isRevoked?: (jti: string) => Promise<boolean>;
}

export interface SignedToken {
  token: string;
  expiresAt: string;
  /** The token's id (jti), for revocation. */
  tokenId: string;
}

export class TokenSigner {
  private isRevoked: (jti: string) => Promise<boolean>;

  constructor(private readonly secret: Uint8Array, private readonly ttlSeconds: number, private readonly opts: TokenOptions = {}) {
    this.isRevoked = opts.isRevoked ?? (async () => false);
  }

  /** Late wiring of the revocation list (it lives in the database the identity provider opens). */
  useRevocation(isRevoked: (jti: string) => Promise<boolean>): void {
    this.isRevoked = isRevoked;
  }

  ttlFor(p: Principal): number {
    return p.kind === 'citizen' && p.via === 'kiosk_card' ? Math.min(this.opts.kioskTtlSeconds ?? 1800, this.ttlSeconds) : this.ttlSeconds;
  }

  async sign(p: Principal): Promise<SignedToken> {
    const claims = p.kind === 'citizen' ? { kind: p.kind, name: p.name, via: p.via } : { kind: p.kind, name: p.name };
    const exp = Math.floor(Date.now() / 1000) + this.ttlFor(p);
    const tokenId = randomUUID();
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(p.kind === 'citizen' ? p.citizenId : p.staffId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setJti(tokenId)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(this.secret);
    return { token, expiresAt: new Date(exp * 1000).toISOString(), tokenId };
  }

  /** The claims of a valid, unrevoked token; a 401 AppError otherwise. */
  async claims(token: string): Promise<z.infer<typeof Claims>> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }));
    } catch {
      throw unauthorized('登录凭证无效或已过期，请重新登录。');
    }
    const c = Claims.safeParse(payload);
    if (!c.success) throw unauthorized('登录凭证无效或已过期，请重新登录。');
    if (await this.isRevoked(c.data.jti)) throw unauthorized('登录凭证已失效（已退出或本次办事已结束），请重新登录。');
    return c.data;
  }

  /** The principal of a valid token; a 401 AppError otherwise. */
  async verify(token: string): Promise<Principal> {
    return principalOf(await this.claims(token));
  }
}

/** The principal a token's (verified) claims name. */
export function principalOf(c: z.infer<typeof Claims>): Principal {
  return c.kind === 'citizen'
    ? { kind: 'citizen', citizenId: c.sub, name: c.name, via: c.via }
    : { kind: 'staff', staffId: c.sub, name: c.name };
}
