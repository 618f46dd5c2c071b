import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One process at a time on an embedded data folder. PGlite has no postmaster to refuse a
 * second process: two processes writing one folder corrupt it (seen here: a server stuck in
 * WebAssembly at 100% CPU, deaf to SIGTERM). The lock is a file naming its holder — pid and
 * the process's start time, so that a pid reused after a crash or a container restart (pid 1
 * again) is not taken for the holder. A holder that is gone leaves a stale file, taken over.
 */
export class DataDirInUseError extends Error {}

interface Holder {
  pid: number;
  /** Start time of the process (clock ticks since boot, /proc/<pid>/stat), when known. */
  start: string | null;
}

export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'pg.lock');
  const me: Holder = { pid: process.pid, start: startTime(process.pid) };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      return () => {
        try {
          const h = readHolder(file);
          if (h?.pid === me.pid && h.start === me.start) rmSync(file, { force: true });
        } catch {
          // Already gone.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(file);
      if (holder && running(holder)) {
        throw new DataDirInUseError(
          `The embedded database in ${dataDir} is in use by process ${holder.pid}${holder.pid === process.pid ? ' (this one)' : ''}. `
          + 'It must not be open in two processes at once: stop that process, give this one another DATA_DIR, or use a Postgres server (DATABASE_URL).',
        );
      }
      rmSync(file, { force: true }); // stale: its holder is gone
    }
  }
  throw new DataDirInUseError(`Could not lock the embedded database in ${dataDir} (${file}).`);
}

function readHolder(file: string): Holder | null {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof h.pid === 'number' ? { pid: h.pid, start: typeof h.start === 'string' ? h.start : null } : null;
  } catch {
    return null; // unreadable or half-written: treated as stale
  }
}

function running(h: Holder): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The pid exists; it is the holder only if it started when the holder did.
  const start = startTime(h.pid);
  return h.start === null || start === null || start === h.start;
}

function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): starttime is field 22 overall.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
