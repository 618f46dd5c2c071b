import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { PGLITE_EXTENSIONS } from '../core/db.js';
import { createEphemeralSchema } from '../core/ephemeral-schema.js';

/**
 * A Postgres server for tests that need several processes on one database (scale-out): with
 * TEST_DATABASE_URL, a throwaway schema on that server; otherwise an in-memory PGlite (pgvector,
 * pg_trgm) served over TCP by @electric-sql/pglite-socket.
 *
 * pglite-socket (0.2.x) accepts up to `maxConnections` clients (default 1) and funnels them
 * into PGlite's one backend session, one protocol message at a time. It keeps a transaction on
 * the connection that opened it, but between transactions it interleaves messages of different
 * connections, so two clients' extended-protocol queries (Parse, Bind, Execute, Sync) get mixed
 * up ("bind message supplies 1 parameters, but prepared statement "" requires 2"); and an
 * exception in one message leaves its queue stuck. That is why tools/testing.ts keeps to one
 * connection. Here the queue is replaced by one that serves a connection's messages up to its
 * Sync (or simple Query) before switching, and keeps transactions together, so any number of
 * connections from any number of processes is safe.
 *
 * What one PGlite session cannot give: separate sessions. Every connection shares one backend,
 * so advisory locks and row locks do not exclude across connections here (they do on a real
 * Postgres server); a test can check that instances share state, not that they exclude.
 */
export interface SharedPostgres {
  url: string;
  /** A real Postgres server (TEST_DATABASE_URL), where sessions and locks are separate per connection. */
  real: boolean;
  /** A query on the shared database, outside the connections under test. */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

interface QueueItem {
  handlerId: number;
  message: Uint8Array;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
  onData: (data: Uint8Array) => void;
}

interface QueueInternals {
  queue: QueueItem[];
  processing: boolean;
  lastHandlerId: number | null;
  db: PGlite;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

export async function startSharedPostgres(opts: { maxConnections?: number } = {}): Promise<SharedPostgres> {
  // Tests on a real server (TEST_DATABASE_URL): a throwaway schema there, shared the same way.
  const server = process.env.TEST_DATABASE_URL;
  if (server) {
    const schema = await createEphemeralSchema(server);
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    return {
      url: schema.url,
      real: true,
      query: async (sql, params = []) => (await client.query(sql, params)).rows,
      async stop() {
        await client.end();
        await schema.drop();
      },
    };
  }
  const pglite = await PGlite.create('memory://', { extensions: PGLITE_EXTENSIONS });
  const socket = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: opts.maxConnections ?? 64 });
  fixQueue((socket as unknown as { queryQueue: QueueInternals }).queryQueue);
  await socket.start();
  return {
    url: `postgres://postgres@${socket.getServerConn()}/postgres`,
    real: false,
    query: async (sql, params = []) => (await pglite.query<Record<string, unknown>>(sql, params)).rows,
    async stop() {
      await socket.stop();
      await pglite.close();
    },
  };
}

function fixQueue(q: QueueInternals): void {
  /** The connection whose protocol cycle (up to Sync) is in progress, if any. */
  let current: number | null = null;
  q.processQueue = async function processQueue(this: QueueInternals) {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const owner = current ?? (this.db.isInTransaction() ? this.lastHandlerId : null);
        const i = owner === null ? 0 : this.queue.findIndex((m) => m.handlerId === owner);
        if (i === -1) break; // wait for the owner's next message
        const item = this.queue.splice(i, 1)[0]!;
        let bytes = 0;
        try {
          await this.db.runExclusive(() => this.db.execProtocolRawStream(item.message, {
            onRawData: (data: Uint8Array) => {
              bytes += data.length;
              item.onData(data);
            },
          }));
        } catch (err) {
          current = null;
          item.reject(err);
          continue;
        }
        const type = item.message[0];
        // A startup packet starts with its length (first byte 0); it completes a cycle too.
        current = type === SYNC || type === QUERY || type === TERMINATE || type === 0 ? null : item.handlerId;
        this.lastHandlerId = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };
  const clear = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = (handlerId: number) => {
    clear(handlerId);
    if (current === handlerId) current = null;
    void q.processQueue();
  };
}
