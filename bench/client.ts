import WebSocket from 'ws';
import type { Turn } from '../agent/turn.js';

/**
 * The certificate flow every load client runs, and what each turn must answer. Each flow goes
 * to another country: the same certificate for the same purpose the same day is, rightly,
 * reported as already applied for instead of made again.
 */
const DESTINATIONS = ['英国', '美国', '加拿大', '澳大利亚', '新西兰', '日本', '韩国', '新加坡', '马来西亚', '泰国', '越南', '德国', '法国', '意大利', '西班牙', '荷兰', '瑞士', '瑞典', '挪威', '丹麦', '芬兰', '爱尔兰', '葡萄牙', '希腊', '奥地利', '比利时', '俄罗斯', '阿联酋', '印度', '菲律宾'];
const flowsOf = new Map<string, number>();
/** The next flow of one citizen (by their token's subject): each of their flows goes to another country. */
export function nextFlow(token = ''): readonly [string, string, string] {
  let who = token;
  try {
    who = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string }).sub ?? token;
  } catch {
    /* not a token: the key as given */
  }
  const n = flowsOf.get(who) ?? 0;
  flowsOf.set(who, n + 1);
  return ['我要开无犯罪记录证明', `出国留学用，去${DESTINATIONS[n % DESTINATIONS.length]!}`, '确认'];
}
export const FLOW = ['我要开无犯罪记录证明', '出国留学用，去英国', '确认'] as const;

/** The bench's citizens: the spec's six and generated ones (bench/citizens.ts), so no one applies a hundred times a day. */
export const CITIZENS: readonly string[] = [
  'c-sun-ming', 'c-liu-fang', 'c-wang-qiang', 'c-chen-guiying', 'c-zhao-lei', 'c-lin-xiao',
  ...Array.from({ length: 120 }, (_, i) => `c-bench-${String(i + 1).padStart(3, '0')}`),
];

/** True when `turn` is the expected answer to step `i` of FLOW. */
export function expected(i: number, turn: Turn): boolean {
  if (i === 0) return turn.awaiting === 'purpose';
  if (i === 1) return turn.awaiting === 'confirm';
  return turn.outcome === 'submitted' || turn.outcome === 'handoff'; // c-zhao-lei's goes to staff review
}

export class HttpError extends Error {
  constructor(readonly status: number, body: string) {
    super(`HTTP ${status}: ${body.slice(0, 200)}`);
  }
}

/** JSON over HTTP (keep-alive), throwing HttpError on a non-2xx answer. */
export function api(base: string) {
  return async function call<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await r.text();
    if (!r.ok) throw new HttpError(r.status, text);
    return (text ? JSON.parse(text) : null) as T;
  };
}

export type Api = ReturnType<typeof api>;

export async function loginAll(call: Api): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const c of CITIZENS) out.set(c, (await call<{ token: string }>('POST', '/api/auth/sandbox-login', { citizenId: c })).token);
  return out;
}

/**
 * One session's WebSocket (`/api/sessions/:id/ws`): `say(text)` sends a message frame and
 * resolves with the turn, or rejects on an error frame, a close or a timeout.
 */
export class WsSession {
  private pending: { resolve: (t: Turn) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private closedError: Error | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      let frame: { type: string; turn?: Turn; error?: { code: string; message: string } };
      try {
        frame = JSON.parse(raw.toString()) as typeof frame;
      } catch {
        return this.fail(new Error('bad frame from server'));
      }
      if (frame.type === 'turn' && frame.turn) this.settle(frame.turn);
      else if (frame.type === 'error') this.fail(new Error(`error frame ${frame.error?.code}: ${frame.error?.message}`));
    });
    ws.on('close', (code) => {
      this.closedError = new Error(`socket closed (${code})`);
      this.fail(this.closedError);
    });
    ws.on('error', (err) => this.fail(err));
  }

  static open(base: string, sessionId: string, token: string | null, timeoutMs = 30_000): Promise<WsSession> {
    const url = `${base.replace(/^http/, 'ws')}/api/sessions/${sessionId}/ws`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      // As the pages do: the first frame authenticates (no token in the URL).
      ws.once('open', () => ws.send(JSON.stringify(token ? { type: 'auth', token } : { type: 'auth' })));
      const timer = setTimeout(() => { ws.terminate(); reject(new Error('ws open timeout')); }, timeoutMs);
      const onReady = (raw: WebSocket.RawData) => {
        const f = JSON.parse(raw.toString()) as { type: string };
        if (f.type === 'ready') {
          clearTimeout(timer);
          ws.off('message', onReady);
          resolve(new WsSession(ws));
        } else if (f.type === 'error') {
          clearTimeout(timer);
          ws.terminate();
          reject(new Error(`ws refused: ${raw.toString().slice(0, 200)}`));
        }
      };
      ws.on('message', onReady);
      ws.once('error', (err) => { clearTimeout(timer); reject(err); });
    });
  }

  say(text: string, timeoutMs = 30_000): Promise<Turn> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.pending) return Promise.reject(new Error('a turn is already pending'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error('turn timeout')), timeoutMs);
      this.pending = { resolve, reject, timer };
      this.ws.send(JSON.stringify({ type: 'message', text }));
    });
  }

  close(): void {
    this.ws.close();
  }

  private settle(turn: Turn): void {
    const p = this.pending;
    this.pending = null;
    if (p) {
      clearTimeout(p.timer);
      p.resolve(turn);
    }
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = null;
    if (p) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
