import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { freePort } from '../test/server-process.js';
import { writeBenchCitizens } from './citizens.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Settings that keep the server's limits out of the measurement (every other setting is the default). */
export const BENCH_ENV: Record<string, string> = {
  NODE_ENV: 'development', // the sandbox login the load uses is disabled in production
  LOG_LEVEL: 'info',
  RATE_LIMIT_IP_MAX: '1000000000',
  RATE_LIMIT_IDENTITY_MAX: '1000000000',
  TOKEN_SECRET: 'bench-secret-bench-secret-bench-secret-0123456789',
};

/** Bundles the server as `npm start` does (app/build.mjs), so the bench measures what runs in production. */
export function bundleServer(): number {
  const t0 = performance.now();
  execFileSync(process.execPath, ['app/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  return performance.now() - t0;
}

export interface BenchServer {
  url: string;
  pid: number;
  dataDir: string;
  child: ChildProcess;
  spawnedAt: number;
  /** Resident set size of the server process, MB (from /proc). */
  rssMb(): number;
  /** CPU time (user + system) the server process has used so far, ms (from /proc). */
  cpuMs(): number;
  /** Forces a full garbage collection in the server (through its inspector); false if unavailable. */
  gc(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Spawns `npm start`'s server (the production bundle, dist/main.mjs: run `bundleServer()`
 * first) as its own process on the embedded database and a free loopback port: on a fresh
 * temporary DATA_DIR unless one is given, with the given CACHE_DIR (default: the install's).
 * The server log goes to `logFile`. With BENCH_CPU_PROF=dir the server runs under --cpu-prof
 * and writes its profile there on stop; BENCH_NODE_FLAGS adds node flags to its command line.
 */
export function spawnServer(opts: { logFile: string; env?: Record<string, string>; dataDir?: string; keepDataDir?: boolean; cacheDir?: string }): Promise<BenchServer> {
  return freePort().then((port) => {
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'xiaoshen-bench-'));
    const prof = process.env.BENCH_CPU_PROF;
    // The inspector (loopback, random port) lets the memory phase force a GC in the server
    // before each RSS reading; nothing is attached to it otherwise.
    // BENCH_NODE_FLAGS: extra node flags for the server only (e.g. --trace-gc).
    const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const args = [...extra, ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), '--inspect=127.0.0.1:0', 'dist/main.mjs'];
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: {
        ...process.env, ...BENCH_ENV, ...opts.env, HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir,
        ...(opts.cacheDir ? { CACHE_DIR: opts.cacheDir } : {}),
        SANDBOX_CITIZENS_FILE: writeBenchCitizens(join(dataDir, 'citizens.json')),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(opts.logFile);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    let inspectorUrl: string | null = null;
    let stderrHead = '';
    const onStderr = (d: Buffer) => {
      stderrHead += d.toString();
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(stderrHead);
      if (m) {
        inspectorUrl = m[1]!;
        child.stderr?.off('data', onStderr);
      } else if (stderrHead.length > 10_000) child.stderr?.off('data', onStderr);
    };
    child.stderr?.on('data', onStderr);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const pid = child.pid!;
    return {
      url: `http://127.0.0.1:${port}`,
      pid,
      dataDir,
      child,
      spawnedAt,
      rssMb: () => {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Number(m[1]) / 1024 : Number.NaN;
      },
      cpuMs: () => {
        // Fields after the command name: utime is the 14th, stime the 15th field (clock ticks, 100/s).
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[11]) + Number(fields[12])) * 10;
      },
      async gc() {
        if (!inspectorUrl) return false;
        const ws = new WebSocket(inspectorUrl);
        await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
        const call = (id: number, method: string) => new Promise<void>((resolve) => {
          const onMessage = (raw: WebSocket.RawData) => {
            if ((JSON.parse(raw.toString()) as { id?: number }).id === id) {
              ws.off('message', onMessage);
              resolve();
            }
          };
          ws.on('message', onMessage);
          ws.send(JSON.stringify({ id, method }));
        });
        await call(1, 'HeapProfiler.enable');
        await call(2, 'HeapProfiler.collectGarbage');
        await call(3, 'HeapProfiler.collectGarbage');
        ws.close();
        return true;
      },
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(t);
        }
        log.end();
        if (!opts.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });
}
