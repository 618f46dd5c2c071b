import { z } from 'zod';
import { Application, BundleApplicationView, Handoff, TranscriptEntry } from '../contract.js';

/** Shapes of the staff console and handoff conversations (outside the MCP tool contract). */
export const HandoffMessage = z.object({
  id: z.string(),
  authorKind: z.enum(['staff', 'citizen', 'system']),
  authorName: z.string().nullable(),
  text: z.string(),
  createdAt: z.string(),
});
export type HandoffMessage = z.infer<typeof HandoffMessage>;

export const HandoffSummary = Handoff.extend({
  reasonText: z.string().nullable(),
  serviceId: z.string().nullable(),
  serviceName: z.string().nullable(),
  sessionId: z.string().nullable(),
  applicationId: z.string().nullable(),
  citizen: z.object({ id: z.string(), name: z.string() }).nullable(),
  createdAt: z.string(),
  /** Seconds from creation to claim (or to now while waiting). */
  waitingSeconds: z.number().int(),
  claimedBy: z.object({ staffId: z.string(), name: z.string() }).nullable(),
});
export type HandoffSummary = z.infer<typeof HandoffSummary>;

export const HandoffDetail = HandoffSummary.extend({
  /** False when identifiers are masked (the default); true after an audited full view. */
  unmasked: z.boolean(),
  /** Staff-only: what to check for this case (from the catalogue's review rule). Never sent to the citizen. */
  staffNote: z.string().nullable(),
  citizenContact: z.object({ idNumber: z.string(), phone: z.string().nullable() }).nullable(),
  transcript: z.array(TranscriptEntry),
  understanding: z.record(z.string(), z.unknown()),
  form: z.record(z.string(), z.unknown()),
  messages: z.array(HandoffMessage),
  application: Application.nullable(),
  /** The 一件事 the application is a part of: every part with its department and status. */
  bundle: BundleApplicationView.nullable(),
});
export type HandoffDetail = z.infer<typeof HandoffDetail>;

/** A citizen's view of their own handoff. */
export const MyHandoff = Handoff.extend({
  sessionId: z.string().nullable(),
  createdAt: z.string(),
  /** The staff member who took the case, once claimed. */
  claimedBy: z.string().nullable(),
  messages: z.array(HandoffMessage),
});
export type MyHandoff = z.infer<typeof MyHandoff>;

export const ReviewItem = z.object({
  application: Application,
  citizen: z.object({ id: z.string(), name: z.string() }),
  /** Staff-only: what to check. */
  staffNote: z.string().nullable(),
});
export type ReviewItem = z.infer<typeof ReviewItem>;
