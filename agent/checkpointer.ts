import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver, JsonPlusSerializer, TASKS, WRITES_IDX_MAP, compareWritesSortKeys, maxChannelVersion, writesSortKey,
  type ChannelVersions, type Checkpoint, type CheckpointListOptions, type CheckpointMetadata, type CheckpointPendingWrite,
  type CheckpointTuple, type PendingWrite,
} from '@langchain/langgraph-checkpoint';
import type pg from 'pg';

/**
 * A lean Postgres checkpointer for LangGraph, conforming to its checkpointer contract (the
 * `@langchain/langgraph-checkpoint-validation` suite runs against it in test/checkpointer.test.ts).
 * Tables come from the agent's versioned migration (agent/migrations/001_checkpoints.sql).
 *
 * Why not PostgresSaver: that stores one row per channel per version and keeps every
 * checkpoint, about 22 statements a turn and storage that grows with every turn (quadratically,
 * for a history channel). Here a checkpoint is one row holding the whole state: a turn
 * (durability 'exit') writes one statement, which also drops checkpoints older than the
 * newest `keep` of that conversation; reading the latest is one index lookup.
 *
 * What it supports, and what it does not:
 * - History: every checkpoint is kept when `keep` is `Infinity`; the product keeps the newest
 *   few (a pruned checkpoint reads as one never stored, as the contract allows for a deleted one).
 * - Channel deltas: NOT supported. Like LangGraph's own MemorySaver and SqliteSaver, a
 *   checkpoint is stored whole (all its channel values), not only the channels of `newVersions`;
 *   the one conformance test about deltas is therefore skipped, by name, in the test.
 * - Checkpoints of format v1–v3 (before v4 moved pending sends into the tasks channel) are
 *   migrated on read, as MemorySaver does.
 * - Serialisation: JSON only, as text. The default serializer (JsonPlusSerializer) is the only
 *   one accepted — it is fixed here, not a parameter — and a value it would store as anything
 *   but JSON (raw bytes) is refused when put, naming the channel type.
 */
export interface CheckpointSaverOptions {
  /** Checkpoints kept per conversation and namespace, newest first (default 4; Infinity keeps all). */
  keep?: number;
}

export class PostgresCheckpointSaver extends BaseCheckpointSaver {
  private readonly keep: number;

  constructor(private readonly pool: pg.Pool, opts: CheckpointSaverOptions = {}) {
    super(new JsonPlusSerializer());
    const keep = opts.keep ?? 4;
    if (!(keep === Infinity || (Number.isInteger(keep) && keep >= 1))) throw new Error(`keep must be a positive integer or Infinity, not ${keep}`);
    this.keep = keep;
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const { thread_id, checkpoint_ns = '', checkpoint_id } = conf(config);
    if (thread_id === undefined) return undefined;
    const { rows } = checkpoint_id
      ? await this.pool.query<Row>(`${SELECT_ROWS} WHERE c.thread_id = $1 AND c.checkpoint_ns = $2 AND c.checkpoint_id = $3`, [thread_id, checkpoint_ns, checkpoint_id])
      : await this.pool.query<Row>(`${SELECT_ROWS} WHERE c.thread_id = $1 AND c.checkpoint_ns = $2 ORDER BY c.checkpoint_id DESC LIMIT 1`, [thread_id, checkpoint_ns]);
    const row = rows[0];
    return row ? this.toTuple(row) : undefined;
  }

