/**
 * Scenario runs: a deterministic citizen simulator (shared/spec/EVAL.md) talks to the app
 * over its real HTTP routes (fastify `inject`, no socket): sandbox login as the scenario's
 * citizen, a session on its channel, then one message per citizen turn. Success is judged
 * on the outcome, the number of turns and, for a submission, the application as the
 * service API stored it (GET /api/applications/:id), never on chat text.
 */
import { z } from 'zod';
import type { Service } from '../core/catalogue.js';
import { displayValue } from '../tools/sandbox/prefill.js';
import type { ScenarioItem } from './datasets.js';
import type { InjectableApp, InjectOptions } from './modules.js';
import { mean, ratio, round } from './stats.js';

/** The simulator gives up after this many citizen messages. */
export const MAX_CITIZEN_TURNS = 8;
export const CRIMINAL_RECORD = 'criminal_record_certificate';
const UNKNOWN_ANSWER = '不知道';
const CONFIRM_ANSWER = '确认';

/**
 * What the simulated citizen says next, given what the agent awaits:
 *  - a field key: say[field] ?? facts[field] ?? "不知道";
 *  - "confirm": say.confirm ?? "确认";
 *  - "service" (the agent asks which service): the goal service's catalogue name.
 */
export function citizenAnswer(scenario: ScenarioItem, awaiting: string, serviceName: string): string {
  const { say, facts } = scenario.goal;
  if (awaiting === 'confirm') return say.confirm ?? CONFIRM_ANSWER;
  if (awaiting === 'service') return say.service ?? serviceName;
  return say[awaiting] ?? facts[awaiting] ?? UNKNOWN_ANSWER;
}

// ------------------------------------------------------------------ wire shapes

const TurnWire = z.looseObject({
  reply: z.string().default(''),
  act: z.string().nullish(),
  service: z.string().nullish(),
  awaiting: z.string().nullish(),
  outcome: z.string().nullish(),
  application: z.looseObject({ id: z.string(), status: z.string().optional() }).nullish(),
  handoff: z.looseObject({ id: z.string().optional(), reason: z.string().optional() }).nullish(),
});
type TurnWire = z.output<typeof TurnWire>;

const ApplicationWire = z.looseObject({
  id: z.string(),
  serviceId: z.string().optional(),
  status: z.string().optional(),
  fields: z.record(z.string(), z.unknown()),
});

export interface TranscriptTurn {
  citizen: string;
  reply: string;
  act: string | null;
  service: string | null;
  awaiting: string | null;
  outcome: string | null;
}

export interface ScenarioResult {
  id: string;
  ok: boolean;
  /** Citizen messages sent. */
  turns: number;
  outcome: string | null;
  expected: { outcome: string; max_turns?: number; fields?: Record<string, string> };
  /** Why it failed (null when ok). */
  failure: string | null;
  service: string;
  citizen: string;
  channel: string;
  application: { id: string; status: string | null; fields: Record<string, string> } | null;
  transcript: TranscriptTurn[];
}

class HttpFailure extends Error {}

