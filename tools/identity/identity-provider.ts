import type pg from 'pg';
import { AppError } from '../../core/errors.js';
import { audit } from '../sandbox/audit.js';
import { actorOf } from './principal.js';
import type { Principal } from './principal.js';
import type { Authenticator, IdentityProvider, LoginMethod, LoginRequest, LoginResult, TokenInfo } from './provider.js';
import { kioskCardAuthenticator, sandboxAuthenticator, staffPasswordAuthenticator } from './authenticators.js';
import { LoginThrottle, type ThrottleOptions } from './login-throttle.js';
import { principalOf, TokenSigner } from './tokens.js';

/** The demo kiosk key, accepted only outside production when KIOSK_DEVICE_KEY is unset. */
export const DEMO_KIOSK_DEVICE_KEY = 'xiaoshen-demo-kiosk-device-key';

export interface IdentityOptions {
  pool: pg.Pool;
  signer: TokenSigner;
  nodeEnv: 'development' | 'production' | 'test';
  kioskDeviceKey?: string;
  /** Staff login throttling (default: 5 failures, 15 minutes). */
  throttle?: ThrottleOptions;
  /** Extra authenticators (e.g. a real 随申办 login). */
  extra?: Authenticator[];
}

const DISABLED: Record<LoginMethod, string> = {
  sandbox: '沙箱登录在生产环境中不可用，请使用随申办实名登录。',
  staff_password: '工作人员登录暂不可用。',
  kiosk_card: '身份证登录未启用：未配置设备密钥。',
};

/** Composes authenticators with the token signer; logins (and failures) are audited. */
export function createIdentityProvider(o: IdentityOptions): IdentityProvider {
  const list: Authenticator[] = [staffPasswordAuthenticator(o.pool) as Authenticator];
  if (o.nodeEnv !== 'production') list.push(sandboxAuthenticator(o.pool) as Authenticator);
  const kioskKey = o.kioskDeviceKey ?? (o.nodeEnv === 'production' ? undefined : DEMO_KIOSK_DEVICE_KEY);
  if (kioskKey) list.push(kioskCardAuthenticator(o.pool, kioskKey) as Authenticator);
  list.push(...(o.extra ?? []));
  const byMethod = new Map(list.map((a) => [a.method, a]));
  const throttle = new LoginThrottle(o.pool, o.throttle ?? { maxFailures: 5, lockoutSeconds: 900 });
  // Revoked token ids, checked on every verification (rows outlive the tokens they name only briefly).
  o.signer.useRevocation(async (jti) => (await o.pool.query('SELECT 1 FROM revoked_tokens WHERE jti = $1', [jti])).rowCount! > 0);

  async function revokeId(tokenId: string, expiresAt: Date, reason: string, actor: Principal | null = null): Promise<void> {
    await o.pool.query(
      'INSERT INTO revoked_tokens (jti, expires_at, reason) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING', [tokenId, expiresAt, reason]);
    await o.pool.query('DELETE FROM revoked_tokens WHERE expires_at < now()');
    await audit(o.pool, {
      actor: actorOf(actor), action: 'auth.token_revoked',
      subjectCitizenId: actor?.kind === 'citizen' ? actor.citizenId : null,
      what: { tokenId, reason }, why: reason,
    });
  }

  async function tokenInfo(token: string): Promise<TokenInfo> {
    const c = await o.signer.claims(token);
    return { tokenId: c.jti, expiresAt: new Date(c.exp * 1000), principal: principalOf(c) };
  }

  return {
    methods: [...byMethod.keys()],
    async login(req: LoginRequest): Promise<LoginResult> {
      const auth = byMethod.get(req.method);
      if (!auth) throw new AppError('login_disabled', 403, DISABLED[req.method]);
      const keys = req.method === 'staff_password'
        ? [`staff:${req.username.trim().toLowerCase()}`, ...(req.clientIp ? [`ip:${req.clientIp}`] : [])]
        : [];
      if (keys.length) await throttle.check(keys);
      let principal;
      try {
        principal = await auth.authenticate(req as never);
      } catch (err) {
        await audit(o.pool, {
          actor: { kind: 'anonymous', id: '-' }, action: 'auth.login_failed', subjectCitizenId: null,
          what: { method: req.method, ...(req.method === 'staff_password' ? { username: req.username } : {}) },
          why: '登录失败',
        });
        if (keys.length && err instanceof AppError && err.status === 401) await throttle.failed(keys, { method: req.method });
        throw err;
      }
      if (keys[0]) await throttle.succeeded(keys[0]);
      await audit(o.pool, {
        actor: actorOf(principal), action: 'auth.login',
        subjectCitizenId: principal.kind === 'citizen' ? principal.citizenId : null,
        what: { method: req.method }, why: '登录',
      });
      const { token, expiresAt } = await o.signer.sign(principal);
      return { token, expiresAt, principal };
    },
    verifyToken: (token) => o.signer.verify(token),
    async issueToken(principal) {
      const { token, expiresAt } = await o.signer.sign(principal);
      return { token, expiresAt };
    },
    tokenInfo,
    async revoke(token, reason) {
      const info = await tokenInfo(token);
      await revokeId(info.tokenId, info.expiresAt, reason, info.principal);
    },
    revokeId,
  };
}
