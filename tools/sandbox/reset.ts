import type pg from 'pg';
import { withTransaction } from '../../core/db.js';

/**
 * Sandbox only (never wired to a route): a citizen's own history — applications, the
 * certificates they issued, handoffs, 一件事 applications and offer answers — removed so an
 * evaluation item meets the citizen fresh. The audit log keeps its rows (it is append-only).
 */
export async function resetCitizenHistory(pool: pg.Pool, citizenId: string): Promise<void> {
  await withTransaction(pool, async (tx) => {
    await tx.query(`DELETE FROM handoff_messages WHERE handoff_id IN (SELECT id FROM handoffs WHERE citizen_id = $1)`, [citizenId]);
    await tx.query(`DELETE FROM handoffs WHERE citizen_id = $1`, [citizenId]);
    await tx.query(`UPDATE applications SET licence_id = NULL WHERE citizen_id = $1`, [citizenId]);
    await tx.query(`DELETE FROM e_licences WHERE citizen_id = $1 AND source = 'issued'`, [citizenId]);
    await tx.query(`DELETE FROM application_events WHERE application_id IN (SELECT id FROM applications WHERE citizen_id = $1)`, [citizenId]);
    await tx.query(`DELETE FROM applications WHERE citizen_id = $1`, [citizenId]);
    await tx.query(`DELETE FROM bundle_applications WHERE citizen_id = $1`, [citizenId]);
    await tx.query(`DELETE FROM offer_answers WHERE citizen_id = $1`, [citizenId]);
  });
}
