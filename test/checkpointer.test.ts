import { emptyCheckpoint, type Checkpoint } from '@langchain/langgraph-checkpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatestCheckpointSaver } from '../agent/checkpointer.js';
import { AdvisorySessionLock, lockKey } from '../agent/session-lock.js';
import { openDatabase, type Database } from '../core/db.js';
import { startSharedPostgres, type SharedPostgres } from './pg-socket.js';

/** The lean checkpointer (one row per conversation) and the cross-instance session lock. */
let db: Database;
let saver: LatestCheckpointSaver;
beforeAll(async () => {
  db = await openDatabase({ dataDir: 'memory://' });
  saver = new LatestCheckpointSaver(db.pool);
  await saver.setup();
  await saver.setup(); // idempotent
});
afterAll(async () => {
  await db?.close();
});

const cp = (id: string, values: Record<string, unknown>): Checkpoint => ({ ...emptyCheckpoint(), id, channel_values: values, channel_versions: { a: 1 } });
const config = (thread: string, checkpointId?: string) => ({ configurable: { thread_id: thread, checkpoint_ns: '', ...(checkpointId ? { checkpoint_id: checkpointId } : {}) } });

describe('LatestCheckpointSaver', () => {
  it('keeps one row per thread: the latest checkpoint, with its parent and metadata', async () => {
    expect(await saver.getTuple(config('t1'))).toBeUndefined();
    const c1 = await saver.put(config('t1'), cp('0001', { turns: ['一'] }), { source: 'loop', step: 1, parents: {} }, {});
    expect(c1.configurable?.checkpoint_id).toBe('0001');
    await saver.put(config('t1', '0001'), cp('0002', { turns: ['一', '二'], nested: { n: 1, at: '2026-01-01' } }), { source: 'loop', step: 2, parents: {} }, {});
    const latest = await saver.getTuple(config('t1'));
    expect(latest?.checkpoint.id).toBe('0002');
    expect(latest?.checkpoint.channel_values).toEqual({ turns: ['一', '二'], nested: { n: 1, at: '2026-01-01' } });
    expect(latest?.metadata).toMatchObject({ source: 'loop', step: 2 });
    expect(latest?.parentConfig?.configurable?.checkpoint_id).toBe('0001');
    expect(latest?.pendingWrites).toEqual([]);
    // History is not kept: the replaced checkpoint is gone, and only one row exists.
    expect(await saver.getTuple(config('t1', '0001'))).toBeUndefined();
    expect((await saver.getTuple(config('t1', '0002')))?.checkpoint.id).toBe('0002');
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM agent_checkpoints WHERE thread_id = 't1'`);
    expect(rows[0]!.n).toBe(1);
    const listed = [];
    for await (const t of saver.list(config('t1'))) listed.push(t.checkpoint.id);
    expect(listed).toEqual(['0002']);
  });

  it('stores pending writes for the current checkpoint, in order, and drops them with the next one', async () => {
    await saver.put(config('t2'), cp('0001', {}), { source: 'loop', step: 1, parents: {} }, {});
    await saver.putWrites(config('t2', '0001'), [['b', { x: 2 }], ['a', '一']], 'task-2', 'p2');
    await saver.putWrites(config('t2', '0001'), [['c', 3]], 'task-1', 'p1');
    const t = await saver.getTuple(config('t2'));
    expect(t?.pendingWrites).toEqual([['task-1', 'c', 3], ['task-2', 'b', { x: 2 }], ['task-2', 'a', '一']]);
    await saver.put(config('t2', '0001'), cp('0002', {}), { source: 'loop', step: 2, parents: {} }, {});
    expect((await saver.getTuple(config('t2')))?.pendingWrites).toEqual([]);
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM agent_checkpoint_writes WHERE thread_id = 't2'`);
    expect(rows[0]!.n).toBe(0);
  });

  it('deletes a thread', async () => {
    await saver.put(config('t3'), cp('0001', { a: 1 }), { source: 'loop', step: 1, parents: {} }, {});
    await saver.deleteThread('t3');
    expect(await saver.getTuple(config('t3'))).toBeUndefined();
  });
});

describe('AdvisorySessionLock', () => {
  let pg: SharedPostgres;
  beforeAll(async () => {
    pg = await startSharedPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('takes and releases a per-session advisory lock around the work, also when it fails', async () => {
    const lock = new AdvisorySessionLock(pg.url);
    const held = async () => (await pg.pglite.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).rows[0]!.n;
    try {
      expect(await lock.run('ses_a', async () => held())).toBe(1);
      expect(await held()).toBe(0);
      await expect(lock.run('ses_a', async () => { throw new Error('turn failed'); })).rejects.toThrow('turn failed');
      expect(await held()).toBe(0);
      expect(lockKey('ses_a')).toEqual(lockKey('ses_a'));
      expect(lockKey('ses_a')).not.toEqual(lockKey('ses_b'));
    } finally {
      await lock.close();
    }
  });
});
