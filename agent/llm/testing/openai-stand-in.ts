import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * TEST STAND-IN, not a language model. A real HTTP server on 127.0.0.1 speaking the OpenAI
 * chat-completions wire protocol (`POST /v1/chat/completions`) the way @langchain/openai uses
 * it, so tests drive the real client over a real socket:
 *
 * - structured output by `response_format: {type: "json_schema"}` (the JSON goes in `content`),
 *   or by a forced function (`tools` + `tool_choice`: the JSON goes in the tool call's
 *   arguments), whichever the request uses;
 * - `stream: true`: server-sent events (`chat.completion.chunk` deltas, then `data: [DONE]`);
 * - failures on demand: HTTP errors, dropped connections, hangs.
 *
 * Replies are scripted per test (`script`, or a queue with `enqueue`); every request body is
 * recorded in `received`, so a test can assert what the model was (not) sent.
 */
export interface ChatMessage {
  role: string;
  content: string | null | { type: string; text?: string }[];
  tool_calls?: unknown[];
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  response_format?: { type: string; json_schema?: { name: string; schema?: unknown; strict?: boolean } };
  tools?: { type: string; function: { name: string; parameters?: unknown } }[];
  tool_choice?: unknown;
  [k: string]: unknown;
}

export interface ToolCallSpec {
  name: string;
  arguments: unknown;
}

/** One scripted reply. */
export type StandInReply =
  /** Structured output: as `content` for response_format, as the forced tool call's arguments for tool calling. */
  | { json: unknown; toolCalls?: ToolCallSpec[] }
  /** Raw assistant text (a phrasing, or malformed JSON). */
  | { content: string; toolCalls?: ToolCallSpec[] }
  /** Only tool calls, no content. */
  | { toolCalls: ToolCallSpec[] }
  /** Keep the connection open without answering for this long. */
  | { hangMs: number }
  | { status: number; message?: string }
  /** Destroy the socket without a response. */
  | { drop: true };

export type Purpose = 'understand' | 'phrase';
export type Script = (req: ChatRequest, purpose: Purpose) => StandInReply | Promise<StandInReply>;

/** Which of the project's two calls a request is: understanding asks for JSON, wording for text. */
export function purposeOf(req: ChatRequest): Purpose {
  return req.response_format || req.tools?.length ? 'understand' : 'phrase';
}

/** The text of a request's messages of one role (joined). */
export function messageText(req: ChatRequest, role: 'system' | 'user'): string {
  return req.messages
    .filter((m) => m.role === role)
    .map((m) => (typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('')))
    .join('\n');
}

export class OpenAiChatStandIn {
  readonly received: ChatRequest[] = [];
  /** Raw request bodies, exactly as they arrived. */
  readonly rawBodies: string[] = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly queue: StandInReply[] = [];
  private scriptFn: Script | null = null;
  private base = '';

  constructor(private readonly opts: { apiKey?: string; chunkSize?: number } = {}) {}

  /** `OPENAI_BASE_URL` for this stand-in (…/v1). */
  get url(): string {
    return this.base;
  }

  /** Replies computed per request (used when the queue is empty). */
  script(fn: Script | null): this {
    this.scriptFn = fn;
    return this;
  }

  /** Replies used in order, before the script. */
  enqueue(...replies: StandInReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  reset(): void {
    this.queue.length = 0;
    this.scriptFn = null;
    this.received.length = 0;
    this.rawBodies.length = 0;
  }

  requests(purpose: Purpose): ChatRequest[] {
    return this.received.filter((r) => purposeOf(r) === purpose);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.base = `http://127.0.0.1:${port}/v1`;
    return this.base;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST' || !/\/chat\/completions$/.test(req.url ?? '')) {
      return json(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
    }
    if (this.opts.apiKey && req.headers.authorization !== `Bearer ${this.opts.apiKey}`) {
      return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
    }
    let body: ChatRequest;
    try {
      body = JSON.parse(raw) as ChatRequest;
    } catch {
      return json(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
    }
    this.rawBodies.push(raw);
    this.received.push(body);
    const purpose = purposeOf(body);
    const reply = this.queue.shift() ?? (this.scriptFn ? await this.scriptFn(body, purpose) : defaultReply(purpose));

    if ('drop' in reply) {
      req.socket.destroy();
      return;
    }
    if ('hangMs' in reply) {
      const timer = setTimeout(() => json(res, 504, { error: { message: 'stand-in hang ended', type: 'server_error' } }), reply.hangMs);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if ('status' in reply) {
      return json(res, reply.status, { error: { message: reply.message ?? `stand-in error ${reply.status}`, type: 'server_error' } });
    }

    // What the assistant message carries.
    const forced = forcedFunction(body);
    let content: string | null = null;
    const toolCalls: ToolCallSpec[] = [...(reply.toolCalls ?? [])];
    if ('json' in reply) {
      if (forced) toolCalls.unshift({ name: forced, arguments: reply.json });
      else content = JSON.stringify(reply.json);
    } else if ('content' in reply) {
      content = reply.content;
    }
    const calls = toolCalls.map((t, i) => ({
      id: `call_${this.received.length}_${i}`,
      type: 'function' as const,
      function: { name: t.name, arguments: typeof t.arguments === 'string' ? t.arguments : JSON.stringify(t.arguments) },
    }));
    const finish = calls.length && content === null ? 'tool_calls' : 'stop';
    const id = `chatcmpl-standin-${this.received.length}`;
    const created = Math.floor(Date.now() / 1000);

    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const send = (delta: Record<string, unknown>, finishReason: string | null) =>
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] })}\n\n`);
      send({ role: 'assistant', content: '' }, null);
      const size = this.opts.chunkSize ?? 4;
      const chars = [...(content ?? '')];
      for (let i = 0; i < chars.length; i += size) send({ content: chars.slice(i, i + size).join('') }, null);
      calls.forEach((c, index) => send({ tool_calls: [{ index, ...c }] }, null));
      send({}, finish);
      res.write('data: [DONE]\n\n');
      res.end();
      return;
    }
    json(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: body.model,
      choices: [{
        index: 0,
        message: { role: 'assistant', content, refusal: null, ...(calls.length ? { tool_calls: calls } : {}) },
        finish_reason: finish,
        logprobs: null,
      }],
      usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
    });
  }
}

function forcedFunction(body: ChatRequest): string | null {
  const choice = body.tool_choice as { type?: string; function?: { name?: string } } | string | undefined;
  if (choice && typeof choice === 'object' && choice.function?.name) return choice.function.name;
  if (body.tools?.length === 1 && !body.response_format) return body.tools[0]!.function.name;
  return null;
}

/** Without a script: a harmless out-of-scope reading, and a phrasing that is rejected (so the template stands). */
function defaultReply(purpose: Purpose): StandInReply {
  return purpose === 'understand'
    ? { json: { act: 'out_of_scope', service: null, slots: [], confidence: 0.3, dialogue: null, candidates: [] } }
    : { content: '' };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
