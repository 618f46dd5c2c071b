/**
 * The harness's one HTTP client: everything the eval does to the product goes through the
 * public routes of shared/spec/API.md (sandbox login, sessions, messages, the citizen's
 * applications), driven in process with fastify `inject` (no socket). Scenarios,
 * conversations, the consent set, the injection set and the retrieval chat check all use it.
 *
 * Responses are parsed with the product's own contracts (agent/turn.ts `TurnSchema`,
 * tools/contract.ts `Application`): a reply that breaks the contract is a failure, not data.
 */
import { z } from 'zod';
import { TurnSchema, type Card, type Turn } from '../agent/turn.js';
import { Application } from '../tools/contract.js';

export type { Card, Turn };
export type StoredApplication = z.infer<typeof Application>;

export interface InjectRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  payload?: string;
}

export interface InjectReply {
  statusCode: number;
  body: string;
}

/** What the client needs of a fastify instance (or a stand-in in tests). */
export interface Injectable {
  inject(req: InjectRequest): PromiseLike<InjectReply>;
}

/** A request that failed at the HTTP level or returned a body outside the contract. */
export class HttpFailure extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message);
    this.name = 'HttpFailure';
  }
}

/** A failure reason from whatever went wrong while playing an item. */
export function errorReason(err: unknown): string {
  if (err instanceof HttpFailure) return err.message;
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

export type Channel = 'app' | 'kiosk';

const TokenBody = z.looseObject({ token: z.string().min(1) });
const SessionBody = z.looseObject({ sessionId: z.string().min(1) });
const ApplicationList = z.array(Application);

function detailOf(body: unknown, raw: string): string {
  const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return err ? `${err.code ?? ''} ${err.message ?? ''}`.trim() : raw.slice(0, 200);
}

export class HarnessClient {
  private readonly tokens = new Map<string, string>();

  constructor(readonly app: Injectable) {}

  /** One request; `schema` parses a 2xx body. `what` names the step in failure messages. */
  async request<S extends z.ZodType>(
    method: InjectRequest['method'],
    url: string,
    opts: { token?: string | null; payload?: unknown; schema: S; what: string },
  ): Promise<z.output<S>> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.payload !== undefined) headers['content-type'] = 'application/json';
    const res = await this.app.inject({
      method, url, headers, ...(opts.payload !== undefined ? { payload: JSON.stringify(opts.payload) } : {}),
    });
    let body: unknown = null;
    if (res.body) {
      try {
        body = JSON.parse(res.body);
      } catch {
        body = res.body;
      }
    }
    if (res.statusCode >= 400) {
      const detail = detailOf(body, String(res.body));
      throw new HttpFailure(`${opts.what}: ${method} ${url} -> HTTP ${res.statusCode}${detail ? ` (${detail})` : ''}`, res.statusCode);
    }
    const parsed = opts.schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      throw new HttpFailure(`${opts.what}: ${method} ${url} returned a body outside the contract (${where}${issue?.message ?? 'invalid'})`, res.statusCode);
    }
    return parsed.data;
  }

  /** A sandbox login (tokens are kept per citizen for the client's life). */
  async login(citizenId: string): Promise<string> {
    const known = this.tokens.get(citizenId);
    if (known) return known;
    const { token } = await this.request('POST', '/api/auth/sandbox-login', { payload: { citizenId }, schema: TokenBody, what: 'login' });
    this.tokens.set(citizenId, token);
    return token;
  }

  /** A new chat session; `token` null: anonymous (consult only). */
  async session(token: string | null, channel: Channel = 'app'): Promise<string> {
    const { sessionId } = await this.request('POST', '/api/sessions', { token, payload: { channel }, schema: SessionBody, what: 'create session' });
    return sessionId;
  }

  /** One citizen message; the Turn as agent/turn.ts defines it. */
  async say(sessionId: string, token: string | null, text: string, what = 'message'): Promise<Turn> {
    return this.request('POST', `/api/sessions/${encodeURIComponent(sessionId)}/messages`, {
      token, payload: { text }, schema: TurnSchema, what,
    });
  }

  async endSession(sessionId: string, token: string | null): Promise<void> {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    await this.app.inject({ method: 'DELETE', url: `/api/sessions/${encodeURIComponent(sessionId)}`, headers });
  }

  /** The signed-in citizen's applications (identifiers masked), as the service API stored them. */
  async applications(token: string): Promise<StoredApplication[]> {
    return this.request('GET', '/api/me/applications', { token, schema: ApplicationList, what: 'list applications' });
  }

  async application(token: string, id: string): Promise<StoredApplication> {
    return this.request('GET', `/api/applications/${encodeURIComponent(id)}`, { token, schema: Application, what: 'fetch application' });
  }
}
