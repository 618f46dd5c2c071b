import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage, SystemMessage, type AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Config } from '../../core/config.js';
import { maskSensitiveText } from '../../core/mask.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { currentTurnBudget } from './turn-budget.js';

/**
 * The one door to the model. Everything the project sends to an OpenAI-compatible endpoint
 * goes through here, so these hold for every call:
 *
 * - What is sent is masked: ID numbers, phones and bank accounts in any message are replaced
 *   by their masked forms (core/mask.ts) right before the request, whatever the caller built.
 * - The model is never bound to tools. Understanding uses `response_format` (JSON schema) and
 *   wording plain text; tool calls are decided by the graph alone. Any `tool_calls` a response
 *   carries anyway are ignored (and logged), never executed.
 * - Time is bounded: a call gets at most OPENAI_TIMEOUT_MS, and never more than what is left
 *   of the turn's budget (turn-budget.ts). One retry with backoff for connection errors and
 *   429/5xx, inside the same bound; none for timeouts or bad output.
 * - A circuit breaker shared by all calls stops calling a failing endpoint for a while.
 *
 * Callers catch LlmError and fall back (local engine, templates); the reason is logged here.
 */
export type LlmPurpose = 'understand' | 'phrase';

export type LlmFailure =
  | 'circuit_open'
  | 'turn_failed'
  | 'no_budget'
  | 'timeout'
  | 'connection'
  | 'http_error'
  | 'invalid_output';

export class LlmError extends Error {
  constructor(readonly reason: LlmFailure, message: string) {
    super(message);
    this.name = 'LlmError';
  }
}

export interface LlmClientOptions {
  log?: Logger;
  breaker?: CircuitBreaker;
  /** Retries after the first attempt (default 1). */
  retries?: number;
  /** First backoff; doubles per retry, with jitter (default 200 ms). */
  backoffMs?: number;
  /** A call is not started with less time than this left (default 150 ms). */
  minCallMs?: number;
}

export interface Prompt {
  system: string;
  user: string;
}

/** What `text()` streamed, and whether the caller stopped it early. */
export interface TextResult {
  text: string;
  stoppedEarly: boolean;
}

const RETRYABLE_STATUS = new Set([408, 409, 429, 500, 502, 503, 504]);

export class LlmClient {
  readonly chat: ChatOpenAI;
  readonly breaker: CircuitBreaker;
  readonly timeoutMs: number;
  readonly modelName: string;
  private readonly log: Logger | undefined;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly minCallMs: number;

  constructor(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_MODEL' | 'OPENAI_TIMEOUT_MS'>, opts: LlmClientOptions = {}) {
    if (!config.OPENAI_API_KEY) throw new Error('OPENAI_API_KEY is not set: the LLM path needs a key (any value for a local endpoint)');
    this.timeoutMs = config.OPENAI_TIMEOUT_MS;
    this.modelName = config.OPENAI_MODEL;
    this.log = opts.log?.child({ component: 'llm' });
    this.retries = Math.max(0, opts.retries ?? 1);
    this.backoffMs = opts.backoffMs ?? 200;
    this.minCallMs = opts.minCallMs ?? 150;
    this.breaker = opts.breaker ?? new CircuitBreaker({
      onChange: (from, to) => this.log?.warn({ from, to }, `model circuit breaker ${to}`),
    });
    this.chat = new ChatOpenAI({
      model: config.OPENAI_MODEL,
      apiKey: config.OPENAI_API_KEY,
      temperature: 0,
      // Retries and timeouts are ours (bounded by the turn budget); the SDK's are off.
      maxRetries: 0,
      timeout: config.OPENAI_TIMEOUT_MS,
      ...(config.OPENAI_BASE_URL ? { configuration: { baseURL: config.OPENAI_BASE_URL } } : {}),
    });
  }

  /**
   * Structured output through `response_format: json_schema`. Returns the parsed JSON object
   * (still to be validated by the caller against the catalogue); the schema only shapes it.
   */
  async structured(purpose: LlmPurpose, schema: z.ZodType, prompt: Prompt): Promise<unknown> {
    const runnable = this.chat.withStructuredOutput(schema as z.ZodType<Record<string, unknown>>, {
      name: 'understanding',
      method: 'jsonSchema',
      includeRaw: true,
    });
    const out = await this.call(purpose, async (signal) => {
      const r = (await runnable.invoke(messages(prompt), { signal })) as { raw: BaseMessage; parsed: unknown };
      this.noteToolCalls(purpose, r.raw as AIMessage);
      if (r.parsed === null || r.parsed === undefined) throw new LlmError('invalid_output', 'response did not parse as the requested JSON');
      return r.parsed;
    });
    return out;
  }

