import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { loadConfig, type Config } from '../core/config.js';
import { createAppContext, type AppContext, type AppContextOptions } from '../app/context.js';
import { PGLITE_EXTENSIONS } from '../core/db.js';

/**
 * Test helpers: an app context on in-memory PGlite, or on a PGlite served over TCP by
 * pglite-socket and reached through a real node-postgres connection (DATABASE_URL).
 */
export const TEST_TOKEN_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/** What a throwaway test database is: embedded PGlite, or a schema on TEST_DATABASE_URL's server. */
export const TEST_DB_KIND: 'pglite' | 'postgres' = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';

export function testConfig(overrides: Partial<Config> = {}): Config {
  return loadConfig({}, {
    NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: 'memory://', TOKEN_SECRET: TEST_TOKEN_SECRET,
    STAFF_USERNAME: 'staff01', STAFF_PASSWORD: 'shanghai-staff-demo', ...overrides,
  });
}

export type Backend = 'pglite' | 'tcp';

export interface TestContext extends AppContext {
  /** The socket server, for the TCP backend. */
  socket?: PGLiteSocketServer;
  /** Sessions the service API may be told about (a stand-in for the channels' session store). */
  sessions: { register(sessionId: string, citizenId: string | null): void };
}

/** Wires a session directory into a context's service API, with sessions registered by the test. */
function withSessions(ctx: AppContext): TestContext['sessions'] {
  const owners = new Map<string, string | null>();
  ctx.gov.useSessions({ owner: async (id) => owners.get(id), transcript: async () => [] });
  return { register: (id, citizenId) => void owners.set(id, citizenId) };
}

/**
 * pglite-socket accepts `maxConnections` clients (default 1) and multiplexes them over
 * PGlite's single session, but concurrent extended-protocol queries from different
 * connections interleave once transactions are involved (seen here: "bind message supplies
 * 1 parameters, but prepared statement \"\" requires 2", foreign-key errors from mixed-up
 * parameters). So the TCP backend uses one connection: a pool of max 1. The server also
 * closes a connection after any SQL error; it allows one spare slot so that the pool's
 * replacement can connect while the dropped socket is still being torn down.
 */
export const TCP_POOL_MAX = 1;

export async function createTestContext(backend: Backend = 'pglite', overrides: Partial<Config> = {}, opts: AppContextOptions = {}): Promise<TestContext> {
  if (backend === 'pglite') {
    const ctx = await createAppContext(testConfig(overrides), opts);
    return { ...ctx, sessions: withSessions(ctx) };
  }
  const pglite = await PGlite.create('memory://', { extensions: PGLITE_EXTENSIONS });
  const socket = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: TCP_POOL_MAX + 1 });
  await socket.start();
  const url = `postgres://postgres@${socket.getServerConn()}/postgres`;
  const ctx = await createAppContext(testConfig({ DATABASE_URL: url, ...overrides }), { poolMax: TCP_POOL_MAX, ...opts });
  return {
    ...ctx,
    sessions: withSessions(ctx),
    socket,
    async close() {
      await ctx.close();
      await socket.stop();
      await pglite.close();
    },
  };
}

/** What the HTTP API needs of a context (createApiServer). */
export function apiDeps(ctx: Pick<AppContext, 'gov' | 'identity' | 'log' | 'db'>) {
  return { gov: ctx.gov, identity: ctx.identity, log: ctx.log, dbKind: ctx.db.kind };
}
