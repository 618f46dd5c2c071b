import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm start` as a process: the production bundle (`npm run build`, dist/main.mjs) listens,
 * finds its data files, answers a turn, keeps its caches, and exits 0 on SIGTERM.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'xiaoshen-main-'));
let firstReply = '';
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['dist/main.mjs'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const address = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 90 s:\n${out}`)), 90_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"address":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('exit', (code) => reject(new Error(`exited early (${code}):\n${out}`)));
  });
  const stop = () => new Promise<number | null>((resolve) => {
    child.on('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  return { address, stop, output: () => out };
}

async function post<T>(url: string, body: unknown, token?: string): Promise<T> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  expect(r.status).toBeLessThan(300);
  return (await r.json()) as T;
}

describe('npm start (the production bundle)', () => {
  it('builds, starts on a fresh data dir, answers a turn from its data files, and exits 0 on SIGTERM', async () => {
    execFileSync(process.execPath, ['app/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
    const cache = join(tmp, 'cache');
    const s = start({ DATA_DIR: join(tmp, 'data'), CACHE_DIR: cache });
    const address = await s.address;
    const health = await fetch(`${address}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    const { token } = await post<{ token: string }>(`${address}/api/auth/sandbox-login`, { citizenId: 'c-sun-ming' });
    const { sessionId } = await post<{ sessionId: string }>(`${address}/api/sessions`, { channel: 'app' }, token);
    const turn = await post<{ reply: string; serviceId: string | null }>(`${address}/api/sessions/${sessionId}/messages`, { text: '我要开无犯罪记录证明' }, token);
    expect(turn.reply).toMatch(/无犯罪记录/);
    firstReply = turn.reply;
    expect(await s.stop()).toBe(0);
    expect(s.output()).toMatch(/shutting down/);
    // What the next start reuses: the trained NLU models and the initialised empty database.
    const kept = readdirSync(cache);
    expect(kept.some((f) => f.startsWith('nlu-act-'))).toBe(true);
    expect(kept.some((f) => f.startsWith('pglite-initdb-'))).toBe(true);
  }, 180_000);

  it('starts again on the same data dir and a second fresh one from the cache, with the same answers', async () => {
    const cache = join(tmp, 'cache');
    for (const dir of ['data', 'data2']) {
      const s = start({ DATA_DIR: join(tmp, dir), CACHE_DIR: cache });
      const address = await s.address;
      const { token } = await post<{ token: string }>(`${address}/api/auth/sandbox-login`, { citizenId: 'c-sun-ming' });
      const { sessionId } = await post<{ sessionId: string }>(`${address}/api/sessions`, { channel: 'app' }, token);
      const turn = await post<{ reply: string }>(`${address}/api/sessions/${sessionId}/messages`, { text: '我要开无犯罪记录证明' }, token);
      expect(turn.reply).toBe(firstReply);
      expect(await s.stop()).toBe(0);
    }
  }, 180_000);
});
