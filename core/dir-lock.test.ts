import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './db.js';
import { DataDirInUseError, lockDataDir } from './dir-lock.js';

const root = mkdtempSync(join(tmpdir(), 'xiaoshen-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('one process at a time on an embedded data folder', () => {
  it('refuses a second open while the first holds it, naming the holder, and allows it after', async () => {
    const dir = join(root, 'a');
    const first = await openDatabase({ dataDir: dir });
    try {
      const err = await openDatabase({ dataDir: dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataDirInUseError);
      expect((err as Error).message).toContain(`in use by process ${process.pid}`);
      expect((err as Error).message).toMatch(/DATABASE_URL/);
      // The first is untouched by the refused attempt.
      expect((await first.pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await first.close();
    }
    const again = await openDatabase({ dataDir: dir });
    await again.close();
  }, 60_000);

  it('takes over a lock left by a process that is gone, or by a reused pid', () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const d = mkdtempSync(join(root, 'b-'));
    writeFileSync(join(d, 'pg.lock'), JSON.stringify({ pid: Number(gone), start: '1' }));
    const release = lockDataDir(d);
    expect(JSON.parse(readFileSync(join(d, 'pg.lock'), 'utf8')).pid).toBe(process.pid);
    release();
    // Our own pid, but another start time: a restarted container's pid 1, not this process.
    writeFileSync(join(d, 'pg.lock'), JSON.stringify({ pid: process.pid, start: '0' }));
    lockDataDir(d)();
    // A half-written file is stale too.
    writeFileSync(join(d, 'pg.lock'), '{"pid":');
    lockDataDir(d)();
    expect(() => readFileSync(join(d, 'pg.lock'))).toThrow();
  });
});
