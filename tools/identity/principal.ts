import { z } from 'zod';

/** Who is acting: a logged-in citizen (sandbox login or a kiosk's ID-card reader) or a staff member. */
export const CitizenPrincipal = z.object({
  kind: z.literal('citizen'),
  citizenId: z.string(),
  name: z.string(),
  via: z.enum(['sandbox', 'kiosk_card']),
});
export const StaffPrincipal = z.object({ kind: z.literal('staff'), staffId: z.string(), name: z.string() });
export const Principal = z.discriminatedUnion('kind', [CitizenPrincipal, StaffPrincipal]);

export type CitizenPrincipal = z.infer<typeof CitizenPrincipal>;
export type StaffPrincipal = z.infer<typeof StaffPrincipal>;
export type Principal = z.infer<typeof Principal>;

/** The stable identity of a principal, e.g. `citizen:c-sun-ming` or `staff:st-staff01`. */
export function principalKey(p: Principal): string {
  return p.kind === 'citizen' ? `citizen:${p.citizenId}` : `staff:${p.staffId}`;
}

export function actorOf(p: Principal | null): { kind: 'citizen' | 'staff' | 'anonymous'; id: string } {
  if (!p) return { kind: 'anonymous', id: '-' };
  return p.kind === 'citizen' ? { kind: 'citizen', id: p.citizenId } : { kind: 'staff', id: p.staffId };
}
