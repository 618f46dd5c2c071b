import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Turn } from '../agent/turn.js';
import { startSharedPostgres, type SharedPostgres } from './pg-socket.js';
import { apiClient, startServerProcess, type ServerProcess } from './server-process.js';

/**
 * Two server processes on one shared Postgres (DATABASE_URL to a pglite-socket server): one
 * conversation's turns alternate between them to completion. Works only if no instance keeps
 * conversation state in memory that the other would need.
 */
const TOKEN_SECRET = 'scale-out-test-secret-scale-out-test-secret-01';
const dirs: string[] = [];
let db: SharedPostgres;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  db = await startSharedPostgres();
  // One after the other, as in a rolling start (the first migrates, seeds and ingests).
  for (let i = 0; i < 2; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'xiaoshen-scale-'));
    dirs.push(dir);
    servers.push(await startServerProcess({ DATABASE_URL: db.url, DATA_DIR: dir, TOKEN_SECRET }, 150_000));
  }
}, 320_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill('SIGTERM')));
  await db?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('two instances on one database', () => {
  it('serve one conversation turn by turn, alternately, to a single submitted application', async () => {
    const [a, b] = servers.map((s) => apiClient(s.url)) as [ReturnType<typeof apiClient>, ReturnType<typeof apiClient>];
    for (const api of [a, b]) {
      const health = await api<{ ok: boolean; db: string }>('GET', '/api/health');
      expect(health.body).toMatchObject({ ok: true, db: 'postgres' });
    }
    // A token issued by one instance is accepted by the other (shared TOKEN_SECRET).
    const { body: login } = await a<{ token: string }>('POST', '/api/auth/sandbox-login', { citizenId: 'c-wang-qiang' });
    const token = login.token;
    const { status, body: created } = await b<{ sessionId: string }>('POST', '/api/sessions', { channel: 'app' }, token);
    expect(status).toBe(201);
    const s = created.sessionId;

    const t1 = await a<Turn>('POST', `/api/sessions/${s}/messages`, { text: '我要开无犯罪记录证明' }, token);
    expect(t1.body.awaiting).toBe('purpose');
    const t2 = await b<Turn>('POST', `/api/sessions/${s}/messages`, { text: '出国留学用，去英国' }, token);
    expect(t2.body.awaiting).toBe('confirm');
    const t3 = await a<Turn>('POST', `/api/sessions/${s}/messages`, { text: '确认' }, token);
    expect(t3.body.outcome).toBe('submitted');
    // The same confirmation again, on the other instance: still one application.
    await b<Turn>('POST', `/api/sessions/${s}/messages`, { text: '确认' }, token);

    const view = await b<{ turns: { text: string }[]; state: { stage: string } }>('GET', `/api/sessions/${s}`, undefined, token);
    expect(view.body.turns.map((t) => t.text).slice(0, 3)).toEqual(['我要开无犯罪记录证明', '出国留学用，去英国', '确认']);
    const apps = await a<{ id: string; serviceId: string; fields: Record<string, string> }[]>('GET', '/api/me/applications', undefined, token);
    const certs = apps.body.filter((x) => x.serviceId === 'criminal_record_certificate');
    expect(certs).toHaveLength(1);
    expect(certs[0]!.id).toBe(t3.body.application?.id);
    expect(certs[0]!.fields).toMatchObject({ purpose: '出国(境)', destination: '英国' });
  }, 120_000);

  it('keep a conversation going when the instance that started it stops', async () => {
    const [a, b] = servers.map((s) => apiClient(s.url)) as [ReturnType<typeof apiClient>, ReturnType<typeof apiClient>];
    const { body: login } = await b<{ token: string }>('POST', '/api/auth/sandbox-login', { citizenId: 'c-lin-xiao' });
    const { body: created } = await a<{ sessionId: string }>('POST', '/api/sessions', { channel: 'app' }, login.token);
    const s = created.sessionId;
    expect((await a<Turn>('POST', `/api/sessions/${s}/messages`, { text: '我要开无犯罪记录证明' }, login.token)).body.awaiting).toBe('purpose');
    await servers[0]!.kill('SIGTERM');
    const t2 = await b<Turn>('POST', `/api/sessions/${s}/messages`, { text: '就业用' }, login.token);
    expect(t2.body.awaiting).toBe('confirm');
    const t3 = await b<Turn>('POST', `/api/sessions/${s}/messages`, { text: '确认' }, login.token);
    expect(t3.body.outcome).toBe('submitted');
  }, 60_000);
});
