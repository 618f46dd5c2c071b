import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, freePort, startServerProcess, type ServerProcess } from '../../test/server-process.js';
import type { Turn } from '../turn.js';

/**
 * The real product (`npm start`'s entry as its own OS process, data on disk) configured for a
 * model whose endpoint is down: OPENAI_BASE_URL points at a closed port. Every model call is
 * refused; the local engine and the templates carry the conversation.
 */
let server: ServerProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'xiaoshen-llm-down-'));
  const closed = await freePort();
  server = await startServerProcess({
    DATA_DIR: dataDir,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: `http://127.0.0.1:${closed}/v1`,
    OPENAI_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'warn',
  });
}, 180_000);

afterAll(async () => {
  await server?.kill();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the server with the model endpoint down', () => {
  it('still completes the certificate flow, through the local engine, within the timeout per turn', async () => {
    const api = apiClient(server.url);
    const { body: login } = await api<{ token: string }>('POST', '/api/auth/sandbox-login', { citizenId: 'c-sun-ming' });
    const { body: session } = await api<{ sessionId: string }>('POST', '/api/sessions', { channel: 'app' }, login.token);
    const say = async (text: string) => {
      const started = Date.now();
      const r = await api<Turn>('POST', `/api/sessions/${session.sessionId}/messages`, { text }, login.token);
      expect(r.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000 + 1500);
      return r.body;
    };
    const t1 = await say('我要开无犯罪记录证明');
    expect(t1.awaiting).toBe('purpose');
    const t2 = await say('出国留学用，去英国');
    expect(t2.awaiting).toBe('confirm');
    const t3 = await say('确认');
    expect(t3.outcome).toBe('submitted');
    const app = await api<{ fields: Record<string, string> }>('GET', `/api/applications/${t3.application!.id}`, undefined, login.token);
    expect(app.body.fields).toMatchObject({ purpose: '出国(境)', destination: '英国' });
    // The fallback was logged with its reason; nothing identifying went into the log.
    const out = server.output();
    expect(out).toMatch(/model call failed \(connection\)/);
    expect(out).not.toContain('310101198803122038');
  });
});
