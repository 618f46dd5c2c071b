import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { unauthorized } from '../../core/errors.js';
import type { Principal } from './principal.js';

/** Signed bearer tokens (JWT, HS256) carrying a principal. */
const ISSUER = 'xiaoshen';
const AUDIENCE = 'xiaoshen-api';

const Claims = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('citizen'), sub: z.string().min(1), name: z.string(), via: z.enum(['sandbox', 'kiosk_card']) }),
  z.object({ kind: z.literal('staff'), sub: z.string().min(1), name: z.string() }),
]);

export class TokenSigner {
  constructor(private readonly secret: Uint8Array, private readonly ttlSeconds: number) {}

  async sign(p: Principal): Promise<{ token: string; expiresAt: string }> {
    const claims = p.kind === 'citizen' ? { kind: p.kind, name: p.name, via: p.via } : { kind: p.kind, name: p.name };
    const exp = Math.floor(Date.now() / 1000) + this.ttlSeconds;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(p.kind === 'citizen' ? p.citizenId : p.staffId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(this.secret);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** The principal of a valid token; a 401 AppError otherwise. */
  async verify(token: string): Promise<Principal> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }));
    } catch {
      throw unauthorized('登录凭证无效或已过期，请重新登录。');
    }
    const c = Claims.safeParse(payload);
    if (!c.success) throw unauthorized('登录凭证无效或已过期，请重新登录。');
    return c.data.kind === 'citizen'
      ? { kind: 'citizen', citizenId: c.data.sub, name: c.data.name, via: c.data.via }
      : { kind: 'staff', staffId: c.data.sub, name: c.data.name };
  }
}
