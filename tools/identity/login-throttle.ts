import type pg from 'pg';
import { AppError } from '../../core/errors.js';
import { audit } from '../sandbox/audit.js';

export interface ThrottleOptions {
  /** Failures within the window before a lockout. */
  maxFailures: number;
  /** How long a lockout lasts (and the window failures are counted in), seconds. */
  lockoutSeconds: number;
}

/**
 * Staff login throttling, in the database so every replica sees the same count: failures are
 * counted per username and per client address; past the limit both are locked for a while
 * (429 with the time to wait), and the lockout is audited. A success clears the username's count.
 */
export class LoginThrottle {
  constructor(private readonly pool: pg.Pool, private readonly opts: ThrottleOptions) {}

  /** Throws a 429 AppError when any of the keys is locked. */
  async check(keys: readonly string[]): Promise<void> {
    const r = await this.pool.query<{ locked_until: Date }>(
      'SELECT locked_until FROM login_attempts WHERE key = ANY($1) AND locked_until > now() ORDER BY locked_until DESC LIMIT 1', [keys]);
    const until = r.rows[0]?.locked_until;
    if (until) {
      const minutes = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 60_000));
      throw new AppError('login_locked', 429, `登录失败次数过多，账号已暂时锁定，请约 ${minutes} 分钟后再试，或联系管理员。`);
    }
  }

  async failed(keys: readonly string[], what: Record<string, unknown>): Promise<void> {
    for (const key of keys) {
      const r = await this.pool.query<{ failures: number; locked_until: Date | null }>(
        `INSERT INTO login_attempts (key, failures, window_started_at) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN login_attempts.window_started_at < now() - make_interval(secs => $2) THEN 1 ELSE login_attempts.failures + 1 END,
           window_started_at = CASE WHEN login_attempts.window_started_at < now() - make_interval(secs => $2) THEN now() ELSE login_attempts.window_started_at END
         RETURNING failures, locked_until`,
        [key, this.opts.lockoutSeconds],
      );
      const row = r.rows[0]!;
      if (row.failures >= this.opts.maxFailures && !(row.locked_until && row.locked_until > new Date())) {
        await this.pool.query(`UPDATE login_attempts SET locked_until = now() + make_interval(secs => $2) WHERE key = $1`, [key, this.opts.lockoutSeconds]);
        await audit(this.pool, {
          actor: { kind: 'anonymous', id: '-' }, action: 'auth.lockout', subjectCitizenId: null,
          what: { key, ...what, failures: row.failures }, why: '连续登录失败，暂时锁定',
        });
      }
    }
  }

  async succeeded(key: string): Promise<void> {
    await this.pool.query('DELETE FROM login_attempts WHERE key = $1', [key]);
  }
}
