import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { notFound } from '../../core/errors.js';
import { principalKey, type Principal } from '../../tools/identity/principal.js';

export type Channel = 'app' | 'kiosk';

export interface SessionRow {
  id: string;
  owner: string;
  citizenId: string | null;
  channel: Channel;
  createdAt: string;
  endedAt: string | null;
}

/** Session ids are unguessable: anonymous sessions are protected by their id alone. */
function newSessionId(): string {
  return `ses_${randomBytes(16).toString('base64url')}`;
}

/**
 * Who owns which session. Every lookup is by (id, caller): a session is visible only to the
 * identity that created it, and to nobody else (404, the same as a session that does not exist).
 */
export class SessionStore {
  constructor(private readonly pool: pg.Pool) {}

  /** `tokenId`: the token the session was opened with, taken back when a kiosk visit ends. */
  async create(owner: Principal | null, channel: Channel, tokenId: string | null = null): Promise<SessionRow> {
    const id = newSessionId();
    const citizenId = owner?.kind === 'citizen' ? owner.citizenId : null;
    const { rows } = await this.pool.query(
      `INSERT INTO chat_sessions (id, owner, citizen_id, channel, token_id) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, owner, citizen_id, channel, created_at, ended_at`,
      [id, ownerKey(owner), citizenId, channel, tokenId],
    );
    return toRow(rows[0]);
  }

  /**
   * Ends the kiosk sessions nobody has used for `idleSeconds` (the page's own idle timer may not
   * have fired: a closed tab, a crash) and returns them with their tokens, to be revoked.
   */
  async endIdleKiosk(idleSeconds: number): Promise<{ id: string; tokenId: string | null; citizenId: string | null }[]> {
    const { rows } = await this.pool.query<{ id: string; token_id: string | null; citizen_id: string | null }>(
      `UPDATE chat_sessions SET ended_at = now()
       WHERE channel = 'kiosk' AND ended_at IS NULL AND last_active_at < now() - make_interval(secs => $1)
       RETURNING id, token_id, citizen_id`,
      [idleSeconds],
    );
    return rows.map((r) => ({ id: r.id, tokenId: r.token_id, citizenId: r.citizen_id }));
  }

  /** The session if `caller` may use it; otherwise a 404 AppError. */
  async getOwned(id: string, caller: Principal | null): Promise<SessionRow> {
    const { rows } = await this.pool.query(
      'SELECT id, owner, citizen_id, channel, created_at, ended_at FROM chat_sessions WHERE id = $1',
      [id],
    );
    const row = rows[0] ? toRow(rows[0]) : null;
    if (!row || !mayUse(row, caller)) throw notFound('会话');
    return row;
  }

  /**
   * For a turn: the session if `caller` may use it (else 404), marked active in the same
   * statement — one query per turn instead of a lookup and a separate touch.
   */
  async touchOwned(id: string, caller: Principal | null): Promise<SessionRow> {
    const { rows } = await this.pool.query(
      `UPDATE chat_sessions SET last_active_at = now() WHERE id = $1 AND owner = $2
       RETURNING id, owner, citizen_id, channel, created_at, ended_at`,
      [id, ownerKey(caller)],
    );
    if (!rows[0]) throw notFound('会话');
    return toRow(rows[0]);
  }

  /** The citizen a session belongs to (null for an anonymous one); undefined when there is no such session. */
  async ownerOf(id: string): Promise<string | null | undefined> {
    const { rows } = await this.pool.query<{ citizen_id: string | null }>('SELECT citizen_id FROM chat_sessions WHERE id = $1', [id]);
    return rows[0] ? rows[0].citizen_id : undefined;
  }

  async touch(id: string): Promise<void> {
    await this.pool.query('UPDATE chat_sessions SET last_active_at = now() WHERE id = $1', [id]);
  }

  async end(id: string): Promise<void> {
    await this.pool.query('UPDATE chat_sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL', [id]);
  }

  async countActiveFor(citizenId: string): Promise<number> {
    const { rows } = await this.pool.query(
      `SELECT count(*)::int AS n FROM chat_sessions
       WHERE citizen_id = $1 AND ended_at IS NULL AND last_active_at > now() - interval '1 day'`,
      [citizenId],
    );
    return (rows[0] as { n: number }).n;
  }
}

function ownerKey(p: Principal | null): string {
  return p ? principalKey(p) : 'anonymous';
}

function mayUse(row: SessionRow, caller: Principal | null): boolean {
  return row.owner === ownerKey(caller);
}

function toRow(r: Record<string, unknown>): SessionRow {
  return {
    id: String(r.id),
    owner: String(r.owner),
    citizenId: (r.citizen_id as string | null) ?? null,
    channel: r.channel as Channel,
    createdAt: new Date(r.created_at as string).toISOString(),
    endedAt: r.ended_at ? new Date(r.ended_at as string).toISOString() : null,
  };
}
