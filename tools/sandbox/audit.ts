import type pg from 'pg';

/**
 * The append-only audit trail: who (actor kind + id) did what to whose data, when and why.
 * Reads of personal data and every write are recorded; the table rejects UPDATE/DELETE.
 */
export interface AuditEntry {
  actor: { kind: 'citizen' | 'staff' | 'system' | 'anonymous'; id: string };
  action: string;
  subjectCitizenId: string | null;
  what?: Record<string, unknown>;
  why: string;
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export async function audit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor_kind, actor_id, action, subject_citizen_id, what, why) VALUES ($1, $2, $3, $4, $5, $6)`,
    [e.actor.kind, e.actor.id, e.action, e.subjectCitizenId, JSON.stringify(e.what ?? {}), e.why],
  );
}

export interface AuditRow {
  id: string;
  at: Date;
  actor_kind: string;
  actor_id: string;
  action: string;
  subject_citizen_id: string | null;
  what: Record<string, unknown>;
  why: string;
}