  async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const { thread_id, checkpoint_ns, checkpoint_id } = conf(config);
    if (options.limit !== undefined && options.limit <= 0) return;
    const where: string[] = [];
    const args: unknown[] = [];
    if (thread_id !== undefined) where.push(`c.thread_id = $${args.push(thread_id)}`);
    if (checkpoint_ns !== undefined) where.push(`c.checkpoint_ns = $${args.push(checkpoint_ns)}`);
    if (checkpoint_id !== undefined) where.push(`c.checkpoint_id = $${args.push(checkpoint_id)}`);
    const before = options.before?.configurable?.checkpoint_id as string | undefined;
    if (before !== undefined) where.push(`c.checkpoint_id < $${args.push(before)}`);
    const sql = `${SELECT_ROWS}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY c.checkpoint_id DESC`;
    const { rows } = await this.pool.query<Row>(sql, args);
    let n = 0;
    for (const row of rows) {
      const tuple = await this.toTuple(row);
      if (options.filter && !Object.entries(options.filter).every(([k, v]) => deepEqual((tuple.metadata as Record<string, unknown> | undefined)?.[k], v))) continue;
      yield tuple;
      if (options.limit !== undefined && ++n >= options.limit) return;
    }
  }

  async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, _newVersions: ChannelVersions): Promise<RunnableConfig> {
    const { thread_id, checkpoint_ns = '', checkpoint_id } = conf(config);
    if (thread_id === undefined) throw new Error('Failed to put checkpoint: missing thread_id in config.configurable');
    const [[type, body], [metaType, meta]] = await Promise.all([this.serde.dumpsTyped(checkpoint), this.serde.dumpsTyped(metadata)]);
    if (type !== 'json' || metaType !== 'json') throw new Error(`PostgresCheckpointSaver stores JSON checkpoints only, not ${type === 'json' ? metaType : type}`);
    const args = [thread_id, checkpoint_ns, checkpoint.id, checkpoint_id ?? null, type, toText(body), toText(meta)];
    await this.pool.query(this.keep === Infinity ? INSERT : INSERT_AND_PRUNE, this.keep === Infinity ? args : [...args, this.keep - 1]);
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath = ''): Promise<void> {
    const { thread_id, checkpoint_ns = '', checkpoint_id } = conf(config);
    if (thread_id === undefined) throw new Error('Failed to put writes: missing thread_id in config.configurable');
    if (checkpoint_id === undefined) throw new Error('Failed to put writes: missing checkpoint_id in config.configurable');
    if (writes.length === 0) return;
    const special = writes.every(([channel]) => channel in WRITES_IDX_MAP);
    const rows = await Promise.all(writes.map(async ([channel, value], i) => {
      const [type, blob] = await this.serde.dumpsTyped(value);
      return [thread_id, checkpoint_ns, checkpoint_id, taskId, taskPath, WRITES_IDX_MAP[channel] ?? i, channel, type, toBuffer(blob)];
    }));
    // One statement for all writes of the task; the checkpoint row counts them, so that reading
    // a checkpoint without pending writes (the usual case) stays a single-row lookup.
    const values = rows.map((_, r) => `(${Array.from({ length: 9 }, (_, c) => `$${r * 9 + c + 1}`).join(', ')})`).join(', ');
    await this.pool.query(
      `WITH w AS (
         INSERT INTO lg_checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
         VALUES ${values} ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO ${
          special ? 'UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob' : 'NOTHING'}
         RETURNING 1)
       UPDATE lg_checkpoints SET pending_writes = pending_writes + (SELECT count(*) FROM w)
        WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3`,
      rows.flat(),
    );
  }

  async deleteThread(threadId: string): Promise<void> {
    await this.pool.query(
      `WITH w AS (DELETE FROM lg_checkpoint_writes WHERE thread_id = $1) DELETE FROM lg_checkpoints WHERE thread_id = $1`,
      [threadId],
    );
  }

  /**
   * Before format v4 the sends of a step were pending writes of the parent checkpoint on the
   * tasks channel; they become the tasks channel's value, as LangGraph's MemorySaver migrates them.
   */
  private async migratePendingSends(checkpoint: Checkpoint, row: Row): Promise<void> {
    const { rows } = await this.pool.query<WriteRow>(
      `SELECT task_id, task_path, idx, channel, type, blob FROM lg_checkpoint_writes
        WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3 AND channel = $4`,
      [row.thread_id, row.checkpoint_ns, row.parent_checkpoint_id, TASKS],
    );
    rows.sort((a, b) => compareWritesSortKeys(writesSortKey(a.task_path, a.task_id, a.idx), writesSortKey(b.task_path, b.task_id, b.idx)));
    const sends = await Promise.all(rows.map((w) => (w.type && w.blob ? this.serde.loadsTyped(w.type, w.blob) : null)));
    checkpoint.channel_values = { ...(checkpoint.channel_values ?? {}), [TASKS]: sends };
    const versions = Object.values(checkpoint.channel_versions ?? {});
    checkpoint.channel_versions = { ...(checkpoint.channel_versions ?? {}), [TASKS]: versions.length ? maxChannelVersion(...versions) : this.getNextVersion(undefined) };
  }

  private async toTuple(row: Row): Promise<CheckpointTuple> {
    const [checkpoint, metadata] = await Promise.all([
      this.serde.loadsTyped(row.type, row.checkpoint) as Promise<Checkpoint>,
      this.serde.loadsTyped('json', row.metadata) as Promise<CheckpointMetadata>,
    ]);
    let pendingWrites: CheckpointPendingWrite[] = [];
    if (row.pending_writes > 0) {
      const { rows: writes } = await this.pool.query<WriteRow>(
        `SELECT task_id, task_path, idx, channel, type, blob FROM lg_checkpoint_writes
          WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3`,
        [row.thread_id, row.checkpoint_ns, row.checkpoint_id],
      );
      writes.sort((a, b) => compareWritesSortKeys(writesSortKey(a.task_path, a.task_id, a.idx), writesSortKey(b.task_path, b.task_id, b.idx)));
      pendingWrites = await Promise.all(
        writes.map(async (w) => [w.task_id, w.channel, w.type && w.blob ? await this.serde.loadsTyped(w.type, w.blob) : null] as CheckpointPendingWrite),
      );
    }
    if (checkpoint.v < 4 && row.parent_checkpoint_id) await this.migratePendingSends(checkpoint, row);
    const ns = row.checkpoint_ns;
    return {
      config: { configurable: { thread_id: row.thread_id, checkpoint_ns: ns, checkpoint_id: row.checkpoint_id } },
      checkpoint,
      metadata,
      pendingWrites,
      ...(row.parent_checkpoint_id
        ? { parentConfig: { configurable: { thread_id: row.thread_id, checkpoint_ns: ns, checkpoint_id: row.parent_checkpoint_id } } }
        : {}),
    };
  }
}

