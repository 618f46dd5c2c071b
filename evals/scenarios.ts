/**
 * Scenario runs: a deterministic citizen simulator (shared/spec/EVAL.md) talks to the app
 * over its real HTTP routes (the harness client): sandbox login as the scenario's citizen, a
 * session on its channel, then one message per citizen turn. Success is judged on the
 * outcome, the number of turns and, for a submission, the application as the service API
 * stored it (GET /api/applications/:id), never on chat text.
 */
import { MASKS, type Catalogue, type Service, type ServiceField } from '../knowledge/catalogue.js';
import { displayValue } from '../tools/sandbox/prefill.js';
import { errorReason, type Card, type HarnessClient, type Turn } from './client.js';
import type { ScenarioItem } from './datasets.js';
import { mean, ratio, round } from './stats.js';
import { SEED_SERVICE } from './thresholds.js';

/** The simulator gives up after this many citizen messages. */
export const MAX_CITIZEN_TURNS = 8;
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

// ------------------------------------------------------------------ shared by the runners

/** One citizen message and what came back (kept in reports). */
export interface TranscriptTurn {
  citizen: string;
  reply: string;
  act: string | null;
  service: string | null;
  awaiting: string | null;
  outcome: string | null;
  /** The card's type, when the turn carried one. */
  card: Card['type'] | null;
}

export function transcriptTurn(citizen: string, turn: Turn): TranscriptTurn {
  return {
    citizen,
    reply: turn.reply,
    act: turn.act ?? null,
    service: turn.service ?? null,
    awaiting: turn.awaiting ?? null,
    outcome: turn.outcome ?? null,
    card: turn.card?.type ?? null,
  };
}

/**
 * Whether a stored value matches the expected one. The API shows identifiers masked
 * (310101********2038, **** **** **** 0001): a masked value matches when it is the expected
 * value masked the same way (by the field's mask; by any identifier mask when the field is
 * not known).
 */
export function fieldMatches(stored: string | undefined, expected: string, field?: Pick<ServiceField, 'mask'>): boolean {
  if (stored === undefined) return false;
  const want = expected.trim();
  if (stored.trim() === want) return true;
  if (!stored.includes('*')) return false;
  const masks = field?.mask ? [field.mask] : MASKS.filter((m) => m !== 'licence_photo');
  return masks.some((mask) => displayValue({ mask }, want) === stored);
}

// ------------------------------------------------------------------ scenarios

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

/** The one result builder: a scenario not (yet) played, failed with `failure` unless it is then scored. */
export function scenarioResult(s: ScenarioItem, failure: string | null = null): ScenarioResult {
  return {
    id: s.id,
    ok: false,
    turns: 0,
    outcome: null,
    expected: {
      outcome: s.expect.outcome,
      ...(s.expect.max_turns !== undefined ? { max_turns: s.expect.max_turns } : {}),
      ...(s.expect.fields ? { fields: s.expect.fields } : {}),
    },
    failure,
    service: s.goal.service,
    citizen: s.citizen,
    channel: s.channel,
    application: null,
    transcript: [],
  };
}

/** Plays one scenario to its end. Never throws: problems become the failure reason. */
/** `parts`: a 一件事 bundle's member services (the stored application may be any of them). */
export async function runScenario(client: HarnessClient, s: ScenarioItem, service: Service | undefined, opts: { parts?: readonly string[] } = {}): Promise<ScenarioResult> {
  const result = scenarioResult(s);
  const serviceName = service?.name ?? s.goal.service;
  let lastTurn: Turn | null = null;
  let applicationId: string | null = null;
  try {
    const token = await client.login(s.citizen);
    const sessionId = await client.session(token, s.channel);

    let message: string | null = s.opening;
    while (message !== null && result.turns < MAX_CITIZEN_TURNS) {
      result.turns++;
      const turn = await client.say(sessionId, token, message, `turn ${result.turns}`);
      lastTurn = turn;
      result.transcript.push(transcriptTurn(message, turn));
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
        const stored = await client.application(token, applicationId);
        result.application = { id: stored.id, status: stored.status ?? null, fields: stored.fields };
        if (stored.serviceId !== s.goal.service && !opts.parts?.includes(stored.serviceId)) {
          reasons.push(`application is for ${stored.serviceId}, expected ${s.goal.service}`);
        }
        const byKey = new Map((service?.fields ?? []).map((f) => [f.key, f]));
        for (const [key, want] of Object.entries(s.expect.fields ?? {})) {
          const got = Object.prototype.hasOwnProperty.call(stored.fields, key) ? stored.fields[key] : undefined;
          if (!fieldMatches(got, want, byKey.get(key))) {
            reasons.push(got === undefined ? `field ${key} missing, expected "${want}"` : `field ${key} = "${got}", expected "${want}"`);
          }
        }
      }
    }
    result.ok = reasons.length === 0;
    result.failure = result.ok ? null : reasons.join('; ');
  } catch (err) {
    result.ok = false;
    result.failure = errorReason(err);
  }
  return result;
}

export interface RunOptions {
  onItem?: () => void;
  /** To recognise a 一件事 goal (its parts' applications count). */
  catalogue?: Catalogue;
  /** Called before each item with its citizen (the CLI resets the citizen's history). */
  beforeItem?: (citizenId: string) => Promise<void>;
}

export async function runScenarios(
  client: HarnessClient,
  items: readonly ScenarioItem[],
  services: ReadonlyMap<string, Service>,
  opts: RunOptions = {},
): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const s of items) {
    try {
      await opts.beforeItem?.(s.citizen);
      const bundle = opts.catalogue?.bundle(s.goal.service);
      out.push(await runScenario(client, s, services.get(s.goal.service), bundle ? { parts: bundle.members.map((m) => m.service) } : {}));
    } catch (err) {
      out.push(scenarioResult(s, `could not reset the citizen: ${errorReason(err)}`));
    }
    opts.onItem?.();
  }
  return out;
}

/** Every scenario failed before it started (e.g. the app could not be built). */
export function failedResults(items: readonly ScenarioItem[], reason: string): ScenarioResult[] {
  return items.map((s) => scenarioResult(s, reason));
}

// ------------------------------------------------------------------ scoring

export interface ScenarioMetrics {
  n: number;
  success_rate: number | null;
  mean_turns: number | null;
  mean_turns_by_service: Record<string, number | null>;
  /** Mean citizen turns over the seed service's scenarios (evals/gate.yaml `seed_service`). */
  mean_turns_criminal_record: number | null;
  /** The seed service the figure above is about. */
  seed_service: string;
  by_outcome: Record<string, { n: number; ok: number }>;
  items: ScenarioResult[];
}

export function scoreScenarios(results: readonly ScenarioResult[], seedService = SEED_SERVICE): ScenarioMetrics {
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
    mean_turns_criminal_record: meanTurnsByService[seedService] ?? null,
    seed_service: seedService,
    by_outcome: byOutcome,
    items: [...results],
  };
}
