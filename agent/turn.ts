import { z } from 'zod';

/** The `Turn` of shared/spec/API.md: what one citizen message gets back. */
export const CitationSchema = z.object({ service: z.string(), section: z.string(), title: z.string() });
export type Citation = z.infer<typeof CitationSchema>;

export const CardSchema = z
  .object({ type: z.enum(['confirm', 'choices', 'guide', 'receipt', 'handoff']) })
  .catchall(z.unknown());
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
});
export type Turn = z.infer<typeof TurnSchema>;

export function emptyTurn(partial: Partial<Turn> & Pick<Turn, 'reply' | 'act'>): Turn {
  return {
    service: null,
    awaiting: null,
    card: null,
    outcome: null,
    application: null,
    handoff: null,
    citations: [],
    ...partial,
  };
}
