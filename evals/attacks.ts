/**
 * The attack eval: attempts (evals/data/attacks.jsonl) against the product's doors other than
 * the conversation itself — HTTP routes, the session WebSocket and MCP over Streamable HTTP —
 * played against the in-process app listening on a real port. The conversation's own attacks
 * are the injection and consent sets.
 *
 * The attacker is 孙明 (c-sun-ming); the victim 赵磊 (c-zhao-lei) has a session, an application
 * under staff review (a record on file) and its handoff. Counted per item:
 * - `server_error`: a 5xx, a JSON-RPC internal error, a socket closed abnormally;
 * - `disclosure`: the response shows the victim's (or anyone else's) data, or says someone has
 *   a record (evals/injection.ts detectors), to anyone but staff;
 * - `unauthorised_submit`: the victim or the attacker has more applications afterwards;
 * - `unexpected`: the status is not one the item allows.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { z } from 'zod';
import { DEMO_KIOSK_DEVICE_KEY } from '../tools/identity/identity-provider.js';
import type { EvalApp } from './app.js';
import { DEFAULT_SETS, readJsonl } from './datasets.js';
import { findDisclosures, revealsRecord } from './injection.js';

export const DEFAULT_ATTACK_SET = DEFAULT_SETS.attacks;
const ATTACKER = 'c-sun-ming';
const VICTIM = 'c-zhao-lei';

export const AttackItem = z.object({
  id: z.string().min(1),
  kind: z.enum(['http', 'ws', 'mcp']),
  /** Who sends it: the attacker's token, none, staff's, or a forged one. */
  as: z.enum(['attacker', 'anonymous', 'staff', 'forged_none', 'forged_secret', 'garbage']),
  class: z.string().min(1),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  path: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** A JSON body (placeholders replaced), or `raw` bytes as a string. */
  body: z.unknown().optional(),
  raw: z.string().optional(),
  tool: z.string().optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  /** WebSocket: the session to open (own or the victim's) and the frames to send. */
  session: z.enum(['own', 'victim']).optional(),
  frames: z.array(z.unknown()).optional(),
  expect: z.object({ status: z.array(z.number().int()).optional() }).default({}),
  /** Played first and not scored: what later items build on (e.g. the attacker's own application). */
  setup: z.boolean().optional(),
  note: z.string().optional(),
});
export type AttackItem = z.infer<typeof AttackItem>;

export interface AttackItemResult {
  id: string;
  kind: AttackItem['kind'];
  class: string;
  status: number | null;
  server_error: boolean;
  disclosure: string[];
  unauthorised_submit: boolean;
  unexpected: boolean;
  error?: string;
}

export interface AttackSection {
  file: string;
  n: number;
  by_kind: Record<string, number>;
  server_errors: number;
  disclosures: number;
  unauthorised_submits: number;
  unexpected: number;
  failed: AttackItemResult[];
  error?: string;
}

interface Fixture {
  base: string;
  tokens: Record<AttackItem['as'], string | null>;
  values: Record<string, string>;
  count(citizenId: string): Promise<number>;
}

const fill = (v: unknown, values: Record<string, string>): unknown => {
  if (typeof v === 'string') return v.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
  if (Array.isArray(v)) return v.map((x) => fill(x, values));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, values)]));
  return v;
};

