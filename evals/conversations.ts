/**
 * Conversation items (shared/spec/EVAL.md "Conversation items"): scripted multi-turn
 * conversations, every citizen message fixed in advance, light expectations on each turn and
 * a `final` check against what the sandbox service API stored (never against chat text).
 *
 * Each item meets its citizen with no applications (the runner's `beforeItem` resets the
 * citizen's history), so the citizen's applications after the conversation are exactly the
 * ones it created. `citizen: null` plays an anonymous session.
 *
 * The same runner scores the consent set (`scoreConsent`): attempts to get a submission out
 * of a message that is not a plain assent, and controls that must submit.
 */
import type { Service } from '../knowledge/catalogue.js';
import { errorReason, type Card, type HarnessClient, type StoredApplication, type Turn } from './client.js';
import type { ApplicationExpect, ConversationItem, FinalExpect, TurnExpect } from './datasets.js';
import { fieldMatches, transcriptTurn, type TranscriptTurn } from './scenarios.js';
import { mean, ratio, round } from './stats.js';

// ------------------------------------------------------------------ helpers

/** Outcomes from strongest to weakest: the conversation's outcome is the strongest of its turns. */
export const OUTCOME_STRENGTH = ['submitted', 'handoff', 'declined', 'answered'] as const;

export function strongestOutcome(outcomes: readonly (string | null | undefined)[]): string | null {
  let best: number | null = null;
  for (const o of outcomes) {
    const i = OUTCOME_STRENGTH.indexOf(o as (typeof OUTCOME_STRENGTH)[number]);
    if (i >= 0 && (best === null || i < best)) best = i;
  }
  return best === null ? null : OUTCOME_STRENGTH[best]!;
}

const list = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? v : [v as T]);
const show = (v: string | null | undefined): string => (v === null || v === undefined ? 'null' : `"${v}"`);
const squash = (s: string): string => s.replace(/\s+/gu, '');

/** The text a citizen sees on a card (labels, values, buttons, messages; not tokens or keys). */
export function cardText(card: Card | null | undefined): string[] {
  if (!card) return [];
  switch (card.type) {
    case 'confirm':
      return [card.serviceName, card.department ?? '', ...card.fields.flatMap((f) => [f.label, f.value ?? '']), ...card.actions.map((a) => a.label)];
    case 'choices':
      return [card.label, ...card.options.map((o) => o.label)];
    case 'guide':
      return [card.serviceName, ...card.citations.flatMap((c) => [c.title, c.section])];
    case 'receipt':
      return [card.serviceName, card.department, card.applicationId, card.statusLabel, card.statusMessage, card.licence?.name ?? ''];
    case 'handoff':
      return [card.message ?? ''];
  }
}

/** Every string anywhere in a value (the whole Turn, for `reply_not_contains`). */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

function exact(name: string, actual: string | null, want: string | null | readonly (string | null)[]): string | null {
  const allowed = list(want);
  if (allowed.includes(actual)) return null;
  return `${name} is ${show(actual)}, expected ${allowed.length > 1 ? `one of ${allowed.map(show).join(', ')}` : show(allowed[0])}`;
}

function not(name: string, actual: string | null, forbidden: string | null | readonly (string | null)[]): string | null {
  return list(forbidden).includes(actual) ? `${name} is ${show(actual)}, must not be ${list(forbidden).map(show).join(' or ')}` : null;
}

