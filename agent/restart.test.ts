import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, startServerProcess, type ServerProcess } from '../test/server-process.js';
import type { Turn } from './turn.js';

const dataDir = mkdtempSync(join(tmpdir(), 'xiaoshen-restart-'));
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a server killed mid-conversation', () => {
  it('continues every conversation after a restart and submits exactly once', async () => {
    const env = { DATA_DIR: dataDir, TOKEN_SECRET: 'restart-test-secret-restart-test-secret-0123' };
    server = await startServerProcess(env);
    let api = apiClient(server.url);
    const { body: login } = await api<{ token: string }>('POST', '/api/auth/sandbox-login', { citizenId: 'c-sun-ming' });
    const token = login.token;
    const { body: created } = await api<{ sessionId: string }>('POST', '/api/sessions', { channel: 'app' }, token);
    const s = created.sessionId;
    const t1 = await api<Turn>('POST', `/api/sessions/${s}/messages`, { text: '我要开无犯罪记录证明' }, token);
    expect(t1.body.awaiting).toBe('purpose');
    const t2 = await api<Turn>('POST', `/api/sessions/${s}/messages`, { text: '出国留学用，去英国' }, token);
    expect(t2.body.awaiting).toBe('confirm');

    await server.kill('SIGKILL');
    server = await startServerProcess({ ...env, PORT: new URL(server.url).port });
    api = apiClient(server.url);

    const t3 = await api<Turn>('POST', `/api/sessions/${s}/messages`, { text: '确认' }, token);
    expect(t3.status).toBe(200);
    expect(t3.body.outcome).toBe('submitted');
    // A client that did not see the answer retries the same confirmation: still one application.
    await api<Turn>('POST', `/api/sessions/${s}/messages`, { text: '确认' }, token);
    const apps = await api<unknown>('GET', '/api/me/applications', undefined, token);
    const list = Array.isArray(apps.body) ? apps.body : (apps.body as { applications: unknown[] }).applications;
    const certs = (list as { serviceId: string; fields: Record<string, string> }[]).filter((a) => a.serviceId === 'criminal_record_certificate');
    expect(certs).toHaveLength(1);
    expect(certs[0]!.fields).toMatchObject({ purpose: '出国(境)', destination: '英国' });
  }, 240_000);
});
