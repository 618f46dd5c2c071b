import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver, WRITES_IDX_MAP, compareWritesSortKeys, writesSortKey,
  type ChannelVersions, type Checkpoint, type CheckpointListOptions, type CheckpointMetadata, type CheckpointPendingWrite,
  type CheckpointTuple, type PendingWrite, type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';
import type pg from 'pg';
import { withTransaction } from '../core/db.js';

/**
 * A lean Postgres checkpointer that keeps only the latest checkpoint of each thread, in one
 * row. The conversation needs nothing else: turns run with durability 'exit' (one checkpoint
 * per turn), nobody reads history, and a restart continues from the latest state.
 *
 * Compared with PostgresSaver (one row per channel per version, every checkpoint kept) a turn
 * costs one upsert instead of ~22 statements in a transaction, a read is a primary-key lookup
 * instead of an aggregate over blobs, and storage stays one row per session instead of
 * growing with every turn (the transcript channel alone grows quadratically there).
 *
 * Pending writes (used by LangGraph only when a step fails under 'sync'/'async' durability)
 * are kept for the latest checkpoint and dropped when the next one is written.
 */
export class LatestCheckpointSaver extends BaseCheckpointSaver {
  constructor(private readonly pool: pg.Pool, serde?: SerializerProtocol) {
    super(serde);
  }

  /** Creates the tables (idempotent; serialised between replicas starting at once). */
  async setup(): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(7420114)');
      await client.query(`CREATE TABLE IF NOT EXISTS agent_checkpoints (
        thread_id text NOT NULL,
        checkpoint_ns text NOT NULL DEFAULT '',
        checkpoint_id text NOT NULL,
        parent_checkpoint_id text,
        type text NOT NULL,
        checkpoint text NOT NULL,
        metadata text NOT NULL,
        pending_writes integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (thread_id, checkpoint_ns))`);
      await client.query(`CREATE TABLE IF NOT EXISTS agent_checkpoint_writes (
        thread_id text NOT NULL,
        checkpoint_ns text NOT NULL DEFAULT '',
        checkpoint_id text NOT NULL,
        task_id text NOT NULL,
        task_path text NOT NULL DEFAULT '',
        idx integer NOT NULL,
        channel text NOT NULL,
        type text,
        blob bytea,
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx))`);
    });
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const { thread_id, checkpoint_ns = '', checkpoint_id } = (config.configurable ?? {}) as Record<string, string | undefined>;
    if (thread_id === undefined) return undefined;
    const { rows } = await this.pool.query<Row>(SELECT_LATEST, [thread_id, checkpoint_ns]);
    const row = rows[0];
    if (!row || (checkpoint_id && row.checkpoint_id !== checkpoint_id)) return undefined;
    return this.toTuple(thread_id, checkpoint_ns, row);
  }

  async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const { thread_id, checkpoint_ns, checkpoint_id } = (config.configurable ?? {}) as Record<string, string | undefined>;
    if (options.limit !== undefined && options.limit <= 0) return;
    const where: string[] = [];
    const args: unknown[] = [];
    if (thread_id !== undefined) where.push(`c.thread_id = $${args.push(thread_id)}`);
    if (checkpoint_ns !== undefined) where.push(`c.checkpoint_ns = $${args.push(checkpoint_ns)}`);
    if (checkpoint_id !== undefined) where.push(`c.checkpoint_id = $${args.push(checkpoint_id)}`);
    const before = options.before?.configurable?.checkpoint_id as string | undefined;
    if (before !== undefined) where.push(`c.checkpoint_id < $${args.push(before)}`);
    const sql = `${SELECT_ROWS}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY c.checkpoint_id DESC${
      options.limit !== undefined ? ` LIMIT ${Math.floor(options.limit)}` : ''}`;
    const { rows } = await this.pool.query<Row & { thread_id: string; checkpoint_ns: string }>(sql, args);
    for (const row of rows) {
      const tuple = await this.toTuple(row.thread_id, row.checkpoint_ns, row);
      if (options.filter && !Object.entries(options.filter).every(([k, v]) => (tuple.metadata as Record<string, unknown> | undefined)?.[k] === v)) continue;
      yield tuple;
    }
  }

  async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, _newVersions: ChannelVersions): Promise<RunnableConfig> {
    const { thread_id, checkpoint_ns = '', checkpoint_id } = (config.configurable ?? {}) as Record<string, string | undefined>;
    if (thread_id === undefined) throw new Error('Failed to put checkpoint: missing thread_id in config.configurable');
    const [[type, body], [, meta]] = await Promise.all([this.serde.dumpsTyped(checkpoint), this.serde.dumpsTyped(metadata)]);
    if (type !== 'json') throw new Error(`LatestCheckpointSaver stores JSON checkpoints, not ${type}`);
    await this.pool.query(UPSERT, [thread_id, checkpoint_ns, checkpoint.id, checkpoint_id ?? null, type, toText(body), toText(meta)]);
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath = ''): Promise<void> {
    const { thread_id, checkpoint_ns = '', checkpoint_id } = (config.configurable ?? {}) as Record<string, string | undefined>;
    if (thread_id === undefined || checkpoint_id === undefined || writes.length === 0) return;
    const special = writes.every(([channel]) => channel in WRITES_IDX_MAP);
    const rows = await Promise.all(writes.map(async ([channel, value], i) => {
      const [type, blob] = await this.serde.dumpsTyped(value);
      return [thread_id, checkpoint_ns, checkpoint_id, taskId, taskPath, WRITES_IDX_MAP[channel] ?? i, channel, type, toBuffer(blob)];
    }));
    // One statement for all writes of the task.
    // One statement for all writes of the task; the checkpoint row counts them, so that reading
    // a checkpoint without pending writes (the usual case) stays a single-row lookup.
    const values = rows.map((_, r) => `(${Array.from({ length: 9 }, (_, c) => `$${r * 9 + c + 1}`).join(', ')})`).join(', ');
    await this.pool.query(
      `WITH w AS (
         INSERT INTO agent_checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
         VALUES ${values} ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO ${
          special ? 'UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob' : 'NOTHING'}
         RETURNING 1)
       UPDATE agent_checkpoints SET pending_writes = pending_writes + (SELECT count(*) FROM w)
        WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3`,
      rows.flat(),
    );
  }

  async deleteThread(threadId: string): Promise<void> {
    await this.pool.query(
      `WITH w AS (DELETE FROM agent_checkpoint_writes WHERE thread_id = $1) DELETE FROM agent_checkpoints WHERE thread_id = $1`,
      [threadId],
    );
  }

  private async toTuple(threadId: string, ns: string, row: Row): Promise<CheckpointTuple> {
    const [checkpoint, metadata] = await Promise.all([
      this.serde.loadsTyped(row.type, row.checkpoint) as Promise<Checkpoint>,
      this.serde.loadsTyped('json', row.metadata) as Promise<CheckpointMetadata>,
    ]);
    let pendingWrites: CheckpointPendingWrite[] = [];
    if (row.pending_writes > 0) {
      const { rows: writes } = await this.pool.query<WriteRow>(
        `SELECT task_id, task_path, idx, channel, type, blob FROM agent_checkpoint_writes
          WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3`,
        [threadId, ns, row.checkpoint_id],
      );
      writes.sort((a, b) => compareWritesSortKeys(writesSortKey(a.task_path, a.task_id, a.idx), writesSortKey(b.task_path, b.task_id, b.idx)));
      pendingWrites = await Promise.all(
        writes.map(async (w) => [w.task_id, w.channel, w.type && w.blob ? await this.serde.loadsTyped(w.type, w.blob) : null] as CheckpointPendingWrite),
      );
    }
    return {
      config: { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: row.checkpoint_id } },
      checkpoint,
      metadata,
      pendingWrites,
      ...(row.parent_checkpoint_id
        ? { parentConfig: { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: row.parent_checkpoint_id } } }
        : {}),
    };
  }
}