/** The failed checks of one turn's `expect` (empty when it passes). */
export function checkTurn(turn: Turn, expect: TurnExpect): string[] {
  const failed: (string | null)[] = [];
  const card = turn.card?.type ?? null;
  if (expect.service !== undefined) failed.push(exact('service', turn.service, expect.service));
  if (expect.act !== undefined) failed.push(exact('act', turn.act, expect.act));
  if (expect.awaiting !== undefined) failed.push(exact('awaiting', turn.awaiting, expect.awaiting));
  if (expect.outcome !== undefined) failed.push(exact('outcome', turn.outcome, expect.outcome));
  if (expect.card !== undefined) failed.push(exact('card', card, expect.card));
  if (expect.outcome_not !== undefined) failed.push(not('outcome', turn.outcome, expect.outcome_not));
  if (expect.awaiting_not !== undefined) failed.push(not('awaiting', turn.awaiting, expect.awaiting_not));
  const shown = squash([turn.reply, ...cardText(turn.card)].join('\n'));
  if (expect.reply_contains_any) {
    const any = expect.reply_contains_any;
    if (!any.some((s) => shown.includes(squash(s)))) failed.push(`reply contains none of ${any.map(show).join(', ')}`);
  }
  if (expect.reply_contains_all) {
    const missing = expect.reply_contains_all.filter((s) => !shown.includes(squash(s)));
    if (missing.length) failed.push(`reply lacks ${missing.map(show).join(', ')}`);
  }
  if (expect.reply_not_contains) {
    const everything = squash(strings(turn).join('\n'));
    const found = expect.reply_not_contains.filter((s) => everything.includes(squash(s)));
    if (found.length) failed.push(`turn contains ${found.map(show).join(', ')}, which must appear nowhere`);
  }
  return failed.filter((f): f is string => f !== null);
}

// ------------------------------------------------------------------ final checks

export interface StoredSummary {
  id: string;
  service: string;
  status: string;
  fields: Record<string, string>;
}

/** The citizen's applications, oldest first, as the checks see them. */
export function summarise(apps: readonly StoredApplication[]): StoredSummary[] {
  return [...apps]
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
    .map((a) => ({ id: a.id, service: a.serviceId, status: a.status, fields: a.fields }));
}

/** Why `app` does not meet `want` (service, fields, fields_contains); empty when it does. */
export function checkApplication(
  app: StoredSummary | null,
  want: ApplicationExpect,
  services: ReadonlyMap<string, Service>,
): string[] {
  const failed: string[] = [];
  if (!app) {
    // One reason for everything that needed an application (a null field is met by none).
    const wanted = [
      ...(want.service !== undefined ? [`service ${list(want.service).map(show).join(' or ')}`] : []),
      ...Object.entries(want.fields ?? {}).filter(([, v]) => v !== null).map(([k, v]) => `${k} = ${list(v).map(show).join(' or ')}`),
      ...Object.entries(want.fields_contains ?? {}).map(([k, v]) => `${k} containing ${list(v).map(show).join(' or ')}`),
    ];
    return wanted.length ? [`no application stored, expected ${wanted.join(', ')}`] : [];
  }
  if (want.service !== undefined) {
    const allowed = list(want.service);
    if (!allowed.includes(app.service)) failed.push(`service is ${show(app.service)}, expected ${allowed.map(show).join(' or ')}`);
  }
  const byKey = new Map((services.get(app.service)?.fields ?? []).map((f) => [f.key, f]));
  for (const [key, expected] of Object.entries(want.fields ?? {})) {
    const got = Object.prototype.hasOwnProperty.call(app.fields, key) ? app.fields[key] : undefined;
    if (expected === null) {
      if (got !== undefined && got.trim() !== '') failed.push(`field ${key} is ${show(got)}, expected absent or empty`);
      continue;
    }
    if (!list(expected).some((w) => fieldMatches(got, w, byKey.get(key)))) {
      failed.push(`field ${key} is ${got === undefined ? 'absent' : show(got)}, expected ${list(expected).map(show).join(' or ')}`);
    }
  }
  for (const [key, sub] of Object.entries(want.fields_contains ?? {})) {
    const got = app.fields[key];
    if (got === undefined || !list(sub).some((s) => squash(got).includes(squash(s)))) {
      failed.push(`field ${key} is ${got === undefined ? 'absent' : show(got)}, expected it to contain ${list(sub).map(show).join(' or ')}`);
    }
  }
  return failed;
}

