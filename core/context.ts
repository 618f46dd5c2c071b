import type { Config } from './config.js';
import { openDatabase, type Database } from './db.js';
import { createLogger, type Logger } from './log.js';
import { runMigrations } from './migrate.js';
import { GovService } from '../tools/sandbox/gov-service.js';
import { seedSandbox, type SeedResult } from '../tools/sandbox/seed.js';
import { createIdentityProvider, loadTokenSecret, seedStaff, TokenSigner, type IdentityProvider } from '../tools/identity/index.js';

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
  /** What this start did to the database (migrations applied, seed rows inserted). */
  startup: { migrationsApplied: string[]; seed: SeedResult; staff: 'inserted' | 'updated' | 'unchanged' };
  close(): Promise<void>;
}

export interface AppContextOptions {
  log?: Logger;
  /** For tests: where guides live, a fixed clock. */
  guidesDir?: string;
  now?: () => Date;
  /** Max connections of a server database pool (DATABASE_URL); default 10. */
  poolMax?: number;
}

export async function createAppContext(config: Config, opts: AppContextOptions = {}): Promise<AppContext> {
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, max: opts.poolMax, migrate: false });
  try {
    const migrationsApplied = await runMigrations(db.pool);
    const seed = await seedSandbox(db.pool);
    const staff = await seedStaff(db.pool, config.STAFF_USERNAME, config.STAFF_PASSWORD);
    const identity = createIdentityProvider({
      pool: db.pool,
      signer: new TokenSigner(loadTokenSecret({ tokenSecret: config.TOKEN_SECRET, dataDir: config.DATA_DIR }), config.TOKEN_TTL_SECONDS),
      nodeEnv: config.NODE_ENV,
      kioskDeviceKey: config.KIOSK_DEVICE_KEY,
    });
    const gov = new GovService(db.pool, { guidesDir: opts.guidesDir, now: opts.now });
    log.info({ db: db.kind, migrationsApplied: migrationsApplied.length, seed, staff, login: identity.methods }, 'app context ready');
    let closed = false;
    return {
      config, db, log, identity, gov,
      startup: { migrationsApplied, seed, staff },
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