function conf(config: RunnableConfig): { thread_id?: string; checkpoint_ns?: string; checkpoint_id?: string } {
  return (config.configurable ?? {}) as { thread_id?: string; checkpoint_ns?: string; checkpoint_id?: string };
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

interface Row {
  thread_id: string;
  checkpoint_ns: string;
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
  c.pending_writes FROM lg_checkpoints c`;

const INSERT = `INSERT INTO lg_checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
    parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type, checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata`;

// The new checkpoint, and the conversation's checkpoints beyond the newest `keep` (with their
// writes) dropped, in one statement. The CTEs see the table as it was: the newest keep-1 old
// ones stay beside the new one.
const INSERT_AND_PRUNE = `WITH ins AS (${INSERT} RETURNING 1),
  old AS (SELECT checkpoint_id FROM lg_checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id <> $3
          ORDER BY checkpoint_id DESC OFFSET $8),
  dw AS (DELETE FROM lg_checkpoint_writes WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id IN (SELECT checkpoint_id FROM old))
  DELETE FROM lg_checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id IN (SELECT checkpoint_id FROM old)`;

const decoder = new TextDecoder();

/** JSON checkpoints are stored as text: no bytea hex encoding on the way in or out. */
function toText(u: Uint8Array | string): string {
  return typeof u === 'string' ? u : decoder.decode(u);
}

function toBuffer(u: Uint8Array | string): Buffer {
  return typeof u === 'string' ? Buffer.from(u, 'utf8') : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