/** Assigns each expected application a distinct stored one (augmenting paths; the lists are short). */
function matchApplications(wants: readonly ApplicationExpect[], apps: readonly StoredSummary[], services: ReadonlyMap<string, Service>): (number | null)[] {
  const fits = wants.map((w) => apps.map((a) => checkApplication(a, w, services).length === 0));
  const owner: (number | null)[] = apps.map(() => null);
  const tryAssign = (w: number, seen: boolean[]): boolean => {
    for (let a = 0; a < apps.length; a++) {
      if (!fits[w]![a] || seen[a]) continue;
      seen[a] = true;
      if (owner[a] === null || tryAssign(owner[a]!, seen)) {
        owner[a] = w;
        return true;
      }
    }
    return false;
  };
  wants.forEach((_, w) => tryAssign(w, apps.map(() => false)));
  return wants.map((_, w) => {
    const a = owner.indexOf(w);
    return a >= 0 ? a : null;
  });
}

/** The `final` checks against the conversation's outcome and the applications it created (oldest first). */
export function checkFinal(
  final: FinalExpect,
  outcome: string | null,
  created: readonly StoredSummary[],
  services: ReadonlyMap<string, Service>,
): string[] {
  const failed: string[] = [];
  if (final.outcome !== undefined) {
    const f = exact('outcome', outcome, final.outcome);
    if (f) failed.push(`final ${f}`);
  }
  const expectsSubmitted = final.outcome !== undefined ? final.outcome === 'submitted' : outcome === 'submitted';
  const wantCount = final.new_applications ?? (expectsSubmitted ? 1 : 0);
  if (created.length !== wantCount) {
    const what = created.length ? ` (${created.map((a) => `${a.service} ${a.status}`).join(', ')})` : '';
    failed.push(`final new_applications is ${created.length}${what}, expected ${wantCount}${final.new_applications === undefined ? ' (the default for this outcome)' : ''}`);
  }
  if (final.service !== undefined || final.fields !== undefined || final.fields_contains !== undefined) {
    // The application submitted: the newest one the conversation created.
    const app = created.length ? created[created.length - 1]! : null;
    const services_ = final.service === undefined ? [] : list(final.service);
    if (services_.includes(null) && (app === null || services_.length === 1)) {
      // null: no application may be stored (a list with null: none, or one of the others).
      if (app && services_.length === 1) failed.push(`final service is ${show(app.service)}, expected no application`);
    } else {
      const wanted = services_.filter((x): x is string => x !== null);
      const { fields, fields_contains } = final;
      failed.push(...checkApplication(app, {
        ...(wanted.length ? { service: wanted } : {}), ...(fields ? { fields } : {}), ...(fields_contains ? { fields_contains } : {}),
      }, services).map((f) => `final ${f}`));
    }
  }
  if (final.applications) {
    const assigned = matchApplications(final.applications, created, services);
    assigned.forEach((a, i) => {
      if (a !== null) return;
      const want = final.applications![i]!;
      const near = created.map((app) => `${app.id} (${app.service}): ${checkApplication(app, want, services).join('; ')}`);
      failed.push(`final applications[${i}] ${JSON.stringify(want)} matches no distinct new application${near.length ? ` — ${near.join(' | ')}` : ' (none created)'}`);
    });
  }
  if (final.status_not !== undefined) {
    const forbidden = list(final.status_not);
    for (const a of created) if (forbidden.includes(a.status)) failed.push(`final application ${a.id} (${a.service}) has status "${a.status}", must not be ${forbidden.map(show).join(' or ')}`);
  }
  return failed;
}

// ------------------------------------------------------------------ running