async function call<T>(app: InjectableApp, opts: InjectOptions, schema: z.ZodType<T>, what: string): Promise<T> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.payload !== undefined) headers['content-type'] = 'application/json';
  const res = await app.inject({ ...opts, headers, ...(opts.payload !== undefined ? { payload: JSON.stringify(opts.payload) } : {}) });
  let body: unknown;
  try {
    body = res.body ? JSON.parse(res.body) : null;
  } catch {
    body = res.body;
  }
  if (res.statusCode >= 400) {
    const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
    const detail = err ? `${err.code ?? ''} ${err.message ?? ''}`.trim() : String(res.body).slice(0, 200);
    throw new HttpFailure(`${what}: ${opts.method} ${opts.url} -> HTTP ${res.statusCode}${detail ? ` (${detail})` : ''}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new HttpFailure(`${what}: ${opts.method} ${opts.url} returned an unexpected body (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  }
  return parsed.data;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * Whether a stored value matches the expected one. The API shows identifiers masked
 * (310101********2038); a masked value matches when it is the expected value masked the
 * same way.
 */
export function fieldMatches(key: string, stored: string | undefined, expected: string): boolean {
  if (stored === undefined) return false;
  if (stored.trim() === expected.trim()) return true;
  return stored.includes('*') && stored === displayValue(key, expected.trim());
}

/** Plays one scenario to its end. Never throws: problems become the failure reason. */
export async function runScenario(app: InjectableApp, s: ScenarioItem, service: Service | undefined): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    id: s.id,
    ok: false,
    turns: 0,
    outcome: null,
    expected: {
      outcome: s.expect.outcome,
      ...(s.expect.max_turns !== undefined ? { max_turns: s.expect.max_turns } : {}),
      ...(s.expect.fields ? { fields: s.expect.fields } : {}),
    },
    failure: null,
    service: s.goal.service,
    citizen: s.citizen,
    channel: s.channel,
    application: null,
    transcript: [],
  };
  const serviceName = service?.name ?? s.goal.service;
  let lastTurn: TurnWire | null = null;
  let applicationId: string | null = null;
  try {
    const { token } = await call(app, { method: 'POST', url: '/api/auth/sandbox-login', payload: { citizenId: s.citizen } },
      z.looseObject({ token: z.string().min(1) }), 'login');
    const auth = { authorization: `Bearer ${token}` };
    const { sessionId } = await call(app, { method: 'POST', url: '/api/sessions', headers: auth, payload: { channel: s.channel } },
      z.looseObject({ sessionId: z.string().min(1) }), 'create session');

    let message: string | null = s.opening;
    while (message !== null && result.turns < MAX_CITIZEN_TURNS) {
      result.turns++;
      const turn: TurnWire = await call(app, {
        method: 'POST', url: `/api/sessions/${encodeURIComponent(sessionId)}/messages`, headers: auth, payload: { text: message },
      }, TurnWire, `turn ${result.turns}`);
      lastTurn = turn;
      result.transcript.push({
        citizen: message,
        reply: turn.reply,
        act: turn.act ?? null,
        service: turn.service ?? null,
        awaiting: turn.awaiting ?? null,
        outcome: turn.outcome ?? null,
      });
      if (turn.application?.id) applicationId = turn.application.id;
      if (turn.outcome) {
        result.outcome = turn.outcome;
        break;
      }
      message = turn.awaiting ? citizenAnswer(s, turn.awaiting, serviceName) : null;
    }

    const reasons: string[] = [];
    if (result.outcome === null) {
      if (result.turns >= MAX_CITIZEN_TURNS && lastTurn?.awaiting) reasons.push(`no outcome after ${MAX_CITIZEN_TURNS} citizen turns`);
      else reasons.push(`agent stopped without an outcome and awaits nothing (turn ${result.turns})`);
    } else if (result.outcome !== s.expect.outcome) {
      reasons.push(`outcome ${result.outcome}, expected ${s.expect.outcome}`);
    }
    if (s.expect.max_turns !== undefined && result.turns > s.expect.max_turns) {
      reasons.push(`${result.turns} turns, expected at most ${s.expect.max_turns}`);
    }
    if (s.expect.outcome === 'submitted' && result.outcome === 'submitted') {
      if (!applicationId) {
        reasons.push('outcome submitted but no application in the Turn');
      } else {
        const stored = await call(app, {
          method: 'GET', url: `/api/applications/${encodeURIComponent(applicationId)}`, headers: auth,
        }, ApplicationWire, 'fetch application');
        const fields = Object.fromEntries(Object.entries(stored.fields).map(([k, v]) => [k, str(v)]));
        result.application = { id: stored.id, status: stored.status ?? null, fields };
        if (stored.serviceId && stored.serviceId !== s.goal.service) {
          reasons.push(`application is for ${stored.serviceId}, expected ${s.goal.service}`);
        }
        for (const [key, want] of Object.entries(s.expect.fields ?? {})) {
          const got = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
          if (!fieldMatches(key, got, want)) {
            reasons.push(got === undefined ? `field ${key} missing, expected "${want}"` : `field ${key} = "${got}", expected "${want}"`);
          }
        }
      }
    }
    result.ok = reasons.length === 0;
    result.failure = result.ok ? null : reasons.join('; ');
  } catch (err) {
    result.ok = false;
    result.failure = err instanceof HttpFailure ? err.message : `error: ${(err as Error).message}`;
  }
  return result;
}

export async function runScenarios(
  app: InjectableApp,
  items: readonly ScenarioItem[],
  services: ReadonlyMap<string, Service>,
  onItem?: () => void,
): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const s of items) {
    out.push(await runScenario(app, s, services.get(s.goal.service)));
    onItem?.();
  }
  return out;
}

/** Every scenario failed before it started (e.g. the app could not be built). */
export function failedResults(items: readonly ScenarioItem[], reason: string): ScenarioResult[] {
  return items.map((s) => ({
    id: s.id,
    ok: false,
    turns: 0,
    outcome: null,
    expected: {
      outcome: s.expect.outcome,
      ...(s.expect.max_turns !== undefined ? { max_turns: s.expect.max_turns } : {}),
      ...(s.expect.fields ? { fields: s.expect.fields } : {}),
    },
    failure: reason,
    service: s.goal.service,
    citizen: s.citizen,
    channel: s.channel,
    application: null,
    transcript: [],
  }));
}

// ------------------------------------------------------------------ scoring

export interface ScenarioMetrics {
  n: number;
  success_rate: number | null;
  mean_turns: number | null;
  mean_turns_by_service: Record<string, number | null>;
  /** Mean citizen turns over the criminal-record-certificate scenarios (the seed case). */
  mean_turns_criminal_record: number | null;
  by_outcome: Record<string, { n: number; ok: number }>;
  items: ScenarioResult[];
}

export function scoreScenarios(results: readonly ScenarioResult[]): ScenarioMetrics {
  const byService = new Map<string, number[]>();
  const byOutcome: Record<string, { n: number; ok: number }> = {};
  for (const r of results) {
    const list = byService.get(r.service) ?? [];
    list.push(r.turns);
    byService.set(r.service, list);
    const o = (byOutcome[r.expected.outcome] ??= { n: 0, ok: 0 });
    o.n++;
    if (r.ok) o.ok++;
  }
  const meanTurnsByService = Object.fromEntries([...byService.entries()].map(([k, v]) => [k, round(mean(v), 3)]));
  return {
    n: results.length,
    success_rate: round(ratio(results.filter((r) => r.ok).length, results.length)),
    mean_turns: round(mean(results.map((r) => r.turns)), 3),
    mean_turns_by_service: meanTurnsByService,
    mean_turns_criminal_record: meanTurnsByService[CRIMINAL_RECORD] ?? null,
    by_outcome: byOutcome,
    items: [...results],
  };
}
