import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConditionSchema, holds, type Condition, type Scope } from './conditions.js';

/**
 * The service catalogue (`knowledge/services.json`): shared/spec/services.json's contract,
 * plus everything a service does differently, as data: where each pre-filled value comes
 * from, which ones a citizen may change and how they are checked, eligibility conditions with
 * the reason a citizen is told, the outcome on submit (instant issue of a certificate, or
 * staff review, with the messages), how repeats are treated, the citizen facts the rules may
 * name, and the 一件事 bundles and 免申即享 offers built from them. One engine reads it (the
 * sandbox service API); adding a service, a bundle or an offer means adding data here.
 */

const Key = z.string().regex(/^[a-z][a-z0-9_]*$/);

/** How an identifier is shown to citizens and staff. */
export const MASKS = ['id_number', 'phone', 'bank_account', 'licence_photo'] as const;

export const ValidationSchema = z
  .object({
    /** Strip these characters before checking and storing (e.g. spaces and dashes of an account number). */
    strip: z.string().optional(),
    pattern: z.string().optional(),
    min_length: z.number().int().positive().optional(),
    max_length: z.number().int().positive().optional(),
    /** Chinese message when the value does not pass; `{label}` is the field's label. */
    message: z.string().min(4),
  })
  .strict();
export type FieldValidation = z.infer<typeof ValidationSchema>;

export const FieldSchema = z
  .object({
    key: Key,
    label: z.string().min(1),
    source: z.enum(['profile', 'ask', 'derived']),
    options: z.array(z.string().min(1)).optional(),
    /**
     * Free-text ask fields: common answers offered to touch (a card of choices, with a way to
     * type another). Unlike `options`, any other valid value is still accepted.
     */
    suggestions: z.array(z.string().min(1).max(30)).min(1).max(16).optional(),
    when: ConditionSchema.optional(),
    note: z.string().optional(),
    value: z.string().optional(),
    /** profile fields: the citizen fact that fills it (default: the fact of the same key); `licence:<name>` reuses an e-licence. */
    from: z.string().optional(),
    /** profile fields the citizen may replace here (the pre-filled value is a suggestion). */
    editable: z.boolean().optional(),
    /** Checks of an editable or free-text value. */
    validate: ValidationSchema.optional(),
    mask: z.enum(MASKS).optional(),
    /** Never asked: filled from the citizen's own words (e.g. what "其他" means). */
    optional: z.boolean().optional(),
    /** For a note field: the field whose answer it explains. */
    note_for: Key.optional(),
    /** Where a government-record value is corrected, when it cannot be edited here. */
    correct_at: z.string().optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (!f.suggestions) return;
    if (f.source !== 'ask' || f.options || f.optional) {
      ctx.addIssue({ code: 'custom', path: ['suggestions'], message: 'suggestions are for free-text ask fields (no options, not optional)' });
    }
    if (new Set(f.suggestions).size !== f.suggestions.length) ctx.addIssue({ code: 'custom', path: ['suggestions'], message: 'suggestions repeat a value' });
    const v = f.validate;
    for (const s of f.suggestions) {
      const n = [...s].length;
      if (v && ((v.min_length && n < v.min_length) || (v.max_length && n > v.max_length) || (v.pattern && !new RegExp(v.pattern, 'u').test(s)))) {
        ctx.addIssue({ code: 'custom', path: ['suggestions'], message: `suggestion "${s}" does not pass the field's own validation` });
      }
    }
  });
export type ServiceField = z.infer<typeof FieldSchema>;

export const RuleSchema = z
  .object({
    /** Must hold for the citizen to be eligible. */
    require: ConditionSchema,
    code: z.enum(['ineligible', 'not_applicable']).default('ineligible'),
    /** Chinese, addressed to the citizen; `{fact}` placeholders are the citizen's own facts. */
    reason: z.string().min(4),
    /** A better-fitting service. */
    alternative: Key.optional(),
  })
  .strict();
export type EligibilityRule = z.infer<typeof RuleSchema>;

const MessageVariant = z.object({ when: ConditionSchema.optional(), text: z.string().min(4) }).strict();
const Messages = z.union([z.string().min(4), z.array(MessageVariant).min(1)]);

