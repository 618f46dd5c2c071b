import type pg from 'pg';
import type { Logger } from 'pino';

/**
 * Live delivery to a citizen's open chat or kiosk: what staff write (handoff_messages), how a
 * handoff moves (claimed, closed) and what staff decide on an application (approved,
 * returned). The staff API only writes rows; this hub finds them by polling the database
 * about once a second for the sessions connected to *this* instance, so it works whichever
 * instance served the staff member. `notify()` lets an in-process writer skip the wait.
 *
 * Also carries in-process frames between the sockets of one session (e.g. avatar state, so a
 * digital-human renderer connected to the same session follows the kiosk page).
 */
export type LiveFrame =
  | {
      type: 'staff_message';
      message: { id: string; handoffId: string; author: 'staff' | 'system'; authorName: string | null; text: string; at: string };
    }
  | { type: 'handoff'; handoff: { id: string; status: string } }
  | {
      type: 'application';
      application: {
        id: string;
        serviceId: string;
        serviceName: string;
        status: string;
        statusMessage: string;
        note: string | null;
        updatedAt: string;
      };
    }
  | { type: string; [key: string]: unknown };

export interface LiveSubscriber {
  sessionId: string;
  citizenId: string | null;
  send(frame: LiveFrame): void;
}

interface Subscription extends LiveSubscriber {
  /** handoff_messages.id already delivered (or older than the connection, when not history). */
  messageCursor: number;
  eventCursor: number;
  handoffStatus: Map<string, string>;
  ready: boolean;
}

export interface LiveHubOptions {
  pool: pg.Pool;
  /** Poll period (default 1000 ms). */
  intervalMs?: number;
  log?: Logger;
  /**
   * In-process notifications from the service API (GovService.events): a write on this
   * instance is delivered at once; writes on other instances arrive with the next poll.
   */
  events?: LiveEventSource;
}

/** The part of an EventEmitter the hub listens on (structural, so channels do not depend on tools). */
export interface LiveEventSource {
  on(event: 'handoff.message' | 'application.status', listener: () => void): unknown;
  off(event: 'handoff.message' | 'application.status', listener: () => void): unknown;
}

export class LiveHub {
  private readonly subs = new Set<Subscription>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly intervalMs: number;

  private readonly onEvent = () => this.notify();

  constructor(private readonly opts: LiveHubOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    opts.events?.on('handoff.message', this.onEvent);
    opts.events?.on('application.status', this.onEvent);
  }

  /**
   * Starts delivery to one socket. Staff messages already written for this session's handoffs
   * are sent first (so a reconnecting page shows them; pages de-duplicate by message id).
   * Returns the unsubscribe function.
   */
  subscribe(subscriber: LiveSubscriber): () => void {
    const sub: Subscription = { ...subscriber, messageCursor: 0, eventCursor: 0, handoffStatus: new Map(), ready: false };
    this.subs.add(sub);
    void this.initialise(sub).catch((err: unknown) => this.opts.log?.warn({ err }, 'live: could not initialise subscription'));
    this.schedule();
    return () => {
      this.subs.delete(sub);
      if (this.subs.size === 0) this.stopTimer();
    };
  }

  /** Sends `frame` to every socket of `sessionId` on this instance, except `except`. */
  broadcast(sessionId: string, frame: LiveFrame, except?: LiveSubscriber['send']): void {
    for (const s of this.subs) if (s.sessionId === sessionId && s.send !== except) safeSend(s, frame);
  }

  /** Something was written (a staff reply, a decision): poll now rather than within a second. */
  notify(): void {
    if (this.subs.size > 0) void this.pollOnce();
  }

  get connectedSessions(): number {
    return new Set([...this.subs].map((s) => s.sessionId)).size;
  }

  close(): void {
    this.closed = true;
    this.opts.events?.off('handoff.message', this.onEvent);
    this.opts.events?.off('application.status', this.onEvent);
    this.stopTimer();
    this.subs.clear();
  }

