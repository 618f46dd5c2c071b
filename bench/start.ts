import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './client.js';
import { coldStart } from './load.js';
import { log } from './progress.js';
import { spawnServer, type BenchServer } from './server.js';
import { percentile, round } from './stats.js';


export interface StartFigures {
  /** Spawn -> first answered turn on a fresh DATA_DIR with an empty CACHE_DIR (a new install's first start). */
  fresh_install_ms: number;
  /** The same on a fresh DATA_DIR, the install's cache kept (median of `runs`). */
  fresh_ms: number;
  /** The same on the DATA_DIR of an earlier start (median of `runs`). */
  existing_ms: number;
  /** Server RSS after that start and its first turn, idle, after a forced GC. */
  rss_at_rest_mb: number;
  runs: number;
}

/**
 * Start-up as an operator meets it, each start a new server process: a new install (nothing
 * kept), a new data folder on an install that has started before, and a restart on an
 * existing data folder. The cache is a temporary CACHE_DIR, so the install's own is left alone.
 * Returns the figures and the last (existing-folder) server, still running, for the load phases.
 */
export async function startPhases(opts: { logFile: string; runs: number; limitMs: number }): Promise<{ figures: StartFigures; server: BenchServer; cleanup(): void }> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'xiaoshen-bench-cache-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'xiaoshen-bench-data-'));
  const once = async (dir: string | undefined, keep: boolean) => {
    const server = await spawnServer({ logFile: opts.logFile, cacheDir, ...(dir ? { dataDir: dir } : {}), keepDataDir: keep });
    const { ms } = await coldStart(server, opts.limitMs);
    return { server, ms };
  };
  log('start-up: a new install, new data folders, restarts');
  const first = await once(dataDir, true);
  await first.server.stop();
  const fresh: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const r = await once(undefined, false);
    fresh.push(r.ms);
    await r.server.stop();
  }
  const existing: number[] = [];
  let server: BenchServer | undefined;
  for (let i = 0; i < opts.runs; i++) {
    const r = await once(dataDir, true);
    existing.push(r.ms);
    if (i < opts.runs - 1) await r.server.stop();
    else server = r.server;
  }
  // At rest: the start and its first turn done, nothing open, garbage collected.
  await sleep(1500);
  await server!.gc();
  await sleep(300);
  const figures: StartFigures = {
    fresh_install_ms: Math.round(first.ms),
    fresh_ms: Math.round(percentile(fresh, 50)),
    existing_ms: Math.round(percentile(existing, 50)),
    rss_at_rest_mb: round(server!.rssMb()),
    runs: opts.runs,
  };
  log(`start-up: new install ${figures.fresh_install_ms} ms, new data folder ${figures.fresh_ms} ms, existing ${figures.existing_ms} ms; at rest ${figures.rss_at_rest_mb} MB`);
  return {
    figures,
    server: server!,
    cleanup: () => {
      rmSync(cacheDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
