import type pg from 'pg';
import { maskSensitiveText } from '../../core/mask.js';
import type { TranscriptEntry } from '../contract.js';
import type { z } from 'zod';
import type { HandoffMessage, HandoffSummary } from './schemas.js';

/** Handoffs to service-centre staff and the messages exchanged on them. */
export interface HandoffRow {
  id: string;
  citizen_id: string | null;
  citizen_name: string | null;
  reason: string;
  reason_text: string | null;
  service_id: string | null;
  session_id: string | null;
  application_id: string | null;
  transcript: z.infer<typeof TranscriptEntry>[];
  understanding: Record<string, unknown>;
  form: Record<string, unknown>;
  status: 'waiting' | 'claimed' | 'closed';
  /** Staff-only: what to check (a review rule's note). */
  staff_note: string | null;
  claimed_by: string | null;
  claimed_by_name: string | null;
  created_at: Date;
  waiting_seconds: number;
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

const SELECT = `SELECT h.id, h.citizen_id, c.name AS citizen_name, h.reason, h.reason_text, h.service_id, h.session_id,
  h.application_id, h.transcript, h.understanding, h.form, h.status, h.staff_note, h.claimed_by, s.name AS claimed_by_name, h.created_at,
  floor(EXTRACT(EPOCH FROM (COALESCE(h.claimed_at, h.closed_at, now()) - h.created_at)))::int AS waiting_seconds
  FROM handoffs h LEFT JOIN citizens c ON c.id = h.citizen_id LEFT JOIN staff s ON s.id = h.claimed_by`;

export async function findHandoff(db: Queryable, id: string): Promise<HandoffRow | undefined> {
  return (await db.query<HandoffRow>(`${SELECT} WHERE h.id = $1`, [id])).rows[0];
}

export async function listQueue(db: Queryable, statuses: HandoffRow['status'][], limit = 100): Promise<HandoffRow[]> {
  return (await db.query<HandoffRow>(`${SELECT} WHERE h.status = ANY($1) ORDER BY h.created_at LIMIT $2`, [statuses, limit])).rows;
}

export interface NewHandoff {
  citizenId: string | null;
  reason: string;
  reasonText: string | null;
  serviceId: string | null;
  sessionId: string | null;
  applicationId: string | null;
  transcript: unknown[];
  understanding: Record<string, unknown>;
  form: Record<string, unknown>;
  staffNote?: string | null;
}

export async function insertHandoff(db: Queryable, h: NewHandoff): Promise<string> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO handoffs (id, citizen_id, reason, reason_text, service_id, session_id, application_id, transcript, understanding, form, staff_note)
     VALUES ('HO' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(nextval('handoff_number_seq')::text, 6, '0'),
             $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     RETURNING id`,
    [h.citizenId, h.reason, h.reasonText, h.serviceId, h.sessionId, h.applicationId,
      JSON.stringify(h.transcript), JSON.stringify(h.understanding), JSON.stringify(h.form), h.staffNote ?? null],
  );
  return r.rows[0]!.id;
}

/**
 * The handoff that goes with an application sent to review, created in the submission's own
 * transaction (so a replayed submission finds it instead of creating a second one). The
 * citizen-facing reason is neutral; what to check is a staff-only note.
 */
export async function insertReviewHandoff(db: Queryable, h: {
  citizenId: string; serviceId: string; applicationId: string; sessionId: string | null; staffNote: string | null;
  understanding: Record<string, unknown>; form: Record<string, unknown>;
}): Promise<string> {
  return insertHandoff(db, {
    citizenId: h.citizenId, reason: 'review', reasonText: '申请需人工审核', serviceId: h.serviceId, sessionId: h.sessionId,
    applicationId: h.applicationId, transcript: [], understanding: h.understanding, form: h.form, staffNote: h.staffNote,
  });
}

/** The review handoff of an application, if it has one. */
export async function reviewHandoffOf(db: Queryable, applicationId: string): Promise<{ id: string; status: HandoffRow['status']; reason: string } | null> {
  const r = await db.query<{ id: string; status: HandoffRow['status']; reason: string }>(
    `SELECT id, status, reason FROM handoffs WHERE application_id = $1 AND reason = 'review' ORDER BY created_at LIMIT 1`, [applicationId]);
  return r.rows[0] ?? null;
}

/** The open handoff of a conversation session, if there is one. */
export async function openHandoffOfSession(db: Queryable, sessionId: string): Promise<HandoffRow | undefined> {
  return (await db.query<HandoffRow>(`${SELECT} WHERE h.session_id = $1 AND h.status <> 'closed' ORDER BY h.created_at DESC LIMIT 1`, [sessionId])).rows[0];
}

export async function setHandoffStatus(db: Queryable, id: string, status: HandoffRow['status'], staffId: string | null): Promise<void> {
  await db.query(
    `UPDATE handoffs SET status = $2,
       claimed_by = CASE WHEN $2 = 'claimed' THEN $3 ELSE claimed_by END,
       claimed_at = CASE WHEN $2 = 'claimed' THEN COALESCE(claimed_at, now()) ELSE claimed_at END,
       closed_at = CASE WHEN $2 = 'closed' THEN now() ELSE closed_at END,
       updated_at = now()
     WHERE id = $1`,
    [id, status, staffId],
  );
}

interface MessageRow { id: string; author_kind: HandoffMessage['authorKind']; author_name: string | null; text: string; created_at: Date }

export async function insertMessage(db: Queryable, handoffId: string, authorKind: HandoffMessage['authorKind'], authorId: string | null, text: string): Promise<HandoffMessage> {
  const r = await db.query<MessageRow>(
    `WITH m AS (INSERT INTO handoff_messages (handoff_id, author_kind, author_id, text) VALUES ($1, $2, $3, $4)
                RETURNING id, author_kind, author_id, text, created_at)
     SELECT m.id::text AS id, m.author_kind, COALESCE(s.name, c.name) AS author_name, m.text, m.created_at
       FROM m LEFT JOIN staff s ON m.author_kind = 'staff' AND s.id = m.author_id
              LEFT JOIN citizens c ON m.author_kind = 'citizen' AND c.id = m.author_id`,
    [handoffId, authorKind, authorId, text],
  );
  return toMessage(r.rows[0]!, false);
}

/** Messages on a handoff, optionally only those after a message id (for polling). */
export async function listMessages(db: Queryable, handoffId: string, afterId: number | null, mask: boolean): Promise<HandoffMessage[]> {
  const r = await db.query<MessageRow>(
    `SELECT m.id::text AS id, m.author_kind, COALESCE(s.name, c.name) AS author_name, m.text, m.created_at
       FROM handoff_messages m LEFT JOIN staff s ON m.author_kind = 'staff' AND s.id = m.author_id
                               LEFT JOIN citizens c ON m.author_kind = 'citizen' AND c.id = m.author_id
      WHERE m.handoff_id = $1 AND ($2::bigint IS NULL OR m.id > $2::bigint) ORDER BY m.id`,
    [handoffId, afterId],
  );
  return r.rows.map((m) => toMessage(m, mask));
}

function toMessage(m: MessageRow, mask: boolean): HandoffMessage {
  return {
    id: m.id,
    authorKind: m.author_kind,
    authorName: m.author_name,
    text: mask ? maskSensitiveText(m.text) : m.text,
    createdAt: m.created_at.toISOString(),
  };
}

export function toSummary(h: HandoffRow, serviceName: string | null): HandoffSummary {
  return {
    id: h.id,
    status: h.status,
    reason: h.reason,
    reasonText: h.reason_text,
    serviceId: h.service_id,
    serviceName,
    sessionId: h.session_id,
    applicationId: h.application_id,
    citizen: h.citizen_id ? { id: h.citizen_id, name: h.citizen_name ?? '' } : null,
    createdAt: h.created_at.toISOString(),
    waitingSeconds: h.waiting_seconds,
    claimedBy: h.claimed_by ? { staffId: h.claimed_by, name: h.claimed_by_name ?? '' } : null,
  };
}

/** Masks identifiers anywhere in a JSON value: strings are scrubbed, known keys masked. */
export function maskDeep(v: unknown): unknown {
  if (typeof v === 'string') return maskSensitiveText(v);
  if (Array.isArray(v)) return v.map(maskDeep);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, maskDeep(x)]));
  }
  return v;
}