  /** One poll, for tests and `notify()`; concurrent calls share one run plus one follow-up. */
  async pollOnce(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      try {
        do {
          this.again = false;
          await this.poll();
        } while (this.again && !this.closed);
      } catch (err) {
        this.opts.log?.warn({ err }, 'live: poll failed');
      } finally {
        this.polling = null;
      }
    })();
    return this.polling;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.pollOnce(), this.intervalMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async initialise(sub: Subscription): Promise<void> {
    const { pool } = this.opts;
    const [msgMax, evtMax] = await Promise.all([
      pool.query<{ n: string | null }>('SELECT max(id)::text AS n FROM handoff_messages'),
      pool.query<{ n: string | null }>('SELECT max(id)::text AS n FROM application_events'),
    ]);
    const history = await pool.query(
      `${MESSAGE_SELECT} WHERE h.session_id = $1 AND m.id <= $2 ORDER BY m.id`,
      [sub.sessionId, Number(msgMax.rows[0]?.n ?? 0)],
    );
    const handoffs = await pool.query<{ id: string; status: string }>(
      'SELECT id, status FROM handoffs WHERE session_id = $1 OR ($2::text IS NOT NULL AND citizen_id = $2)',
      [sub.sessionId, sub.citizenId],
    );
    for (const h of handoffs.rows) sub.handoffStatus.set(h.id, h.status);
    for (const row of history.rows as MessageRow[]) safeSend(sub, messageFrame(row));
    sub.messageCursor = Number(msgMax.rows[0]?.n ?? 0);
    sub.eventCursor = Number(evtMax.rows[0]?.n ?? 0);
    sub.ready = true;
  }

  private async poll(): Promise<void> {
    const subs = [...this.subs].filter((s) => s.ready);
    if (subs.length === 0) return;
    const { pool } = this.opts;
    const sessions = [...new Set(subs.map((s) => s.sessionId))];
    const citizens = [...new Set(subs.map((s) => s.citizenId).filter((c): c is string => c !== null))];
    const minMsg = Math.min(...subs.map((s) => s.messageCursor));
    const minEvt = Math.min(...subs.map((s) => s.eventCursor));

    const messages = await pool.query(
      `${MESSAGE_SELECT} WHERE m.id > $1 AND (h.session_id = ANY($2::text[]) OR h.citizen_id = ANY($3::text[])) ORDER BY m.id`,
      [minMsg, sessions, citizens],
    );
    const handoffs = await pool.query<{ id: string; status: string; session_id: string | null; citizen_id: string | null }>(
      `SELECT id, status, session_id, citizen_id FROM handoffs
        WHERE session_id = ANY($1::text[]) OR citizen_id = ANY($2::text[])`,
      [sessions, citizens],
    );
    const events = citizens.length === 0 ? { rows: [] as EventRow[] } : await pool.query<EventRow>(
      `SELECT e.id::text AS id, e.to_status, e.note, e.at, a.id AS application_id, a.citizen_id, a.service_id,
              a.service_name, a.status, a.status_message, a.updated_at
         FROM application_events e JOIN applications a ON a.id = e.application_id
        WHERE e.id > $1 AND e.actor_kind = 'staff' AND a.citizen_id = ANY($2::text[])
        ORDER BY e.id`,
      [minEvt, citizens],
    );

    for (const sub of subs) {
      if (!this.subs.has(sub)) continue;
      const mine = (session: string | null, citizen: string | null) =>
        session === sub.sessionId || (sub.citizenId !== null && citizen === sub.citizenId);
      for (const h of handoffs.rows) {
        if (!mine(h.session_id, h.citizen_id)) continue;
        // A handoff first seen now was created after the socket connected, i.e. as 'waiting'.
        const before = sub.handoffStatus.get(h.id) ?? 'waiting';
        sub.handoffStatus.set(h.id, h.status);
        if (before !== h.status) safeSend(sub, { type: 'handoff', handoff: { id: h.id, status: h.status } });
      }
      for (const row of messages.rows as MessageRow[]) {
        if (Number(row.id) <= sub.messageCursor) continue;
        if (mine(row.session_id, row.citizen_id)) safeSend(sub, messageFrame(row));
        sub.messageCursor = Number(row.id);
      }
      if (messages.rows.length > 0) sub.messageCursor = Math.max(sub.messageCursor, Number((messages.rows.at(-1) as MessageRow).id));
      for (const e of events.rows) {
        if (Number(e.id) <= sub.eventCursor) continue;
        if (sub.citizenId !== null && e.citizen_id === sub.citizenId) {
          safeSend(sub, {
            type: 'application',
            application: {
              id: e.application_id,
              serviceId: e.service_id,
              serviceName: e.service_name,
              status: e.to_status,
              statusMessage: e.to_status === e.status ? e.status_message : '',
              note: e.note,
              updatedAt: new Date(e.at).toISOString(),
            },
          });
        }
        sub.eventCursor = Number(e.id);
      }
    }
  }
}

const MESSAGE_SELECT = `
  SELECT m.id::text AS id, m.handoff_id, m.author_kind, m.author_id, m.text, m.created_at,
         h.session_id, h.citizen_id
    FROM handoff_messages m
    JOIN handoffs h ON h.id = m.handoff_id`;

interface MessageRow {
  id: string;
  handoff_id: string;
  author_kind: string;
  author_id: string | null;
  text: string;
  created_at: string | Date;
  session_id: string | null;
  citizen_id: string | null;
}

interface EventRow {
  id: string;
  to_status: string;
  note: string | null;
  at: string | Date;
  application_id: string;
  citizen_id: string;
  service_id: string;
  service_name: string;
  status: string;
  status_message: string;
  updated_at: string | Date;
}

function messageFrame(row: MessageRow): LiveFrame {
  if (row.author_kind === 'citizen') {
    // Citizens' own words are already on their screen; only staff and system lines are pushed.
    return { type: 'noop' };
  }
  return {
    type: 'staff_message',
    message: {
      id: row.id,
      handoffId: row.handoff_id,
      author: row.author_kind === 'system' ? 'system' : 'staff',
      // Citizens see the role, not the staff member's name.
      authorName: row.author_kind === 'system' ? null : '窗口工作人员',
      text: row.text,
      at: new Date(row.created_at).toISOString(),
    },
  };
}

function safeSend(sub: LiveSubscriber, frame: LiveFrame): void {
  if (frame.type === 'noop') return;
  try {
    sub.send(frame);
  } catch {
    // the socket closed between the query and now; its unsubscribe follows
  }
}
