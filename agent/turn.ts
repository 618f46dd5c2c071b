import { z } from 'zod';

/** The `Turn` of shared/spec/API.md: what one citizen message gets back, and its card union. */
export const CitationSchema = z.object({ service: z.string(), section: z.string(), title: z.string() });
export type Citation = z.infer<typeof CitationSchema>;

const CardField = z.object({ key: z.string(), label: z.string(), source: z.string(), value: z.string().nullable() });
const CardButton = z.object({ label: z.string(), text: z.string() });

/** The one confirmation card: every field as it will be submitted (identifiers masked). */
export const ConfirmCard = z.object({
  type: z.literal('confirm'),
  /** Press a button with this token; a button of an older card is refused (409). */
  token: z.string(),
  /** What is confirmed: an application, or the withdrawal of one. */
  action: z.enum(['submit', 'withdraw']),
  service: z.string(),
  serviceName: z.string(),
  department: z.string().optional(),
  applicationId: z.string().optional(),
  fields: z.array(CardField),
  actions: z.array(CardButton),
  /** 一件事: the parts, grouped by department, each with its own fields; parts left out, with why. */
  groups: z.array(z.object({ department: z.string(), services: z.array(z.string()), fields: z.array(CardField) })).optional(),
  skipped: z.array(z.object({ serviceName: z.string(), reason: z.string() })).optional(),
  /** 免申即享: the benefit offered, why this citizen qualifies, and the amount where it is computed. */
  offer: z.object({ id: z.string(), title: z.string(), why: z.array(z.string()), amount: z.string().nullable(), explain: z.string().nullable() }).optional(),
});

export const ChoicesCard = z.object({
  type: z.literal('choices'),
  token: z.string(),
  /** The field the options answer, or 'service' for a choice of services. */
  field: z.string(),
  label: z.string(),
  /**
   * `input`: not an answer but "type another" (a free-text field's suggestions end with it):
   * the client puts the keyboard input in focus instead of sending anything.
   */
  options: z.array(z.object({ value: z.string(), label: z.string(), text: z.string().optional(), input: z.boolean().optional() })),
});

export const GuideCard = z.object({
  type: z.literal('guide'),
  service: z.string(),
  serviceName: z.string(),
  transactable: z.boolean(),
  citations: z.array(CitationSchema),
});

export const ReceiptCard = z.object({
  type: z.literal('receipt'),
  applicationId: z.string(),
  service: z.string(),
  serviceName: z.string(),
  department: z.string(),
  status: z.string(),
  statusLabel: z.string(),
  statusMessage: z.string(),
  licence: z.object({ id: z.string(), name: z.string() }).nullable(),
  submittedAt: z.string(),
  /** 一件事: every part filed, each with its own department, number and status. */
  bundle: z.object({
    id: z.string(),
    name: z.string(),
    parts: z.array(z.object({ applicationId: z.string(), serviceName: z.string(), department: z.string(), status: z.string(), statusLabel: z.string() })),
  }).optional(),
});

export const HandoffCard = z.object({
  type: z.literal('handoff'),
  handoffId: z.string(),
  status: z.string(),
  applicationId: z.string().optional(),
  message: z.string().optional(),
});

export const CardSchema = z.discriminatedUnion('type', [ConfirmCard, ChoicesCard, GuideCard, ReceiptCard, HandoffCard]);
export type Card = z.infer<typeof CardSchema>;

export const OutcomeSchema = z.enum(['submitted', 'handoff', 'answered', 'declined']);
export type Outcome = z.infer<typeof OutcomeSchema>;

export const TurnSchema = z.object({
  reply: z.string(),
  act: z.string(),
  service: z.string().nullable(),
  awaiting: z.string().nullable(),
  card: CardSchema.nullable(),
  outcome: OutcomeSchema.nullable(),
  application: z.object({ id: z.string(), status: z.string() }).nullable(),
  handoff: z.object({ id: z.string(), reason: z.string() }).nullable(),
  citations: z.array(CitationSchema),
  /**
   * What is spoken (kiosk TTS): the point or the question only; the lists and pre-filled values
   * stay on screen in `reply` and the card. Absent when it is the reply itself.
   */
  speech: z.string().optional(),
});
export type Turn = z.infer<typeof TurnSchema>;
