import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The service catalogue contract (`knowledge/services.json`, a copy of shared/spec/services.json). */
export const FieldSchema = z.object({
  key: z.string(),
  label: z.string(),
  source: z.enum(['profile', 'ask', 'derived']),
  options: z.array(z.string()).optional(),
  when: z.string().optional(),
  note: z.string().optional(),
  value: z.string().optional(),
});
export type ServiceField = z.infer<typeof FieldSchema>;

export const ServiceSchema = z.object({
  id: z.string().regex(/^[a-z_]+$/),
  name: z.string(),
  aliases: z.array(z.string()),
  department: z.string(),
  transactable: z.boolean(),
  fields: z.array(FieldSchema).optional(),
  review: z.string().optional(),
});
export type Service = z.infer<typeof ServiceSchema>;

const CatalogueSchema = z.object({ about: z.string().optional(), services: z.array(ServiceSchema) });

export const CATALOGUE_PATH = fileURLToPath(new URL('../knowledge/services.json', import.meta.url));

let cached: Service[] | undefined;

export function loadCatalogue(path = CATALOGUE_PATH): Service[] {
  if (path === CATALOGUE_PATH && cached) return cached;
  const parsed = CatalogueSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: invalid catalogue: ${parsed.error.message}`);
  if (path === CATALOGUE_PATH) cached = parsed.data.services;
  return parsed.data.services;
}

export function getService(id: string): Service | undefined {
  return loadCatalogue().find((s) => s.id === id);
}

/**
 * Evaluates a field's `when` condition (`"<key> == <value>"`) against the values so far.
 * A field without a condition always applies.
 */
export function fieldApplies(field: ServiceField, values: Record<string, unknown>): boolean {
  if (!field.when) return true;
  const m = /^\s*([a-z_]+)\s*==\s*(.+?)\s*$/.exec(field.when);
  if (!m) throw new Error(`Unsupported field condition: ${field.when}`);
  return values[m[1]!] === m[2];
}