async function setup(app: EvalApp): Promise<{ fixture: Fixture; close(): Promise<void> }> {
  const base = await app.server.listen({ host: '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, token: string | null, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return r.json() as Promise<Record<string, unknown>>;
  };
  await app.resetCitizen(VICTIM);
  await app.resetCitizen(ATTACKER);
  const attacker = (await call('POST', '/api/auth/sandbox-login', null, { citizenId: ATTACKER })).token as string;
  const victim = (await call('POST', '/api/auth/sandbox-login', null, { citizenId: VICTIM })).token as string;
  const staff = (await call('POST', '/api/auth/staff-login', null, { username: app.config.STAFF_USERNAME, password: app.config.STAFF_PASSWORD })).token as string;
  const victimSession = (await call('POST', '/api/sessions', victim, { channel: 'app' })).sessionId as string;
  await call('POST', `/api/sessions/${victimSession}/messages`, victim, { text: '我要开无犯罪记录证明，就业用' });
  const done = await call('POST', `/api/sessions/${victimSession}/messages`, victim, { text: '确认' }) as { application?: { id: string }; handoff?: { id: string } };
  const ownSession = (await call('POST', '/api/sessions', attacker, { channel: 'app' })).sessionId as string;
  const wrong = new TextEncoder().encode('not-the-server-secret-0123456789-abcdefgh');
  const forgedSecret = await new SignJWT({ kind: 'citizen', name: '赵磊', via: 'sandbox' })
    .setProtectedHeader({ alg: 'HS256' }).setSubject(VICTIM).setIssuer('xiaoshen').setAudience('xiaoshen-api').setJti('forged-0001').setIssuedAt().setExpirationTime('1h').sign(wrong);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const forgedNone = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ kind: 'staff', sub: 'st-staff01', name: '管理员', iss: 'xiaoshen', aud: 'xiaoshen-api', exp: 4102444800, jti: 'forged-0002' })}.`;
  const pool = app.ctx.db.pool;
  return {
    fixture: {
      base,
      tokens: { attacker, anonymous: null, staff, forged_none: forgedNone, forged_secret: forgedSecret, garbage: 'x'.repeat(40) },
      values: {
        victim_application: done.application?.id ?? 'SA00000000000000', victim_handoff: done.handoff?.id ?? 'HO-none',
        victim_session: victimSession, own_session: ownSession, victim_citizen: VICTIM, victim_id_number: '310107198501010514',
        victim_name: '赵磊', NUL: '\u0000', LONE: '\ud800', kiosk_key: DEMO_KIOSK_DEVICE_KEY,
      },
      count: async (citizenId) => Number((await pool.query('SELECT count(*)::int AS n FROM applications WHERE citizen_id = $1', [citizenId])).rows[0].n),
    },
    close: async () => undefined,
  };
}

async function playHttp(item: AttackItem, f: Fixture): Promise<{ status: number; text: string }> {
  const token = f.tokens[item.as];
  const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(fill(item.headers ?? {}, f.values) as Record<string, string>) };
  let body: string | undefined;
  if (item.raw !== undefined) body = fill(item.raw, f.values) as string;
  else if (item.body !== undefined) body = JSON.stringify(fill(item.body, f.values));
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const r = await fetch(`${f.base}${fill(item.path ?? '/', f.values) as string}`, { method: item.method ?? 'GET', headers, ...(body !== undefined ? { body } : {}) });
  return { status: r.status, text: await r.text() };
}

async function playMcp(item: AttackItem, f: Fixture): Promise<{ status: number; text: string; serverError: boolean }> {
  const token = f.tokens[item.as];
  const client = new Client({ name: 'attack', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', f.base), { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } });
  try {
    await client.connect(transport);
  } catch (err) {
    // The SDK's StreamableHTTPError carries the HTTP status as `code`.
    const code = (err as { code?: unknown }).code;
    const status = typeof code === 'number' && code >= 100 && code < 600 ? code : 0;
    return { status, text: String((err as Error).message), serverError: status >= 500 };
  }
  try {
    const r = await client.callTool({ name: item.tool ?? 'list_my_applications', arguments: fill(item.args ?? {}, f.values) as Record<string, unknown> });
    const text = JSON.stringify(r);
    return { status: r.isError ? 400 : 200, text, serverError: /系统繁忙/.test(text) };
  } catch (err) {
    const text = String((err as Error).message);
    return { status: 400, text, serverError: /-32603|Internal/.test(text) };
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function playWs(item: AttackItem, f: Fixture): Promise<{ status: number; text: string; serverError: boolean }> {
  const token = f.tokens[item.as];
  const session = item.session === 'victim' ? f.values.victim_session : f.values.own_session;
  const url = `${f.base.replace(/^http/, 'ws')}/api/sessions/${session}/ws`;
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    // The first frame authenticates, as the pages do.
    ws.once('open', () => ws.send(JSON.stringify(token ? { type: 'auth', token } : { type: 'auth' })));
    let text = '';
    let closeCode = 0;
    const finish = () => resolve({ status: closeCode === 4404 ? 404 : closeCode === 4401 ? 401 : closeCode === 4400 ? 400 : closeCode === 1011 ? 500 : 200, text, serverError: closeCode === 1011 || /"internal"/.test(text) });
    const timer = setTimeout(() => ws.close(), 4000);
    ws.on('open', () => {
      for (const frame of item.frames ?? []) {
        const filled = fill(frame, f.values);
        ws.send(typeof filled === 'string' ? filled : JSON.stringify(filled));
      }
    });
    ws.on('message', (d) => {
      text += `${d.toString()}\n`;
      if (/"type":"(turn|error)"/.test(d.toString()) && !/"type":"ready"/.test(d.toString())) {
        clearTimeout(timer);
        setTimeout(() => ws.close(), 100);
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve({ status: res.statusCode ?? 0, text: '', serverError: (res.statusCode ?? 0) >= 500 });
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      closeCode = code;
      finish();
    });
    ws.on('error', () => undefined);
  });
}

export async function runAttackEval(app: EvalApp, file = DEFAULT_ATTACK_SET, onItem?: () => void): Promise<AttackSection> {
  const items = readJsonl(file, AttackItem).map((l) => l.item);
  const { fixture } = await setup(app);
  const results: AttackItemResult[] = [];
  for (const item of items.filter((i) => i.setup)) await playHttp(item, fixture);
  for (const item of items.filter((i) => !i.setup)) {
    const before = [await fixture.count(VICTIM), await fixture.count(ATTACKER)];
    const r: AttackItemResult = { id: item.id, kind: item.kind, class: item.class, status: null, server_error: false, disclosure: [], unauthorised_submit: false, unexpected: false };
    try {
      const out = item.kind === 'http' ? { ...(await playHttp(item, fixture)), serverError: false } : item.kind === 'mcp' ? await playMcp(item, fixture) : await playWs(item, fixture);
      r.status = out.status;
      r.server_error = out.serverError || out.status >= 500;
      if (item.as !== 'staff') {
        r.disclosure = findDisclosures(out.text, item.as === 'attacker' ? ATTACKER : null);
        if (revealsRecord(out.text)) r.disclosure.push('record status');
      }
      r.unexpected = !!item.expect.status && !item.expect.status.includes(out.status);
    } catch (err) {
      r.error = (err as Error).message;
      r.server_error = true;
    }
    const after = [await fixture.count(VICTIM), await fixture.count(ATTACKER)];
    r.unauthorised_submit = after[0]! > before[0]! || after[1]! > before[1]!;
    results.push(r);
    onItem?.();
  }
  const byKind: Record<string, number> = {};
  for (const i of items.filter((x) => !x.setup)) byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
  const failed = results.filter((r) => r.server_error || r.disclosure.length || r.unauthorised_submit || r.unexpected);
  return {
    file, n: results.length, by_kind: byKind,
    server_errors: results.filter((r) => r.server_error).length,
    disclosures: results.filter((r) => r.disclosure.length).length,
    unauthorised_submits: results.filter((r) => r.unauthorised_submit).length,
    unexpected: results.filter((r) => r.unexpected).length,
    failed,
  };
}

export function formatAttacks(a: AttackSection): string {
  const kinds = Object.entries(a.by_kind).map(([k, n]) => `${k} ${n}`).join(', ');
  return `Attacks (${a.n}: ${kinds}): server errors ${a.server_errors}, disclosures ${a.disclosures}, unauthorised submits ${a.unauthorised_submits}, unexpected status ${a.unexpected}`
    + (a.failed.length ? `\n  failed: ${a.failed.slice(0, 10).map((f) => `${f.id} (${f.status}${f.server_error ? ', 5xx' : ''}${f.disclosure.length ? `, disclosed ${f.disclosure.join('/')}` : ''}${f.unauthorised_submit ? ', submitted' : ''})`).join('; ')}` : '');
}
