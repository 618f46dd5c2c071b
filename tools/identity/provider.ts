import type { Principal } from './principal.js';

/**
 * One interface for every way in: the sandbox login (stands in for 随申办 real-name login),
 * staff password login, and a kiosk's ID-card reader. A real 随申办 login is added as one
 * more `Authenticator` without touching callers.
 */
export type LoginRequest =
  | { method: 'sandbox'; citizenId: string }
  | { method: 'staff_password'; username: string; password: string; clientIp?: string }
  | { method: 'kiosk_card'; idNumber: string; name: string; deviceKey: string | undefined };

export type LoginMethod = LoginRequest['method'];

export interface LoginResult {
  token: string;
  expiresAt: string;
  principal: Principal;
}

/** A verified token's id and expiry (for revocation). */
export interface TokenInfo {
  tokenId: string;
  expiresAt: Date;
  principal: Principal;
}

export interface Authenticator<M extends LoginMethod = LoginMethod> {
  readonly method: M;
  /** The principal for valid credentials; throws an AppError (401/403) otherwise. */
  authenticate(req: Extract<LoginRequest, { method: M }>): Promise<Principal>;
}

export interface IdentityProvider {
  /** The login methods enabled in this deployment. */
  readonly methods: readonly LoginMethod[];
  login(req: LoginRequest): Promise<LoginResult>;
  /** The principal carried by a valid token; a 401 AppError otherwise. */
  verifyToken(token: string): Promise<Principal>;
  /** Signs a token for a principal (e.g. one already authenticated by a channel). */
  issueToken(principal: Principal): Promise<{ token: string; expiresAt: string }>;
  /** The id and expiry of a valid token (401 otherwise). */
  tokenInfo(token: string): Promise<TokenInfo>;
  /** Takes a token back before it expires (logout, the end of a kiosk visit); audited. */
  revoke(token: string, reason: string): Promise<void>;
  /** The same, by the token's id (e.g. the idle sweep of kiosk sessions, which has no token). */
  revokeId(tokenId: string, expiresAt: Date, reason: string, actor?: Principal | null): Promise<void>;
}