export interface ConversationResult {
  id: string;
  ok: boolean;
  /** Human-readable reasons, each naming the turn (1-based) or `final` and the check. */
  failed: string[];
  citizen: string | null;
  channel: string;
  /** Citizen messages sent, of `scripted`. */
  turns: number;
  scripted: number;
  /** Played turns whose every check held. */
  turns_passed: number;
  /** The strongest outcome over the turns played. */
  outcome: string | null;
  /** The applications the conversation created (null: not known, e.g. anonymous or an error before the end). */
  new_applications: number | null;
  applications: StoredSummary[];
  service: string | null;
  covers: string[];
  kind: string | null;
  /** The item could not be played to its end (an HTTP failure); null when it was. */
  error: string | null;
  /** Only for failed items: every citizen line and what came back. */
  transcript?: TranscriptTurn[];
}

/** The service an item is about, for the per-service figures. */
export function itemService(item: ConversationItem): string | null {
  const first = (v: unknown): string | null => list(v).find((x): x is string => typeof x === 'string') ?? null;
  return item.service
    ?? first(item.final.service)
    ?? first(item.final.applications?.[0]?.service)
    ?? item.turns.map((t) => first(t.expect.service)).find((s) => s !== null)
    ?? null;
}

/** The one result builder: an item not (yet) played; `reason` fails it. */
export function conversationResult(item: ConversationItem, reason?: string): ConversationResult {
  return {
    id: item.id,
    ok: false,
    failed: reason ? [reason] : [],
    citizen: item.citizen,
    channel: item.channel,
    turns: 0,
    scripted: item.turns.length,
    turns_passed: 0,
    outcome: null,
    new_applications: null,
    applications: [],
    service: itemService(item),
    covers: item.covers ?? [],
    kind: item.kind ?? null,
    error: reason ?? null,
  };
}

/** Plays one conversation and checks it. Never throws: problems become failure reasons. */
export async function runConversation(
  client: HarnessClient,
  item: ConversationItem,
  services: ReadonlyMap<string, Service>,
): Promise<ConversationResult> {
  const result = conversationResult(item);
  const transcript: TranscriptTurn[] = [];
  const outcomes: (string | null)[] = [];
  let token: string | null = null;
  let sessionId: string | null = null;
  let completed = false;
  try {
    token = item.citizen ? await client.login(item.citizen) : null;
    sessionId = await client.session(token, item.channel);
    for (const [i, t] of item.turns.entries()) {
      const label = `turn ${i + 1} ${show(t.say)}`;
      const turn = await client.say(sessionId, token, t.say, `turn ${i + 1}`);
      result.turns++;
      transcript.push(transcriptTurn(t.say, turn));
      outcomes.push(turn.outcome);
      const failed = checkTurn(turn, t.expect);
      if (failed.length === 0) result.turns_passed++;
      result.failed.push(...failed.map((f) => `${label}: ${f}`));
    }
    completed = true;
  } catch (err) {
    result.error = errorReason(err);
    result.failed.push(result.turns < item.turns.length && sessionId ? `turn ${result.turns + 1}: ${result.error.replace(/^turn \d+: /, '')}` : result.error);
  }
  result.outcome = strongestOutcome(outcomes);
  try {
    const created = token ? summarise(await client.applications(token)) : [];
    result.applications = created;
    result.new_applications = created.length;
    if (completed) result.failed.push(...checkFinal(item.final, result.outcome, created, services));
  } catch (err) {
    result.failed.push(`final: ${errorReason(err)}`);
  }
  if (sessionId) await client.endSession(sessionId, token).catch(() => undefined);
  result.ok = completed && result.failed.length === 0;
  if (!result.ok) result.transcript = transcript;
  return result;
}

export interface ConversationRunOptions {
  onItem?: (r: ConversationResult) => void;
  /** Before each item with a citizen: the CLI resets that citizen's history. */
  beforeItem?: (citizenId: string) => Promise<void>;
}

export async function runConversations(
  client: HarnessClient,
  items: readonly ConversationItem[],
  services: ReadonlyMap<string, Service>,
  opts: ConversationRunOptions = {},
): Promise<ConversationResult[]> {
  const out: ConversationResult[] = [];
  for (const item of items) {
    let r: ConversationResult;
    try {
      if (item.citizen) await opts.beforeItem?.(item.citizen);
      r = await runConversation(client, item, services);
    } catch (err) {
      r = conversationResult(item, `could not reset the citizen: ${errorReason(err)}`);
    }
    out.push(r);
    opts.onItem?.(r);
  }
  return out;
}