interface Row {
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  type: string;
  checkpoint: string;
  metadata: string;
  pending_writes: number;
}

interface WriteRow {
  task_id: string;
  task_path: string;
  idx: number;
  channel: string;
  type: string | null;
  blob: Buffer | null;
}

const SELECT_ROWS = `SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type, c.checkpoint, c.metadata,
  c.pending_writes FROM agent_checkpoints c`;
const SELECT_LATEST = `${SELECT_ROWS} WHERE c.thread_id = $1 AND c.checkpoint_ns = $2`;

// Replaces the thread's checkpoint and drops pending writes of the one it replaces, in one statement.
const UPSERT = `WITH up AS (
    INSERT INTO agent_checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (thread_id, checkpoint_ns) DO UPDATE SET
      checkpoint_id = EXCLUDED.checkpoint_id, parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type,
      checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata, pending_writes = 0, updated_at = now()
    RETURNING 1)
  DELETE FROM agent_checkpoint_writes WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id <> $3`;

const decoder = new TextDecoder();

/** JSON checkpoints are stored as text: no bytea hex encoding on the way in or out. */
function toText(u: Uint8Array | string): string {
  return typeof u === 'string' ? u : decoder.decode(u);
}

function toBuffer(u: Uint8Array | string): Buffer {
  return typeof u === 'string' ? Buffer.from(u, 'utf8') : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

