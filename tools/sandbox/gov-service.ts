import type pg from 'pg';
import { catalogue as projectCatalogue, type Catalogue } from '../../knowledge/catalogue.js';
import { ApplicationService } from './application-service.js';
import { BundleService } from './bundle-service.js';
import { CatalogueService } from './catalogue-service.js';
import { CitizenService } from './citizen-service.js';
import { HandoffService } from './handoff-service.js';
import { LicenceShareService } from './licence-share.js';
import { OfferService } from './offer-service.js';
import { ReviewService } from './review-service.js';
import { ServiceContext, type SessionDirectory } from './service-context.js';

export type { GovEvents, SessionDirectory, TranscriptLine } from './service-context.js';

export interface GovServiceOptions {
  catalogue?: Catalogue;
  /** Where service guides live (knowledge/guides). */
  guidesDir?: string;
  /** The clock, for ages, claim windows and tests. */
  now?: () => Date;
  /** Who owns a session and what was said in it (wired by the composition root). */
  sessions?: SessionDirectory;
  /** Signs 出示 codes of e-licences (deriveLicenceShareKey of the token secret); random per process when absent. */
  licenceShareKey?: Uint8Array;
}

/**
 * The sandbox 一网通办 service API, one part per concern, all driven by the catalogue: the
 * catalogue and guides, the citizen's own data, applications, 免申即享 offers, 一件事
 * bundles, handoffs and staff review.
 * Every method takes the acting principal; reads of personal data and every write are audited
 * (who, what, whose, when, why). A citizen only ever reaches their own records; staff
 * operations require a staff principal.
 */
export class GovService {
  readonly catalogue: Catalogue;
  readonly services: CatalogueService;
  readonly citizens: CitizenService;
  readonly applications: ApplicationService;
  readonly offers: OfferService;
  readonly bundles: BundleService;
  readonly handoffs: HandoffService;
  readonly review: ReviewService;
  /** 出示 (a signed QR code) and no-login verification of e-licences. */
  readonly licenceShare: LicenceShareService;
  private readonly ctx: ServiceContext;

  constructor(private readonly pool: pg.Pool, opts: GovServiceOptions = {}) {
    this.catalogue = opts.catalogue ?? projectCatalogue();
    this.ctx = new ServiceContext(pool, this.catalogue, opts.now ?? (() => new Date()), opts.sessions ?? null);
    this.services = new CatalogueService(this.ctx, opts.guidesDir);
    this.citizens = new CitizenService(this.ctx);
    this.applications = new ApplicationService(this.ctx);
    this.offers = new OfferService(this.ctx);
    this.bundles = new BundleService(this.ctx, this.applications);
    this.handoffs = new HandoffService(this.ctx, this.bundles);
    this.review = new ReviewService(this.ctx);
    this.licenceShare = new LicenceShareService(this.ctx, opts.licenceShareKey);
  }

  /** Status changes and staff messages, for live delivery by the channels. */
  get events() {
    return this.ctx.events;
  }

  /** Late wiring of the session directory (the composition root creates the channels after the service). */
  useSessions(sessions: SessionDirectory): void {
    this.ctx.sessions = sessions;
  }

  /** True when the database answers (for health checks). */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }
}