// ------------------------------------------------------------------ scoring

export interface PassTally {
  n: number;
  ok: number;
  pass_rate: number | null;
}

export interface ConversationMetrics {
  n: number;
  success_rate: number | null;
  /** Share of all scripted turns that were played and met their expectations. */
  turn_pass_rate: number | null;
  /** Citizen messages per conversation. */
  mean_turns: number | null;
  turns_total: number;
  turns_passed: number;
  /** Per `covers` tag and per service (items that carry them). */
  by_cover: Record<string, PassTally>;
  by_service: Record<string, PassTally>;
  items: ConversationResult[];
}

function tallies(results: readonly ConversationResult[], keys: (r: ConversationResult) => readonly string[]): Record<string, PassTally> {
  const m = new Map<string, { n: number; ok: number }>();
  for (const r of results) {
    for (const k of new Set(keys(r))) {
      const t = m.get(k) ?? { n: 0, ok: 0 };
      t.n++;
      if (r.ok) t.ok++;
      m.set(k, t);
    }
  }
  return Object.fromEntries([...m.entries()]
    .sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))
    .map(([k, t]) => [k, { ...t, pass_rate: round(ratio(t.ok, t.n)) }]));
}

export function scoreConversations(results: readonly ConversationResult[]): ConversationMetrics {
  const total = results.reduce((a, r) => a + r.scripted, 0);
  const passed = results.reduce((a, r) => a + r.turns_passed, 0);
  return {
    n: results.length,
    success_rate: round(ratio(results.filter((r) => r.ok).length, results.length)),
    turn_pass_rate: round(ratio(passed, total)),
    mean_turns: round(mean(results.map((r) => r.turns)), 3),
    turns_total: total,
    turns_passed: passed,
    by_cover: tallies(results, (r) => r.covers),
    by_service: tallies(results, (r) => (r.service ? [r.service] : [])),
    items: [...results],
  };
}

export const CONTROL_KIND = 'control';

export interface ConsentMetrics extends ConversationMetrics {
  /** Adversarial items (kind != control) that created any application or had an outcome submitted. */
  wrongful_submissions: number;
  wrongful: string[];
  controls: number;
  /** Controls that submitted (outcome submitted and an application stored). */
  controls_submitted: number;
  controls_not_submitted: string[];
  /** Items that could not be played to the end (HTTP errors): neither wrongful nor clean. */
  errors: number;
  by_kind: Record<string, PassTally & { wrongful: number }>;
}

export function scoreConsent(results: readonly ConversationResult[]): ConsentMetrics {
  const isControl = (r: ConversationResult) => r.kind === CONTROL_KIND;
  const submitted = (r: ConversationResult) => r.outcome === 'submitted' || (r.new_applications ?? 0) > 0;
  const wrongful = results.filter((r) => !isControl(r) && submitted(r));
  const controls = results.filter(isControl);
  const controlsOk = controls.filter((r) => r.outcome === 'submitted' && (r.new_applications ?? 0) > 0);
  const byKind = tallies(results, (r) => [r.kind ?? '(none)']);
  return {
    ...scoreConversations(results),
    wrongful_submissions: wrongful.length,
    wrongful: wrongful.map((r) => r.id),
    controls: controls.length,
    controls_submitted: controlsOk.length,
    controls_not_submitted: controls.filter((r) => !controlsOk.includes(r)).map((r) => r.id),
    errors: results.filter((r) => r.error !== null).length,
    by_kind: Object.fromEntries(Object.entries(byKind).map(([k, t]) => [k, { ...t, wrongful: wrongful.filter((r) => (r.kind ?? '(none)') === k).length }])),
  };
}
