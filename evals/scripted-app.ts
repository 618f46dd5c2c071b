/**
 * For the evals tests (not a test itself): a scripted stand-in for the product behind real
 * fastify routes with the API.md shapes, so the runners' HTTP driving and their checks are
 * tested without the real agent. A session's script is picked by the citizen it belongs to
 * (`anonymous` for a session without a token); scripts may store applications, which
 * GET /api/me/applications and GET /api/applications/:id then return.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { HarnessClient, type StoredApplication, type Turn } from './client.js';

export interface ScriptContext {
  citizen: string | null;
  sessionId: string;
  /** Stores an application for the session's citizen (as the service API would) and returns it. */
  store(partial: Partial<StoredApplication> & Pick<StoredApplication, 'serviceId'>): StoredApplication;
}

/** Given the citizen's text and the turn number (1-based), the Turn to return (missing keys default). */
export type Script = (text: string, turn: number, ctx: ScriptContext) => Partial<Turn> | { status: number; error: { code: string; message: string } };

export const ANONYMOUS = 'anonymous';

export function turn(partial: Partial<Turn> = {}): Turn {
  return {
    reply: '…', act: 'apply', service: null, awaiting: null, card: null, outcome: null,
    application: null, handoff: null, citations: [], ...partial,
  };
}

let serial = 0;
export function storedApplication(partial: Partial<StoredApplication> & Pick<StoredApplication, 'serviceId'>): StoredApplication {
  serial++;
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, serial)).toISOString();
  return {
    id: `SA2026010100${String(serial).padStart(4, '0')}`,
    serviceName: partial.serviceId,
    department: '测试部门',
    status: 'submitted',
    statusLabel: '已提交',
    statusMessage: '已提交，等待受理。',
    fields: {},
    withdrawable: true,
    bundleApplicationId: null,
    createdAt: at,
    updatedAt: at,
    ...partial,
  };
}

export interface ScriptedApp {
  app: FastifyInstance;
  client: HarnessClient;
  scripts: Map<string, Script>;
  /** Stored applications per citizen. */
  stored: Map<string, StoredApplication[]>;
  /** Texts received per session id, and the citizen of each session. */
  received: Map<string, { citizen: string | null; texts: string[] }>;
  logins: string[];
  close(): Promise<void>;
}

export async function startScriptedApp(): Promise<ScriptedApp> {
  const app = Fastify();
  const scripts = new Map<string, Script>();
  const stored = new Map<string, StoredApplication[]>();
  const received = new Map<string, { citizen: string | null; texts: string[] }>();
  const logins: string[] = [];
  let sessions = 0;
  const citizenOf = (auth: string | undefined): string | null => (auth?.startsWith('Bearer tok-') ? auth.slice('Bearer tok-'.length) : null);

  app.post('/api/auth/sandbox-login', async (req) => {
    const { citizenId } = req.body as { citizenId: string };
    logins.push(citizenId);
    return { token: `tok-${citizenId}` };
  });
  app.post('/api/sessions', async (req, reply) => {
    sessions++;
    const id = `sess-${sessions}`;
    received.set(id, { citizen: citizenOf(req.headers.authorization), texts: [] });
    return reply.code(201).send({ sessionId: id });
  });
  app.delete('/api/sessions/:id', async (_req, reply) => reply.code(204).send());
  app.post('/api/sessions/:id/messages', async (req, reply) => {
    const { id } = req.params as { id: string };
    const session = received.get(id);
    const script = session ? scripts.get(session.citizen ?? ANONYMOUS) : undefined;
    if (!session || !script) return reply.code(404).send({ error: { code: 'not_found', message: '未找到该会话' } });
    const text = (req.body as { text: string }).text;
    session.texts.push(text);
    const ctx: ScriptContext = {
      citizen: session.citizen,
      sessionId: id,
      store(partial) {
        const a = storedApplication(partial);
        const key = session.citizen ?? ANONYMOUS;
        stored.set(key, [...(stored.get(key) ?? []), a]);
        return a;
      },
    };
    const out = script(text, session.texts.length, ctx);
    if ('status' in out && typeof out.status === 'number') return reply.code(out.status).send({ error: (out as { error: unknown }).error });
    return turn(out as Partial<Turn>);
  });
  app.get('/api/me/applications', async (req, reply) => {
    const citizen = citizenOf(req.headers.authorization);
    if (!citizen) return reply.code(401).send({ error: { code: 'unauthorized', message: '请先登录。' } });
    return stored.get(citizen) ?? [];
  });
  app.get('/api/applications/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!citizenOf(req.headers.authorization)) return reply.code(401).send({ error: { code: 'unauthorized', message: '请先登录。' } });
    const found = [...stored.values()].flat().find((a) => a.id === id);
    if (!found) return reply.code(404).send({ error: { code: 'not_found', message: '未找到该申请' } });
    return found;
  });
  await app.ready();
  return { app, client: new HarnessClient(app), scripts, stored, received, logins, close: () => app.close() };
}
