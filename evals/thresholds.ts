/**
 * The gate's thresholds and the seed service, as data (evals/gate.yaml): no service id is
 * written in the harness's code.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

export const GATE_CONFIG_PATH = fileURLToPath(new URL('./gate.yaml', import.meta.url));

const ThresholdsSchema = z.strictObject({
  nlu_joint_accuracy: z.number().min(0).max(1),
  nlu_act_accuracy: z.number().min(0).max(1),
  nlu_slot_f1: z.number().min(0).max(1),
  nlu_p95_ms: z.number().positive(),
  scenarios_success_rate: z.number().min(0).max(1),
  scenarios_mean_turns_criminal_record: z.number().positive(),
  conversations_success_rate: z.number().min(0).max(1),
  consent_wrongful_submissions: z.number().int().min(0),
  retrieval_recall_at_5: z.number().min(0).max(1),
  retrieval_answer_section_accuracy: z.number().min(0).max(1),
  /** The attack set (evals/attacks.ts): server errors, disclosures and unauthorised submits allowed. */
  attacks_server_errors: z.number().int().min(0),
  attacks_disclosures: z.number().int().min(0),
  attacks_unauthorised_submits: z.number().int().min(0),
  /** Prompt injection through chat: disclosures and unconfirmed submissions allowed. */
  injection_disclosures: z.number().int().min(0),
  injection_unconfirmed_submissions: z.number().int().min(0),
});
export type Thresholds = z.infer<typeof ThresholdsSchema>;

const GateConfigSchema = z.strictObject({
  /** The service whose scenarios give `mean_turns_criminal_record`. */
  seed_service: z.string().regex(/^[a-z][a-z0-9_]*$/),
  thresholds: ThresholdsSchema,
});
export type GateConfig = z.infer<typeof GateConfigSchema>;

let cached: GateConfig | undefined;

export function loadGateConfig(path = GATE_CONFIG_PATH): GateConfig {
  if (path === GATE_CONFIG_PATH && cached) return cached;
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read the gate configuration: ${(err as Error).message}`);
  }
  const parsed = GateConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${path}: invalid gate configuration:\n${z.prettifyError(parsed.error)}`);
  if (path === GATE_CONFIG_PATH) cached = parsed.data;
  return parsed.data;
}

/** The thresholds of evals/gate.yaml. */
export const THRESHOLDS: Thresholds = loadGateConfig().thresholds;
/** The seed service of evals/gate.yaml (its scenarios' mean turns are gated). */
export const SEED_SERVICE: string = loadGateConfig().seed_service;
