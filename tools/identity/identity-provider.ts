import type pg from 'pg';
import { AppError } from '../../core/errors.js';
import { audit } from '../sandbox/audit.js';
import { actorOf } from './principal.js';
import type { Authenticator, IdentityProvider, LoginMethod, LoginRequest, LoginResult } from './provider.js';
import { kioskCardAuthenticator, sandboxAuthenticator, staffPasswordAuthenticator } from './authenticators.js';
import { TokenSigner } from './tokens.js';

/** The demo kiosk key, accepted only outside production when KIOSK_DEVICE_KEY is unset. */
export const DEMO_KIOSK_DEVICE_KEY = 'xiaoshen-demo-kiosk-device-key';

export interface IdentityOptions {
  pool: pg.Pool;
  signer: TokenSigner;
  nodeEnv: 'development' | 'production' | 'test';
  kioskDeviceKey?: string;
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

  return {
    methods: [...byMethod.keys()],
    async login(req: LoginRequest): Promise<LoginResult> {
      const auth = byMethod.get(req.method);
      if (!auth) throw new AppError('login_disabled', 403, DISABLED[req.method]);
      let principal;
      try {
        principal = await auth.authenticate(req as never);
      } catch (err) {
        await audit(o.pool, {
          actor: { kind: 'anonymous', id: '-' }, action: 'auth.login_failed', subjectCitizenId: null,
          what: { method: req.method, ...(req.method === 'staff_password' ? { username: req.username } : {}) },
          why: '登录失败',
        });
        throw err;
      }
      await audit(o.pool, {
        actor: actorOf(principal), action: 'auth.login',
        subjectCitizenId: principal.kind === 'citizen' ? principal.citizenId : null,
        what: { method: req.method }, why: '登录',
      });
      return { ...(await o.signer.sign(principal)), principal };
    },
    verifyToken: (token) => o.signer.verify(token),
    issueToken: (principal) => o.signer.sign(principal),
  };
}
