import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from './app.js';

/**
 * Property-based tests of everything a client can send: HTTP requests to every route, frames
 * on the session WebSocket, JSON-RPC to the MCP endpoint. Whatever arrives: no 5xx, no crash,
 * and a clear error — `{"error": {"code", "message"}}` with a Chinese message (JSON-RPC errors
 * on /mcp).
 */
const CJK = /[\u4e00-\u9fff]/;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1);

let t: TestApp;
let citizen: string;
let staff: string;
let session: string;
let wsBase: string;

beforeAll(async () => {
  t = await startTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  wsBase = `ws://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  citizen = await t.login('c-sun-ming');
  staff = await t.staffToken();
  session = await t.session(citizen);
}, 120_000);

afterAll(async () => {
  await t?.close();
});

// ---- arbitraries ---------------------------------------------------------------------

/** Strings people and attackers send: unicode, Chinese, control characters, long ones, injections. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '', ' ', '\u0000', '../../etc/passwd', "' OR 1=1 --", '<script>alert(1)</script>', '%00', '%E4%B8%AD',
    '我要开无犯罪记录证明', '确认', '310107198501010514', 'null', '{}', '[]', '9'.repeat(400), '办'.repeat(3000),
    '\ud800', '🙂'.repeat(50), 'ses_notreal', '__proto__', 'constructor',
  ),
);

/** Percent-encoded (lone surrogates too), cut at 200 characters: sometimes in the middle of an escape. */
const encode = (s: string) => [...s].map((ch) => {
  try {
    return encodeURIComponent(ch);
  } catch {
    return '%ED%A0%80';
  }
}).join('');
const segment = fc.oneof(nasty.map((s) => encode(s).slice(0, 200) || 'x'), fc.constant('1'), fc.uuid());

const ROUTES = [
  '/', '/kiosk', '/staff', '/static/:p', '/docs', '/docs/json', '/api/health', '/metrics', '/api/web/config', '/api/voice/status',
  '/api/auth/sandbox-login', '/api/auth/staff-login', '/api/auth/kiosk-card-login',
  '/api/me', '/api/me/licences', '/api/me/applications', '/api/me/handoffs/:p', '/api/me/handoffs/:p/messages',
  '/api/applications', '/api/applications/prefill', '/api/applications/:p',
  '/api/services', '/api/services/:p', '/api/sessions', '/api/sessions/:p', '/api/sessions/:p/messages', '/api/sessions/:s/messages',
  '/api/sessions/:s', '/api/staff/handoffs', '/api/staff/handoffs/:p', '/api/staff/handoffs/:p/claim', '/api/staff/handoffs/:p/reply',
  '/api/staff/handoffs/:p/close', '/api/staff/handoffs/:p/full-view', '/api/staff/applications', '/api/staff/applications/:p/approve',
  '/api/staff/applications/:p/return', '/api/staff/applications/:p/reject', '/api/tts', '/nope/:p',
];

const path = fc.tuple(fc.constantFrom(...ROUTES), segment, fc.option(fc.dictionary(fc.string({ maxLength: 8 }), nasty, { maxKeys: 3 }), { nil: undefined }))
  .map(([route, p, query]) => {
    const base = route.replace(':p', p).replace(':s', () => session);
    const qs = query ? new URLSearchParams(query).toString() : '';
    return qs ? `${base}?${qs}` : base;
  });

/** Bodies: random JSON, shapes close to what routes expect with wrong values, raw text and bytes. */
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({ text: fc.oneof(nasty, fc.integer(), fc.constant(null)) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.record({
    citizenId: fc.oneof(nasty, fc.constant('c-sun-ming')), channel: fc.oneof(nasty, fc.constantFrom('app', 'kiosk')),
    username: nasty, password: nasty, serviceId: fc.oneof(nasty, fc.constant('criminal_record_certificate')),
    values: fc.dictionary(nasty, nasty, { maxKeys: 3 }), idempotencyKey: nasty, reason: nasty, note: nasty, why: nasty,
  }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  nasty,
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.constant(`{"text": "${'办'.repeat(200_000)}"}`),
);

const headers = fc.record({
  authorization: fc.constantFrom('citizen', 'staff', 'garbage', 'malformed', 'none'),
  'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'none', 'multipart/form-data; boundary=x'),
});

function authHeader(kind: string): Record<string, string> {
  switch (kind) {
    case 'citizen': return { authorization: `Bearer ${citizen}` };
    case 'staff': return { authorization: `Bearer ${staff}` };
    case 'garbage': return { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' };
    case 'malformed': return { authorization: 'Basic Zm9vOmJhcg==' };
    default: return {};
  }
}

function expectClearError(status: number, text: string, where: string): void {
  let parsed: { error?: { code?: unknown; message?: unknown } };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new Error(`${where}: ${status} without a JSON error body: ${text.slice(0, 200)}`);
  }
  expect(typeof parsed.error?.code, `${where}: error code`).toBe('string');
  expect(String(parsed.error?.message), `${where}: Chinese message`).toMatch(CJK);
}

// ---- HTTP ----------------------------------------------------------------------------

describe('HTTP input', () => {
  it('never answers 5xx, and every error is {"error":{code,message}} in Chinese', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'), path, headers, body, async (method, url, h, payload) => {
        if (url.startsWith('/mcp')) return;
        const res = await t.app.inject({
          method: method as 'GET',
          url,
          headers: { ...authHeader(h.authorization), ...(h['content-type'] !== 'none' && payload !== undefined ? { 'content-type': h['content-type'] } : {}) },
          ...(payload !== undefined && method !== 'GET' && method !== 'HEAD' ? { payload } : {}),
        });
        const where = `${method} ${url.slice(0, 80)}`;
        expect(res.statusCode, `${where}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (res.statusCode >= 400 && method !== 'HEAD') expectClearError(res.statusCode, res.body, where);
      }),
      { numRuns: 400 * RUNS, seed: SEED },
    );
  }, 240_000);

  it('refuses oversize messages and bodies with 413 and says so in Chinese', async () => {
    const h = { authorization: `Bearer ${citizen}`, 'content-type': 'application/json' };
    const long = await t.app.inject({ method: 'POST', url: `/api/sessions/${session}/messages`, headers: h, payload: { text: '办'.repeat(2001) } });
    expect(long.statusCode).toBe(413);
    expect(long.json().error.message).toMatch(/最多 2000 字/);
    const huge = await t.app.inject({ method: 'POST', url: `/api/sessions/${session}/messages`, headers: h, payload: JSON.stringify({ text: 'x'.repeat(300 * 1024) }) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.message).toMatch(CJK);
  });
});

