import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Turn } from '../agent/turn.js';
import { openDatabase } from '../core/db.js';
import { apiClient, startServerProcess, type ServerProcess } from './server-process.js';

/**
 * 50 conversations at once; the server is SIGKILLed while they are under way (some at the
 * first turns, some confirming, some done) and started again on the same data directory.
 * Every conversation must continue to the end, and every application must exist exactly once.
 */
const CITIZENS = ['c-sun-ming', 'c-liu-fang', 'c-wang-qiang', 'c-chen-guiying', 'c-zhao-lei', 'c-lin-xiao'];
// Each conversation of a citizen asks for another country: the same certificate for the same
// purpose twice on one day would (rightly) be reported as a repeat, not made again.
const COUNTRIES = ['英国', '美国', '日本', '法国', '德国', '加拿大', '澳大利亚', '新加坡', '韩国'];
const flow = (i: number) => ['我要开无犯罪记录证明', `出国留学用，去${COUNTRIES[Math.floor(i / 6) % COUNTRIES.length]}`, '确认'];
const CONVERSATIONS = 50;
const KILL_AFTER_TURNS = 95; // of 150

const dataDir = mkdtempSync(join(tmpdir(), 'xiaoshen-durability-'));
const env = { DATA_DIR: dataDir, TOKEN_SECRET: 'durability-test-secret-durability-test-secret-01' };
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Conversation { sessionId: string; citizen: string; token: string; done: Turn | null; sent: number; flow: string[] }

const finished = (t: Turn) => t.outcome === 'submitted' || t.outcome === 'handoff';

describe('a server SIGKILLed under 50 concurrent conversations', () => {
  it('continues every conversation after a restart, and every application exists exactly once', async () => {
    server = await startServerProcess(env, 150_000);
    let api = apiClient(server.url);
    const tokens = new Map<string, string>();
    for (const c of CITIZENS) tokens.set(c, (await api<{ token: string }>('POST', '/api/auth/sandbox-login', { citizenId: c })).body.token);
    const convs: Conversation[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const citizen = CITIZENS[i % CITIZENS.length]!;
      const token = tokens.get(citizen)!;
      const { status, body } = await api<{ sessionId: string }>('POST', '/api/sessions', { channel: 'app' }, token);
      expect(status).toBe(201);
      convs.push({ sessionId: body.sessionId, citizen, token, done: null, sent: 0, flow: flow(i) });
    }

    // Phase 1: all conversations at once, each turn after a short random pause; kill mid-way.
    let answered = 0;
    let killed = false;
    const killing = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (answered >= KILL_AFTER_TURNS) {
          clearInterval(check);
          killed = true;
          void server!.kill('SIGKILL').then(resolve);
        }
      }, 5);
    });
    await Promise.all(convs.map(async (c) => {
      for (let k = 0; k < c.flow.length && !killed; k++) {
        await new Promise((r) => setTimeout(r, Math.random() * 150));
        if (killed) return;
        c.sent += 1;
        try {
          const r = await api<Turn>('POST', `/api/sessions/${c.sessionId}/messages`, { text: c.flow[k] }, c.token);
          if (r.status !== 200) return;
          answered += 1;
          if (finished(r.body)) c.done = r.body;
        } catch {
          return; // the server died under this request; its outcome is unknown to the client
        }
      }
    }));
    await killing;
    const doneBefore = convs.filter((c) => c.done).length;
    expect(doneBefore).toBeLessThan(CONVERSATIONS); // the kill really happened mid-way
    if (process.env.DEBUG_DURABILITY) console.log({ answered, doneBefore, sent: convs.map((c) => c.sent).join("") });

    // Phase 2: the same data directory, the same port; each client picks up where the server says it is.
    server = await startServerProcess({ ...env, PORT: new URL(server.url).port }, 150_000);
    api = apiClient(server.url);
    await Promise.all(convs.map(async (c) => {
      for (let step = 0; step < 6 && !c.done; step++) {
        const view = await api<{ turns: { turn: Turn }[]; state: { awaiting: string | null } }>('GET', `/api/sessions/${c.sessionId}`, undefined, c.token);
        expect(view.status).toBe(200);
        const last = view.body.turns.at(-1)?.turn;
        if (last && finished(last)) {
          c.done = last;
          break;
        }
        const awaiting = view.body.state.awaiting;
        // A client that did not see an answer sends what the conversation now waits for.
        const text = awaiting === 'confirm' ? c.flow[2]! : awaiting === 'purpose' ? c.flow[1]! : c.flow[0]!;
        const r = await api<Turn>('POST', `/api/sessions/${c.sessionId}/messages`, { text }, c.token);
        expect(r.status).toBe(200);
        if (finished(r.body)) c.done = r.body;
      }
    }));
    for (const c of convs) expect(c.done, `conversation ${c.sessionId} (${c.citizen}) did not finish`).not.toBeNull();

    // Every conversation's application is listed for its citizen, once.
    for (const citizen of CITIZENS) {
      const mine = convs.filter((c) => c.citizen === citizen);
      const apps = await api<{ id: string; serviceId: string }[]>('GET', '/api/me/applications', undefined, tokens.get(citizen));
      const certs = apps.body.filter((a) => a.serviceId === 'criminal_record_certificate').map((a) => a.id).sort();
      expect(certs).toEqual(mine.map((c) => c.done!.application!.id).sort());
    }

    // And in the database itself: exactly one application per conversation, nothing else.
    await server.kill('SIGTERM');
    const db = await openDatabase({ dataDir });
    // (the schema is there: the server migrated it)
    try {
      const { rows } = await db.pool.query<{ session_id: string; n: number }>(
        `SELECT session_id, count(*)::int AS n FROM applications WHERE service_id = 'criminal_record_certificate' GROUP BY session_id`,
      );
      expect(rows).toHaveLength(CONVERSATIONS);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      expect(new Set(rows.map((r) => r.session_id))).toEqual(new Set(convs.map((c) => c.sessionId)));
    } finally {
      await db.close();
    }
  }, 300_000);
});
