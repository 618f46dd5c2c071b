import type { z } from 'zod';
import type { Offer } from '../../knowledge/catalogue.js';
import { holds } from '../../knowledge/conditions.js';
import { evaluateFormula, parseFormula, type Formula } from '../../knowledge/formula.js';
import { notFound } from '../../core/errors.js';
import { ListOffersInput, OfferAnswerInput, type OfferView } from '../contract.js';
import { actorOf, type Principal } from '../identity/principal.js';
import { parseInput } from '../validation.js';
import { listForCitizen } from './applications.js';
import { audit } from './audit.js';
import { checkEligibility } from './eligibility.js';
import { fillFacts, scopeOf, type Facts } from './facts.js';
import { applicationValues, buildPrefill } from './prefill.js';
import { findRepeat } from './repeats.js';
import type { ServiceContext } from './service-context.js';

const LIVE = new Set(['submitted', 'under_review', 'issued']);

/** "以后再说": not pushed again for this long (asked for, it is always shown). */
export const LATER_DAYS = 7;

/**
 * 免申即享: what a citizen is entitled to from shared data alone, before anyone applies. An
 * offer holds when its condition holds over the citizen's facts, the service's own eligibility
 * rules pass and nothing repeats an application already made. Each comes with the citizen's own
 * facts that make them eligible, the amount where the catalogue's formula can compute it, and
 * the few fields they confirm. An answer ("不需要", "以后再说") is remembered so the offer is
 * not pushed at every session.
 */
export class OfferService {
  private readonly formulas = new Map<string, Formula>();

  constructor(private readonly ctx: ServiceContext) {
    for (const o of ctx.catalogue.offers) if (o.amount) this.formulas.set(o.id, parseFormula(o.amount.formula));
  }

  async list(p: Principal, input: z.input<typeof ListOffersInput> = {}): Promise<OfferView[]> {
    const { all } = parseInput(ListOffersInput, input);
    const c = await this.ctx.citizenOf(p);
    const sources = await this.ctx.sourcesOf(c);
    const today = this.ctx.now();
    const scope = scopeOf(sources.facts, {}, today);
    const existing = (await listForCitizen(this.ctx.pool, c.id)).map((r) => ({
      id: r.id, serviceId: r.service_id, status: r.status, fields: r.fields, createdAt: r.created_at,
    }));
    const answers = await this.answers(c.id);
    const out: OfferView[] = [];
    for (const offer of this.ctx.catalogue.offers) {
      const service = this.ctx.catalogue.get(offer.service);
      if (!service || !holds(offer.when, scope)) continue;
      const eligibility = checkEligibility(service, sources.facts, this.ctx.catalogue, today);
      if (!eligibility.eligible) continue;
      // Nothing already applied for is offered (by the service's repeat policy; without one, any live application of it).
      const applied = service.repeat && service.repeat.policy !== 'any'
        ? findRepeat(service, applicationValues(service, {}, sources), existing, today)
        : existing.find((a) => a.serviceId === service.id && LIVE.has(a.status));
      if (applied) continue;
      const answer = answers.get(offer.id);
      const status = !answer ? 'new' : answer.answer === 'later' && ageDays(answer.at, today) > LATER_DAYS ? 'new' : answer.answer;
      if (!all && status !== 'new') continue;
      const prefill = buildPrefill(service, {}, sources, eligibility);
      out.push({
        id: offer.id,
        serviceId: service.id,
        serviceName: service.name,
        department: service.department,
        title: offer.title,
        why: offer.why.map((w) => fillFacts(w, sources.facts, this.ctx.catalogue)).filter((w) => w.trim().length > 1),
        amount: this.amountOf(offer, sources.facts),
        confirm: prefill.fields.filter((f) => offer.confirm.includes(f.key)),
        status,
      });
    }
    await audit(this.ctx.pool, {
      actor: actorOf(p), action: 'offers.list', subjectCitizenId: c.id,
      what: { offers: out.map((o) => o.id) }, why: '免申即享：根据共享数据核对本人可享待遇',
    });
    return out;
  }

  async answer(p: Principal, input: z.input<typeof OfferAnswerInput>): Promise<{ offerId: string; answer: 'declined' | 'later'; answeredAt: string }> {
    const { offerId, answer } = parseInput(OfferAnswerInput, input);
    const { citizenId } = this.ctx.requireCitizen(p);
    if (!this.ctx.catalogue.offers.some((o) => o.id === offerId)) throw notFound('待遇');
    const r = await this.ctx.pool.query<{ answered_at: Date }>(
      `INSERT INTO offer_answers (citizen_id, offer_id, answer) VALUES ($1, $2, $3)
       ON CONFLICT (citizen_id, offer_id) DO UPDATE SET answer = EXCLUDED.answer, answered_at = now()
       RETURNING answered_at`,
      [citizenId, offerId, answer],
    );
    await audit(this.ctx.pool, {
      actor: actorOf(p), action: 'offer.answer', subjectCitizenId: citizenId,
      what: { offerId, answer }, why: answer === 'declined' ? '市民表示不需要该待遇' : '市民表示以后再说',
    });
    return { offerId, answer, answeredAt: r.rows[0]!.answered_at.toISOString() };
  }

  private amountOf(offer: Offer, facts: Facts): OfferView['amount'] {
    const f = this.formulas.get(offer.id);
    if (!offer.amount || !f) return null;
    const value = evaluateFormula(f, (name) => (Object.hasOwn(facts, name) ? facts[name] : undefined));
    if (value === null) return null;
    const rounded = Math.round(value * 100) / 100;
    const text = `${rounded.toLocaleString('zh-CN', { maximumFractionDigits: 2 })}${offer.amount.unit}`;
    return { value: rounded, unit: offer.amount.unit, per: offer.amount.per ?? null, text, explain: fillFacts(offer.amount.explain, facts, this.ctx.catalogue) };
  }

  private async answers(citizenId: string): Promise<Map<string, { answer: 'declined' | 'later'; at: Date }>> {
    const r = await this.ctx.pool.query<{ offer_id: string; answer: 'declined' | 'later'; answered_at: Date }>(
      'SELECT offer_id, answer, answered_at FROM offer_answers WHERE citizen_id = $1', [citizenId]);
    return new Map(r.rows.map((x) => [x.offer_id, { answer: x.answer, at: x.answered_at }]));
  }
}

function ageDays(at: Date, today: Date): number {
  return (today.getTime() - at.getTime()) / 86_400_000;
}
