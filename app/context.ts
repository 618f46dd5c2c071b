import type { Config } from '../core/config.js';
import { openDatabase, type Database } from '../core/db.js';
import { configuredCache, type FileCache } from '../core/file-cache.js';
import { createLogger, type Logger } from '../core/log.js';
import { runMigrations } from '../core/migrate.js';
import { CATALOGUE_PATH, loadCatalogue, type Catalogue } from '../knowledge/catalogue.js';
import { GUIDES_DIR } from '../knowledge/guides.js';
import { createIdentityProvider, loadTokenSecret, seedStaff, TokenSigner, type IdentityProvider } from '../tools/identity/index.js';
import { GovService } from '../tools/sandbox/gov-service.js';
import { deriveLicenceShareKey } from '../tools/sandbox/licence-share.js';
import { loadSeedCitizens, seedSandbox, type SeedResult } from '../tools/sandbox/seed.js';
import { MIGRATION_DIRS } from './migrations.js';

/**
 * The application's shared resources, created once per process: configuration, the
 * database (migrated and seeded), the logger, identity and the sandbox service API.
 */
export interface AppContext {
  config: Config;
  db: Database;
  log: Logger;
  identity: IdentityProvider;
  gov: GovService;
  /** Where the service data comes from: the catalogue and the guides (a fixture catalogue in tests). */
  data: { catalogue: Catalogue; cataloguePath: string; guidesDir: string };
  /** What this start did to the database (migrations applied, seed rows inserted). */
  startup: { migrationsApplied: string[]; seed: SeedResult; staff: 'inserted' | 'updated' | 'unchanged' };
  /** Derived artefacts kept between starts (CACHE_DIR); none when turned off. */
  cache: FileCache | undefined;
  close(): Promise<void>;
}

export interface AppContextOptions {
  log?: Logger;
  /** For tests: another catalogue file and guides folder, a fixed clock, other seed citizens. */
  cataloguePath?: string;
  guidesDir?: string;
  now?: () => Date;
  citizensFile?: string;
  /** Max connections of a server database pool (DATABASE_URL); default 10. */
  poolMax?: number;
}

export async function createAppContext(config: Config, opts: AppContextOptions = {}): Promise<AppContext> {
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const cache = configuredCache(config, (message) => log.warn(message));
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, max: opts.poolMax, ...(cache ? { cache } : {}) });
  try {
    const migrationsApplied = await runMigrations(db.pool, MIGRATION_DIRS);
    const citizensFile = opts.citizensFile ?? config.SANDBOX_CITIZENS_FILE;
    const seed = await seedSandbox(db.pool, citizensFile ? loadSeedCitizens(citizensFile) : undefined);
    const staff = await seedStaff(db.pool, config.STAFF_USERNAME, config.STAFF_PASSWORD);
    const tokenSecret = loadTokenSecret({ tokenSecret: config.TOKEN_SECRET, dataDir: config.DATA_DIR });
    const identity = createIdentityProvider({
      pool: db.pool,
      signer: new TokenSigner(tokenSecret, config.TOKEN_TTL_SECONDS, {
        kioskTtlSeconds: config.KIOSK_TOKEN_TTL_SECONDS,
      }),
      throttle: { maxFailures: config.STAFF_LOGIN_MAX_FAILURES, lockoutSeconds: config.STAFF_LOCKOUT_SECONDS },
      nodeEnv: config.NODE_ENV,
      kioskDeviceKey: config.KIOSK_DEVICE_KEY,
    });
    const data = {
      catalogue: loadCatalogue(opts.cataloguePath ?? CATALOGUE_PATH),
      cataloguePath: opts.cataloguePath ?? CATALOGUE_PATH,
      guidesDir: opts.guidesDir ?? GUIDES_DIR,
    };
    const gov = new GovService(db.pool, { catalogue: data.catalogue, guidesDir: data.guidesDir, ...(opts.now ? { now: opts.now } : {}),
      // 出示 codes are signed with a key of their own, derived from the token secret (shared by replicas).
      licenceShareKey: deriveLicenceShareKey(tokenSecret) });
    log.info({ db: db.kind, migrationsApplied: migrationsApplied.length, seed, staff, login: identity.methods }, 'app context ready');
    let closed = false;
    return {
      config, db, log, identity, gov, data,
      startup: { migrationsApplied, seed, staff },
      cache,
      async close() {
        if (closed) return;
        closed = true;
        gov.events.removeAllListeners();
        await db.close();
      },
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
