import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { AppError } from '../core/errors.js';

/**
 * Serialises the turns of one session across server instances. AgentRuntime already
 * serialises them within a process; with a server database (DATABASE_URL) and several
 * replicas, two messages of one session can reach two instances at once, and both would read
 * the same checkpoint and write over each other.
 */
export interface SessionLock {
  run<T>(sessionId: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface AdvisoryLockOptions {
  /** Longest wait for a session another instance is answering (default 30 s), then a 409. */
  waitMs?: number;
  log?: Logger;
}

/**
 * A Postgres session-level advisory lock per conversation, taken around a turn. The locks live
 * on one dedicated connection per instance (not the pool): a turn waiting for a lock never
 * holds a pool connection, so turns cannot starve the pool, and if the instance dies Postgres
 * drops its locks with the connection. Acquisition polls pg_try_advisory_lock, so the lock
 * connection is never blocked and serves every session's lock and unlock.
 *
 * The caller must not run two turns of one session at once in this process (session-level
 * advisory locks are re-entrant per connection); AgentRuntime's in-process queue ensures that.
 */
export class AdvisorySessionLock implements SessionLock {
  private client: Promise<pg.Client> | null = null;
  private closed = false;
  private readonly waitMs: number;

  constructor(private readonly connectionString: string, private readonly opts: AdvisoryLockOptions = {}) {
    this.waitMs = opts.waitMs ?? 30_000;
  }

  async run<T>(sessionId: string, fn: () => Promise<T>): Promise<T> {
    const key = lockKey(sessionId);
    const deadline = Date.now() + this.waitMs;
    let delay = 5;
    let holder: pg.Client;
    for (;;) {
      holder = await this.connection();
      const { rows } = await holder.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS ok', key);
      if (rows[0]?.ok) break;
      if (Date.now() >= deadline) {
        throw new AppError('session_busy', 409, '这个会话正在处理上一条消息，请稍后再试。');
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 100);
    }
    try {
      return await fn();
    } finally {
      // If the lock connection was lost meanwhile, Postgres has already released the lock.
      await holder.query('SELECT pg_advisory_unlock($1::int, $2::int)', key).catch((err: unknown) => {
        this.opts.log?.warn({ err }, 'session lock: unlock failed (connection lost; the lock went with it)');
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = null;
    if (c) await c.then((client) => client.end()).catch(() => undefined);
  }

  private connection(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('session lock closed'));
    if (!this.client) {
      const client = new pg.Client({ connectionString: this.connectionString, application_name: 'xiaoshen-session-lock' });
      const drop = (err?: unknown) => {
        if (err) this.opts.log?.warn({ err }, 'session lock connection lost; reconnecting on next turn');
        if (this.client === connecting) this.client = null;
      };
      client.on('error', drop);
      client.on('end', () => drop());
      const connecting: Promise<pg.Client> = client.connect().then(() => client);
      connecting.catch(() => drop());
      this.client = connecting;
    }
    return this.client;
  }
}

/** Two int4 keys from the session id (namespaced, so other advisory locks cannot collide). */
export function lockKey(sessionId: string): [number, number] {
  const h = createHash('sha256').update(`xiaoshen:turn:${sessionId}`).digest();
  return [h.readInt32BE(0), h.readInt32BE(4)];
}
