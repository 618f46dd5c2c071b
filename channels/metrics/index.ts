import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AppError } from '../../core/errors.js';
import type { AgentRuntime } from '../../agent/runtime.js';
import type { Turn } from '../../agent/turn.js';

// Any server flavour (the app uses the zod type provider and a pino logger).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFastify = FastifyInstance<any, any, any, any, any>;

/**
 * Prometheus metrics at GET /metrics (text exposition format):
 *
 *   xiaoshen_turn_duration_seconds      histogram of whole turns (graph, database, tools), by channel
 *   xiaoshen_turns_total                turns by service and outcome (submitted, handoff, answered, declined, none)
 *   xiaoshen_handoffs_total             handoffs a citizen asked for, by reason
 *   xiaoshen_turn_errors_total          turns that failed, by error code ('internal' for unexpected ones)
 *   xiaoshen_http_errors_total          HTTP responses >= 400 by route and status
 *   xiaoshen_rate_limited_total         requests refused by a rate limit, by scope (ip, identity)
 *   xiaoshen_turns_in_flight            turns being answered right now
 *   process_* / nodejs_*                prom-client's default process metrics (RSS, heap, event-loop lag, GC)
 *
 * Each server has its own registry (tests run several in one process); the process metrics
 * are collected once per process and merged in on scrape. With METRICS_TOKEN set, a scrape
 * must send `Authorization: Bearer <METRICS_TOKEN>`; in production there is no /metrics
 * without one.
 *
 * No label may tell anything about a person: a submission that the service sends to staff
 * review (e.g. because of a record on file) counts exactly like one issued at once — as a
 * submission of that service — and review handoffs are not counted as handoffs at all.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly turnDuration = new Histogram({
    name: 'xiaoshen_turn_duration_seconds',
    help: 'Time to answer one citizen message (graph, database, MCP tools), seconds',
    labelNames: ['channel'] as const,
    buckets: [0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });
  readonly turns = new Counter({
    name: 'xiaoshen_turns_total',
    help: 'Turns answered, by service and outcome',
    labelNames: ['service', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly handoffs = new Counter({
    name: 'xiaoshen_handoffs_total',
    help: 'Conversations a citizen asked to hand off to service-centre staff, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly turnErrors = new Counter({
    name: 'xiaoshen_turn_errors_total',
    help: 'Turns that failed, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly httpErrors = new Counter({
    name: 'xiaoshen_http_errors_total',
    help: 'HTTP responses with status >= 400, by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'xiaoshen_rate_limited_total',
    help: 'Requests refused by a rate limit, by scope',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'xiaoshen_turns_in_flight',
    help: 'Turns being answered right now',
    registers: [this.registry],
  });

  async expose(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([processRegistry(), this.registry]);
    return { contentType: this.registry.contentType, body: await merged.metrics() };
  }
}

let processMetrics: Registry | undefined;
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export type TurnRunner = Pick<AgentRuntime, 'runTurn' | 'view' | 'open'>;

/**
 * The agent runtime with every turn measured: latency, outcome by service, handoffs, errors.
 * The channel (http / ws) is read from the turn options when a channel passes it.
 */
export function instrumentAgent(runtime: TurnRunner, metrics: Metrics): TurnRunner {
  return {
    view: (sessionId) => runtime.view(sessionId),
    async open(sessionId, citizenId) {
      const turn = await runtime.open(sessionId, citizenId);
      metrics.turns.inc(turnLabels(turn));
      return turn;
    },
    async runTurn(sessionId, citizenId, text, opts) {
      const channel = opts?.onDelta ? 'ws' : 'http';
      const end = metrics.turnDuration.startTimer({ channel });
      metrics.inFlight.inc();
      try {
        const turn = await runtime.runTurn(sessionId, citizenId, text, opts);
        metrics.turns.inc(turnLabels(turn));
        if (turn.handoff && turn.handoff.reason !== 'review' && !turn.application) metrics.handoffs.inc({ reason: turn.handoff.reason });
        return turn;
      } catch (err) {
        metrics.turnErrors.inc({ code: err instanceof AppError ? err.code : 'internal' });
        throw err;
      } finally {
        metrics.inFlight.dec();
        end();
      }
    },
  };
}

/**
 * A turn's labels. A turn that submitted an application counts as `submitted` whatever the
 * service did with it next: instant issue and staff review must look the same from outside.
 */
export function turnLabels(turn: Pick<Turn, 'service' | 'outcome' | 'application'>): { service: string; outcome: string } {
  const outcome = turn.application && (turn.outcome === 'handoff' || turn.outcome === 'submitted') ? 'submitted' : turn.outcome ?? 'none';
  return { service: turn.service ?? 'none', outcome };
}

/** GET /metrics (refused in production without a token), and the count of HTTP error responses. */
export async function registerMetrics(app: AnyFastify, metrics: Metrics, opts: { token?: string; production?: boolean } = {}): Promise<void> {
  app.addHook('onResponse', async (req: FastifyRequest, reply) => {
    if (reply.statusCode >= 400) {
      metrics.httpErrors.inc({ route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    }
  });
  if (opts.production && !opts.token) {
    app.log.warn('METRICS_TOKEN is not set: /metrics is disabled in production');
    return;
  }
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (opts.token && !sameSecret(req.headers.authorization ?? '', `Bearer ${opts.token}`)) {
      throw new AppError('unauthorized', 401, '需要监控令牌（Authorization: Bearer <METRICS_TOKEN>）。');
    }
    const { contentType, body } = await metrics.expose();
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
  });
}

function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}