  /**
   * Plain text, streamed (SSE). `onText(soFar)` may return false to stop early (the caller has
   * seen enough to reject it); the stream is then aborted and what came so far returned.
   */
  async text(purpose: LlmPurpose, prompt: Prompt, onText?: (soFar: string) => boolean): Promise<TextResult> {
    return this.call(purpose, async (signal, stop) => {
      let text = '';
      const toolCalls: string[] = [];
      const stream = await this.chat.stream(messages(prompt), { signal });
      for await (const chunk of stream) {
        for (const tc of chunk.tool_call_chunks ?? []) if (tc.name) toolCalls.push(tc.name);
        if (typeof chunk.content === 'string') text += chunk.content;
        if (onText && chunk.content && !onText(text)) {
          stop();
          return { text, stoppedEarly: true };
        }
      }
      if (toolCalls.length) this.log?.warn({ llm: purpose, toolCalls }, 'model returned tool calls; ignored (no tools are bound)');
      return { text, stoppedEarly: false };
    });
  }

  /** The caller found the output unusable (failed validation): counts as a failure of the endpoint. */
  reportInvalid(purpose: LlmPurpose, reason: string): void {
    this.breaker.failure();
    const budget = currentTurnBudget();
    if (budget) budget.failed = 'invalid_output';
    this.log?.warn({ llm: purpose, reason: 'invalid_output', detail: maskSensitiveText(reason).slice(0, 300) }, 'model output rejected');
  }

  private noteToolCalls(purpose: LlmPurpose, raw: AIMessage | undefined): void {
    const names = (raw?.tool_calls ?? []).map((t) => t.name);
    const legacy = (raw?.additional_kwargs?.tool_calls ?? []).map((t) => t.function?.name ?? '?');
    const all = names.length ? names : legacy;
    if (all.length) this.log?.warn({ llm: purpose, toolCalls: all }, 'model returned tool calls; ignored (no tools are bound)');
  }

  /** Bounded, retried, breaker-guarded call. */
  private async call<T>(purpose: LlmPurpose, attempt: (signal: AbortSignal, stop: () => void) => Promise<T>): Promise<T> {
    const budget = currentTurnBudget();
    const fail = (reason: LlmFailure, message: string, extra: Record<string, unknown> = {}): LlmError => {
      if (budget) budget.failed ??= reason;
      this.log?.warn({ llm: purpose, reason, ...extra, breaker: this.breaker.state }, `model call failed (${reason}); falling back`);
      return new LlmError(reason, message);
    };
    if (budget?.failed) throw fail('turn_failed', `the model already failed this turn (${budget.failed})`);
    const started = Date.now();
    const deadline = started + Math.min(this.timeoutMs, budget ? budget.remaining() : this.timeoutMs);
    for (let n = 0; ; n++) {
      const left = deadline - Date.now();
      if (left < this.minCallMs) throw fail(n === 0 ? 'no_budget' : 'timeout', 'no time left for a model call', { attempts: n });
      if (!this.breaker.tryAcquire()) throw fail('circuit_open', 'the model circuit breaker is open');
      const controller = new AbortController();
      let timedOut = false;
      let stopped = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error('model call timed out'));
      }, left);
      try {
        const result = await attempt(controller.signal, () => {
          stopped = true;
          controller.abort(new Error('stopped by the caller'));
        });
        this.breaker.success();
        return result;
      } catch (err) {
        if (stopped && !timedOut) {
          // The caller stopped a stream on purpose; the endpoint itself worked.
          this.breaker.success();
          throw err;
        }
        this.breaker.failure();
        const kind = timedOut ? 'timeout' : classify(err);
        const elapsedMs = Date.now() - started;
        const retryable = kind === 'connection' || (kind === 'http_error' && RETRYABLE_STATUS.has(statusOf(err) ?? 0));
        const backoff = this.backoffMs * 2 ** n * (0.75 + Math.random() * 0.5);
        if (retryable && n < this.retries && deadline - Date.now() > backoff + this.minCallMs) {
          this.log?.info({ llm: purpose, reason: kind, status: statusOf(err), attempt: n + 1, backoffMs: Math.round(backoff) }, 'model call failed; retrying');
          await sleep(backoff);
          continue;
        }
        throw fail(kind, describe(err), { status: statusOf(err), attempts: n + 1, elapsedMs });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

function messages(prompt: Prompt): BaseMessage[] {
  return [new SystemMessage(maskSensitiveText(prompt.system)), new HumanMessage(maskSensitiveText(prompt.user))];
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

function classify(err: unknown): LlmFailure {
  if (err instanceof LlmError) return err.reason;
  if (statusOf(err) !== undefined) return 'http_error';
  const name = (err as Error | null)?.name ?? '';
  const message = (err as Error | null)?.message ?? '';
  if (name === 'TimeoutError' || /timed? ?out/i.test(message)) return 'timeout';
  if (name === 'APIConnectionError' || /connection|ECONNREFUSED|ECONNRESET|fetch failed|socket/i.test(message)) return 'connection';
  return 'invalid_output';
}

function describe(err: unknown): string {
  const e = err as Error | null;
  return maskSensitiveText(`${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`).slice(0, 300);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
