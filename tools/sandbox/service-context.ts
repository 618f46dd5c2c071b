import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { AppError, forbidden, notFound } from '../../core/errors.js';
import type { Catalogue } from '../../knowledge/catalogue.js';
import type { ApplicationStatus } from '../contract.js';
import type { CitizenPrincipal, Principal, StaffPrincipal } from '../identity/principal.js';
import { findCitizen, type CitizenRow } from './citizens.js';
import { citizenFacts } from './facts.js';
import { listLicenceIds } from './licences.js';
import type { ProfileSources } from './prefill.js';
import type { HandoffMessage } from './schemas.js';

/** Events for live delivery by the channels (staff replies, handoff and application status changes). */
export interface GovEvents {
  'handoff.message': [{ handoffId: string; citizenId: string | null; sessionId: string | null; message: HandoffMessage }];
  'handoff.status': [{ handoffId: string; citizenId: string | null; sessionId: string | null; status: 'waiting' | 'claimed' | 'closed'; staffName: string | null }];
  'application.status': [{ applicationId: string; citizenId: string; status: ApplicationStatus; statusLabel: string; statusMessage: string }];
}

/** A line of a conversation as staff see it (identifiers masked by whoever recorded it). */
export interface TranscriptLine {
  role: 'citizen' | 'agent' | 'staff' | 'client';
  text: string;
  at: string;
}

/**
 * The conversation sessions, as the service API needs them: who owns one, and what was said
 * in it. The channels and the agent keep sessions; the composition root wires this in.
 */
export interface SessionDirectory {
  /** The citizen a session belongs to (null for an anonymous one); undefined when unknown. */
  owner(sessionId: string): Promise<string | null | undefined>;
  /** The whole conversation of a session, as recorded by the server. */
  transcript(sessionId: string): Promise<TranscriptLine[]>;
}

/** What the parts of the sandbox service share: the database, the catalogue, the clock and the event bus. */
export class ServiceContext {
  readonly events = new EventEmitter<GovEvents>();

  constructor(
    readonly pool: pg.Pool,
    readonly catalogue: Catalogue,
    readonly now: () => Date,
    /** Set once at start by the composition root (see GovService.useSessions). */
    public sessions: SessionDirectory | null,
  ) {}

  requireCitizen(p: Principal): CitizenPrincipal {
    if (p.kind !== 'citizen') throw forbidden('此操作需要市民本人登录。');
    return p;
  }

  requireStaff(p: Principal): StaffPrincipal {
    if (p.kind !== 'staff') throw forbidden('此操作仅限窗口工作人员。');
    return p;
  }

  async citizenOf(p: Principal): Promise<CitizenRow> {
    const { citizenId } = this.requireCitizen(p);
    const c = await findCitizen(this.pool, citizenId);
    if (!c) throw notFound('市民信息');
    return c;
  }

  async sourcesOf(c: CitizenRow): Promise<ProfileSources> {
    return { facts: citizenFacts(c, this.now()), licences: await listLicenceIds(this.pool, c.id) };
  }

  /**
   * A session id named by a citizen's request must be one of that citizen's own sessions: a
   * request naming another person's session is refused as if the session did not exist.
   */
  async checkSession(citizenId: string, sessionId: string | undefined): Promise<string | null> {
    if (sessionId === undefined) return null;
    if (!this.sessions) throw new AppError('session_unverifiable', 400, '无法核验该会话，请不要指定 sessionId。');
    const owner = await this.sessions.owner(sessionId);
    if (owner !== citizenId) throw notFound('会话');
    return sessionId;
  }

  serviceName(id: string | null): string | null {
    return this.catalogue.name(id) ?? null;
  }
}