// ---- WebSocket -----------------------------------------------------------------------

interface Frame { type: string; error?: { code: string; message: string } }

/** The WebSocket tests' own session (the HTTP fuzz may well have ended the shared one). */
let wsSession = '';

async function openSocket(): Promise<{ ws: WebSocket; frames: Frame[]; closed: () => number | null }> {
  wsSession ||= await t.session(citizen);
  const ws = new WebSocket(`${wsBase}/api/sessions/${wsSession}/ws`);
  ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', token: citizen })));
  const frames: Frame[] = [];
  let code: number | null = null;
  ws.on('message', (raw, isBinary) => {
    if (!isBinary) frames.push(JSON.parse(raw.toString()) as Frame);
  });
  ws.on('close', (c) => { code = c; });
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    const wait = () => {
      if (frames.some((f) => f.type === 'ready')) return resolve();
      if (code !== null) return reject(new Error(`socket closed (${code}) before ready: ${JSON.stringify(frames)}`));
      setTimeout(wait, 5);
    };
    wait();
  });
  return { ws, frames, closed: () => code };
}

/** Waits until a frame of `type` arrives after index `from`. */
async function waitFor(frames: Frame[], type: string, from: number, ms = 20_000): Promise<Frame> {
  const end = Date.now() + ms;
  for (;;) {
    const f = frames.slice(from).find((x) => x.type === type);
    if (f) return f;
    if (Date.now() > end) throw new Error(`no ${type} frame within ${ms} ms; got ${frames.slice(from).map((x) => x.type).join(',')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const wsFrame = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  nasty,
  fc.record({
    type: fc.constantFrom('message', 'ping', 'audio', 'audio_start', 'audio_end', 'audio_cancel', 'avatar', 'nope', '__proto__'),
    text: fc.oneof(nasty, fc.integer(), fc.constant(null)),
    data: fc.oneof(nasty, fc.base64String({ maxLength: 200 })),
    state: fc.oneof(nasty, fc.constantFrom('idle', 'listening', 'speaking')),
    stream: fc.oneof(fc.boolean(), nasty), speak: fc.boolean(), format: nasty, sampleRate: fc.oneof(fc.integer(), nasty), channels: fc.integer(),
  }, { requiredKeys: ['type'] }).map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
);

describe('WebSocket input', () => {
  it('answers any frame sequence with turns or Chinese errors, and stays open and responsive', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(wsFrame, { minLength: 1, maxLength: 6 }), async (sequence) => {
        const s = await openSocket();
        try {
          for (const f of sequence) s.ws.send(f);
          // Ends an audio_start left open, then a ping: its pong proves the socket is alive and in order.
          s.ws.send(JSON.stringify({ type: 'audio_cancel' }));
          const from = s.frames.length;
          s.ws.send(JSON.stringify({ type: 'ping' }));
          await waitFor(s.frames, 'pong', from);
          expect(s.closed()).toBeNull();
          for (const f of s.frames.filter((x) => x.type === 'error')) {
            expect(f.error?.code).toBeTypeOf('string');
            expect(f.error?.message, JSON.stringify(f)).toMatch(CJK);
            expect(f.error?.code).not.toBe('internal');
          }
        } finally {
          s.ws.close();
        }
      }),
      { numRuns: 60 * RUNS, seed: SEED },
    );
    expect((await t.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
  }, 240_000);

  it('closes a connection that sends more than the frame limit, and the server carries on', async () => {
    const s = await openSocket();
    s.ws.send(Buffer.alloc(4 * 1024 * 1024, 1));
    await new Promise((r) => setTimeout(r, 500));
    expect(s.closed()).toBe(1009); // message too big
    const again = await openSocket();
    const from = again.frames.length;
    again.ws.send(JSON.stringify({ type: 'ping' }));
    await waitFor(again.frames, 'pong', from);
    again.ws.close();
  });
});

// ---- MCP -----------------------------------------------------------------------------

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** The JSON-RPC message in a Streamable HTTP response (plain JSON or one SSE event). */
function rpcBody(text: string): { result?: { isError?: boolean; content?: { text?: string }[] }; error?: { code: number; message: string } } | null {
  const data = text.split('\n').find((l) => l.startsWith('data: '));
  try {
    return JSON.parse(data ? data.slice(6) : text) as ReturnType<typeof rpcBody>;
  } catch {
    return null;
  }
}

describe('MCP input', () => {
  let mcpSession = '';
  let tools: string[] = [];
  const auth = () => ({ ...MCP_HEADERS, authorization: `Bearer ${citizen}`, 'mcp-session-id': mcpSession });

  beforeAll(async () => {
    const init = await t.app.inject({
      method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${citizen}` },
      payload: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } },
    });
    expect(init.statusCode).toBe(200);
    mcpSession = String(init.headers['mcp-session-id']);
    await t.app.inject({ method: 'POST', url: '/mcp', headers: auth(), payload: { jsonrpc: '2.0', method: 'notifications/initialized' } });
    const list = await t.app.inject({ method: 'POST', url: '/mcp', headers: auth(), payload: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
    tools = ((rpcBody(list.body)?.result as unknown as { tools: { name: string }[] }).tools).map((x) => x.name);
    expect(tools).toContain('submit_application');
  });

  it('answers tool calls with any arguments with a result or a Chinese tool error, never a 5xx', async () => {
    const args = fc.oneof(
      fc.dictionary(fc.constantFrom('serviceId', 'values', 'idempotencyKey', 'query', 'limit', 'applicationId', 'reason', 'transcript', 'sessionId', 'x'),
        fc.oneof(nasty, fc.integer(), fc.jsonValue({ maxDepth: 2 })), { maxKeys: 5 }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...tools, 'no_such_tool'), args, async (name, a) => {
        const res = await t.app.inject({ method: 'POST', url: '/mcp', headers: auth(), payload: { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name, arguments: a } } });
        expect(res.statusCode, res.body.slice(0, 200)).toBeLessThan(500);
        const rpc = rpcBody(res.body);
        expect(rpc, res.body.slice(0, 200)).not.toBeNull();
        // Our tools refuse in Chinese; an unknown tool name is the MCP SDK's own protocol error.
        if (rpc!.result?.isError && name !== 'no_such_tool') expect(rpc!.result.content?.[0]?.text ?? '', res.body.slice(0, 300)).toMatch(CJK);
      }),
      { numRuns: 200 * RUNS, seed: SEED },
    );
  }, 240_000);

  it('answers malformed JSON-RPC with a JSON-RPC error and a 4xx, never a 5xx', async () => {
    const message = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      nasty,
      fc.record({ jsonrpc: fc.oneof(fc.constant('2.0'), nasty), id: fc.oneof(fc.integer(), nasty, fc.constant(null)), method: fc.oneof(nasty, fc.constantFrom('tools/call', 'tools/list', 'initialize', 'resources/list')), params: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(message, fc.boolean(), fc.constantFrom('POST', 'GET', 'DELETE'), async (payload, withSession, method) => {
        // GET with a live session would open its (endless) event stream; DELETE would end it.
        const live = withSession && method === 'POST';
        const headers = live ? auth() : { ...MCP_HEADERS, authorization: `Bearer ${citizen}`, ...(withSession ? { 'mcp-session-id': 'not-a-session' } : {}) };
        const res = await t.app.inject({ method: method as 'POST', url: '/mcp', headers, ...(method === 'POST' ? { payload } : {}) });
        expect(res.statusCode, res.body.slice(0, 200)).toBeLessThan(500);
      }),
      { numRuns: 150 * RUNS, seed: SEED },
    );
  }, 240_000);
});
