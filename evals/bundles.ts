/**
 * The project's own measure of "高效办成一件事": for each scenario whose goal is a 一件事
 * bundle, the same citizen does the same thing twice in the same run, through the same HTTP
 * API and simulator: once as the bundle, once as its parts one by one (each part's catalogue
 * name as the opening, the same facts as answers). Citizen turns and fields asked are counted
 * both ways; Shanghai reports its first bundles cut steps by 69% and materials by 75%.
 */
import type { Catalogue } from '../knowledge/catalogue.js';
import type { HarnessClient } from './client.js';
import type { ScenarioItem } from './datasets.js';
import { runScenario, type ScenarioResult } from './scenarios.js';
import { round } from './stats.js';

export interface BundleWay {
  /** Citizen messages until every part was submitted (or the run ended). */
  turns: number;
  /** Agent turns that asked the citizen for a field (a question, not the confirmation). */
  fields_asked: number;
  /** Applications stored. */
  applications: number;
  ok: boolean;
}

export interface BundleFigure {
  bundle: string;
  name: string;
  scenario: string;
  citizen: string;
  together: BundleWay;
  one_by_one: BundleWay & { services: string[] };
  /** 1 - together / one_by_one: the share of citizen turns (fields asked) the bundle saves. */
  turns_saved: number | null;
  fields_saved: number | null;
}

const asked = (r: ScenarioResult) => r.transcript.filter((t) => t.awaiting !== null && t.awaiting !== 'confirm' && t.awaiting !== 'service').length;

export async function compareBundle(
  client: HarnessClient,
  s: ScenarioItem,
  catalogue: Catalogue,
  reset: (citizenId: string) => Promise<void>,
): Promise<BundleFigure | null> {
  const bundle = catalogue.bundle(s.goal.service);
  if (!bundle || s.expect.outcome !== 'submitted') return null;
  const parts = bundle.members.map((m) => m.service);
  await reset(s.citizen);
  const together = await runScenario(client, s, catalogue.get(bundle.service), { parts });
  const token = await client.login(s.citizen);
  const filed = (await client.applications(token)).map((a) => a.serviceId).filter((id) => parts.includes(id));
  // The parts one by one: the ones the bundle filed for this citizen, in the bundle's order.
  const services = parts.filter((id) => filed.includes(id));
  await reset(s.citizen);
  const separate: BundleWay & { services: string[] } = { turns: 0, fields_asked: 0, applications: 0, ok: true, services };
  for (const id of services) {
    const part: ScenarioItem = { ...s, id: `${s.id}:${id}`, opening: `我要办${catalogue.name(id) ?? id}`, goal: { ...s.goal, service: id }, expect: { outcome: 'submitted' } };
    const r = await runScenario(client, part, catalogue.get(id));
    separate.turns += r.turns;
    separate.fields_asked += asked(r);
    separate.ok &&= r.ok;
  }
  separate.applications = (await client.applications(token)).filter((a) => parts.includes(a.serviceId)).length;
  const way: BundleWay = { turns: together.turns, fields_asked: asked(together), applications: filed.length, ok: together.ok };
  const saved = (a: number, b: number) => (b > 0 ? round(1 - a / b, 3) : null);
  return {
    bundle: bundle.id, name: bundle.name, scenario: s.id, citizen: s.citizen,
    together: way, one_by_one: separate,
    turns_saved: saved(way.turns, separate.turns),
    fields_saved: saved(way.fields_asked, separate.fields_asked),
  };
}