export const OutcomeSchema = z
  .object({
    /** What a clean submission becomes at once: issued (with a licence), or submitted to the department. */
    result: z.enum(['issued', 'submitted']).default('submitted'),
    licence: z
      .object({
        name: z.string().min(1),
        issuer: z.string().min(1),
        /** `{year}` and `{serial}` come from the application number. */
        number: z.string().min(1),
        valid_days: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** Cases staff must review instead (may name protected facts: the citizen is never told why). */
    review: z
      .array(z.object({ when: ConditionSchema, check: z.string().min(4) }).strict())
      .default([]),
    messages: z
      .object({ submitted: Messages.optional(), issued: Messages.optional(), under_review: Messages.optional() })
      .strict()
      .default({}),
  })
  .strict();
export type ServiceOutcome = z.infer<typeof OutcomeSchema>;

export const RepeatSchema = z
  .object({
    /**
     * once: one application ever (a one-off benefit); while_open: none while another is
     * being processed; same_day: not the same values again on the same day.
     */
    policy: z.enum(['once', 'while_open', 'same_day', 'any']),
    /** same_day: the fields that make two applications the same. */
    fields: z.array(Key).optional(),
  })
  .strict();
export type RepeatPolicy = z.infer<typeof RepeatSchema>;

export const ServiceSchema = z
  .object({
    id: Key,
    name: z.string().min(1),
    aliases: z.array(z.string()),
    department: z.string().min(1),
    transactable: z.boolean(),
    fields: z.array(FieldSchema).optional(),
    review: z.string().optional(),
    eligibility: z.array(RuleSchema).optional(),
    outcome: OutcomeSchema.optional(),
    repeat: RepeatSchema.optional(),
    /** Not offered on its own in conversation (a member of a bundle only). */
    bundle_only: z.boolean().optional(),
  })
  .strict();
export type Service = z.infer<typeof ServiceSchema>;

export const FactSchema = z
  .object({
    label: z.string().min(1),
    type: z.enum(['text', 'boolean', 'number', 'date']),
    /** Never named to anyone, never a reason for a decline (e.g. a record on file). */
    protected: z.boolean().optional(),
    /** How a boolean reads in a sentence. */
    yes: z.string().optional(),
    no: z.string().optional(),
  })
  .strict();
export type FactSpec = z.infer<typeof FactSchema>;

export const BundleSchema = z
  .object({
    id: Key,
    /** The catalogue service whose guide describes the bundle. */
    service: Key,
    name: z.string().min(1),
    /** The e-licence the bundle starts from (e.g. the birth medical certificate). */
    input_licence: z.string().optional(),
    /** Only when this holds for the citizen is the bundle offered. */
    requires: z.array(RuleSchema).default([]),
    members: z
      .array(
        z
          .object({
            service: Key,
            /** When this member applies to the citizen (facts) and the form (fields). */
            when: ConditionSchema.optional(),
            /** Said when the member does not apply. */
            skip_reason: z.string().optional(),
          })
          .strict(),
      )
      .min(2),
    /** Member fields asked once for all (same key in several members). */
    shared: z.array(Key).default([]),
    situations: z.array(z.string()).default([]),
  })
  .strict();
export type Bundle = z.infer<typeof BundleSchema>;

export const OfferSchema = z
  .object({
    id: Key,
    service: Key,
    title: z.string().min(1),
    /** When the citizen is entitled, from shared data alone. */
    when: ConditionSchema,
    /** The citizen's own facts that make them eligible (templates over facts). */
    why: z.array(z.string().min(2)).min(1),
    /** How much, where it can be computed: an arithmetic expression over facts, and how it is worked out. */
    amount: z
      .object({ formula: z.string().min(1), unit: z.string().default('元'), explain: z.string().min(4), per: z.string().optional() })
      .strict()
      .optional(),
    /** Fields the citizen confirms on the one-tap card (e.g. the bank account). */
    confirm: z.array(Key).default([]),
  })
  .strict();
export type Offer = z.infer<typeof OfferSchema>;

export const SituationSchema = z
  .object({
    id: Key,
    /** Words that tell this situation ("生了宝宝", "满65"). */
    cues: z.array(z.string().min(2)).min(1),
    services: z.array(Key).min(1),
    bundle: Key.optional(),
    /** One line saying why these services fit. */
    say: z.string().min(4),
  })
  .strict();
export type Situation = z.infer<typeof SituationSchema>;

export const CatalogueSchema = z
  .object({
    about: z.string().optional(),
    facts: z.record(Key, FactSchema).default({}),
    defaults: z
      .object({
        messages: z
          .object({ submitted: z.string().min(4), issued: z.string().min(4), under_review: z.string().min(4) })
          .strict(),
        /** Statuses from which the citizen may withdraw an application. */
        withdrawable: z.array(z.string()).default(['submitted']),
        /** The Chinese label of every application status (the one place they are defined). */
        statuses: z.record(z.string(), z.string().min(2)),
      })
      .strict(),
    services: z.array(ServiceSchema).min(1),
    bundles: z.array(BundleSchema).default([]),
    offers: z.array(OfferSchema).default([]),
    situations: z.array(SituationSchema).default([]),
  })
  .strict();
export type CatalogueData = z.infer<typeof CatalogueSchema>;

export const CATALOGUE_PATH = fileURLToPath(new URL('./services.json', import.meta.url));

/** The catalogue as loaded: the data plus lookups. Immutable. */
export class Catalogue {
  readonly services: readonly Service[];
  readonly facts: Readonly<Record<string, FactSpec>>;
  readonly bundles: readonly Bundle[];
  readonly offers: readonly Offer[];
  readonly situations: readonly Situation[];
  readonly defaults: CatalogueData['defaults'];
  private readonly byId: Map<string, Service>;

  constructor(readonly data: CatalogueData, readonly file = '(inline)') {
    this.services = data.services;
    this.facts = data.facts;
    this.bundles = data.bundles;
    this.offers = data.offers;
    this.situations = data.situations;
    this.defaults = data.defaults;
    this.byId = new Map(data.services.map((s) => [s.id, s]));
  }

  get(id: string | null | undefined): Service | undefined {
    return id ? this.byId.get(id) : undefined;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  name(id: string | null | undefined): string | undefined {
    return this.get(id)?.name;
  }

  bundle(id: string | null | undefined): Bundle | undefined {
    return id ? this.bundles.find((b) => b.id === id || b.service === id) : undefined;
  }

  /**
   * The fields of the form a conversation fills for an id: a service's own fields, or for a
   * 一件事 bundle (by its id or its service id) the union over its members, each key once.
   */
  formFields(id: string | null | undefined): ServiceField[] {
    const b = this.bundle(id);
    if (!b) return this.get(id)?.fields ?? [];
    const out: ServiceField[] = [];
    for (const m of b.members) for (const f of this.get(m.service)?.fields ?? []) if (!out.some((x) => x.key === f.key)) out.push(f);
    return out;
  }

  statusLabel(status: string): string {
    return this.defaults.statuses[status] ?? status;
  }

  transactable(): Service[] {
    return this.services.filter((s) => s.transactable && !s.bundle_only);
  }
}

const cache = new Map<string, Catalogue>();

/** Reads and validates a catalogue file (cached per path). Errors name the file and the path inside it. */
export function loadCatalogue(path = CATALOGUE_PATH): Catalogue {
  const hit = cache.get(path);
  if (hit) return hit;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read the catalogue: ${(err as Error).message}`);
  }
  const parsed = CatalogueSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${path}: invalid catalogue:\n${z.prettifyError(parsed.error)}`);
  const c = new Catalogue(parsed.data, path);
  cache.set(path, c);
  return c;
}

/** The project's catalogue (knowledge/services.json). */
export function catalogue(): Catalogue {
  return loadCatalogue();
}

/** Whether a field applies given the form values so far (its `when` condition holds). */
export function fieldApplies(field: ServiceField, values: Record<string, unknown>, facts?: Scope['fact']): boolean {
  if (field.when === undefined) return true;
  return holds(field.when as Condition, {
    field: (k) => (values[k] === undefined ? undefined : String(values[k])),
    fact: facts ?? (() => undefined),
  });
}

/** The `ask` fields a citizen is asked, in catalogue order (optional note fields excluded). */
export function askedFields(service: Service | undefined): ServiceField[] {
  return (service?.fields ?? []).filter((f) => f.source === 'ask' && !f.optional);
}

/** The reason a government-record value cannot be changed here, and where to correct it (citizen-facing). */
export function notEditableMessage(f: Pick<ServiceField, 'label' | 'correct_at'>): string {
  const where = f.correct_at ? `${f.correct_at}。` : '如信息有误，请联系相关部门更正。';
  return `「${f.label}」由政务共享数据自动填写，不能在这里修改；${where}`;
}
