import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PGLITE_EXTENSIONS } from '../core/db.js';

/**
 * A Postgres server for tests that need several processes on one database (scale-out): an
 * in-memory PGlite (pgvector, pg_trgm) served over TCP by @electric-sql/pglite-socket.
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
  server: PGLiteSocketServer;
  pglite: PGlite;
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
  const pglite = await PGlite.create('memory://', { extensions: PGLITE_EXTENSIONS });
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: opts.maxConnections ?? 64 });
  fixQueue((server as unknown as { queryQueue: QueueInternals }).queryQueue);
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    server,
    pglite,
    async stop() {
      await server.stop();
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
