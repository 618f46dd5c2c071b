import type pg from 'pg';
import type { Catalogue } from '../../knowledge/catalogue.js';
import type { Application, ApplicationStatus } from '../contract.js';
import { displayFields, type Values } from './prefill.js';

/** Applications and their status history (application_events). */
export interface ApplicationRow {
  id: string;
  citizen_id: string;
  service_id: string;
  service_name: string;
  fields: Values;
  status: ApplicationStatus;
  status_message: string;
  idempotency_key: string;
  session_id: string | null;
  licence_id: string | null;
  licence_name: string | null;
  department: string | null;
  review_check: string | null;
  request_hash: string | null;
  bundle_application_id: string | null;
  created_at: Date;
  updated_at: Date;
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

const SELECT = `SELECT a.id, a.citizen_id, a.service_id, a.service_name, a.fields, a.status, a.status_message, a.idempotency_key,
  a.session_id, a.licence_id, l.name AS licence_name, a.department, a.review_check, a.request_hash,
  a.bundle_application_id, a.created_at, a.updated_at
  FROM applications a LEFT JOIN e_licences l ON l.id = a.licence_id`;

export async function findApplication(db: Queryable, id: string): Promise<ApplicationRow | undefined> {
  return (await db.query<ApplicationRow>(`${SELECT} WHERE a.id = $1`, [id])).rows[0];
}

export async function findByIdempotencyKey(db: Queryable, citizenId: string, key: string): Promise<ApplicationRow | undefined> {
  return (await db.query<ApplicationRow>(`${SELECT} WHERE a.citizen_id = $1 AND a.idempotency_key = $2`, [citizenId, key])).rows[0];
}

export async function listForCitizen(db: Queryable, citizenId: string): Promise<ApplicationRow[]> {
  return (await db.query<ApplicationRow>(`${SELECT} WHERE a.citizen_id = $1 ORDER BY a.created_at DESC, a.id DESC`, [citizenId])).rows;
}

export async function listByStatus(db: Queryable, statuses: ApplicationStatus[], limit = 100): Promise<(ApplicationRow & { citizen_name: string })[]> {
  return (await db.query<ApplicationRow & { citizen_name: string }>(
    `SELECT x.*, c.name AS citizen_name FROM (${SELECT} WHERE a.status = ANY($1) ORDER BY a.created_at LIMIT $2) x
       JOIN citizens c ON c.id = x.citizen_id ORDER BY x.created_at`,
    [statuses, limit],
  )).rows;
}

export interface NewApplication {
  citizenId: string;
  serviceId: string;
  serviceName: string;
  fields: Values;
  idempotencyKey: string;
  sessionId: string | null;
  statusMessage: string;
  department: string;
  requestHash: string;
  bundleApplicationId?: string | null;
}

/**
 * Inserts a draft with a human-readable id (SA + date in Shanghai + sequence). Returns
 * undefined when the citizen already used the idempotency key: on a server database the
 * unique index makes a concurrent second insert wait for the first and then do nothing.
 */
export async function insertDraft(db: Queryable, a: NewApplication): Promise<string | undefined> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO applications (id, citizen_id, service_id, service_name, fields, status, status_message, idempotency_key, session_id,
                               department, request_hash, bundle_application_id)
     VALUES ('SA' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(nextval('application_number_seq')::text, 6, '0'),
             $1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10)
     ON CONFLICT (citizen_id, idempotency_key) DO NOTHING
     RETURNING id`,
    [a.citizenId, a.serviceId, a.serviceName, JSON.stringify(a.fields), a.statusMessage, a.idempotencyKey, a.sessionId,
      a.department, a.requestHash, a.bundleApplicationId ?? null],
  );
  return r.rows[0]?.id;
}

export interface Actor { kind: 'citizen' | 'staff' | 'system'; id: string }

/** Moves an application to `to`, recording the event. */
export async function setStatus(
  db: Queryable, id: string, from: ApplicationStatus | null, to: ApplicationStatus, statusMessage: string, actor: Actor,
  note: string | null = null, licenceId: string | null = null, reviewCheck: string | null = null,
): Promise<void> {
  await db.query(
    `UPDATE applications SET status = $2, status_message = $3, licence_id = COALESCE($4, licence_id),
       review_check = COALESCE($5, review_check), updated_at = now() WHERE id = $1`,
    [id, to, statusMessage, licenceId, reviewCheck],
  );
  await recordEvent(db, id, from, to, actor, note);
}

export async function recordEvent(db: Queryable, id: string, from: ApplicationStatus | null, to: ApplicationStatus, actor: Actor, note: string | null = null): Promise<void> {
  await db.query(
    `INSERT INTO application_events (application_id, from_status, to_status, actor_kind, actor_id, note) VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, from, to, actor.kind, actor.id, note],
  );
}

export interface ApplicationEvent { fromStatus: string | null; toStatus: string; actorKind: string; at: string }

export async function listEvents(db: Queryable, id: string): Promise<ApplicationEvent[]> {
  const r = await db.query<{ from_status: string | null; to_status: string; actor_kind: string; at: Date }>(
    `SELECT from_status, to_status, actor_kind, at FROM application_events WHERE application_id = $1 ORDER BY id`, [id]);
  return r.rows.map((e) => ({ fromStatus: e.from_status, toStatus: e.to_status, actorKind: e.actor_kind, at: e.at.toISOString() }));
}

/** The outward view: identifiers in `fields` are masked; the staff-only review note is not part of it. */
export function toApplication(r: ApplicationRow, catalogue: Catalogue, opts: { unmasked?: boolean } = {}): Application {
  const service = catalogue.get(r.service_id);
  return {
    id: r.id,
    serviceId: r.service_id,
    serviceName: r.service_name,
    department: r.department ?? service?.department ?? '',
    status: r.status,
    statusLabel: catalogue.statusLabel(r.status),
    statusMessage: r.status_message,
    fields: opts.unmasked ? r.fields : displayFields(service, r.fields),
    withdrawable: catalogue.defaults.withdrawable.includes(r.status),
    bundleApplicationId: r.bundle_application_id,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}
