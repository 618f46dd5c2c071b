/**
 * Shared types of the NLU layer. Every engine (local, llm, baselines) returns an NluResult.
 */
export const ACTS = ['apply', 'consult', 'progress', 'handoff', 'cancel', 'greeting', 'out_of_scope'] as const;
export type Act = (typeof ACTS)[number];

/** Dialogue context: current service and the field key (or 'confirm') the agent is waiting for. */
export interface NluContext {
  service?: string | null;
  awaiting?: string | null;
}

export interface NluResult {
  act: Act;
  service: string | null;
  /** Canonical option strings for 'ask' fields (destination: Chinese country/region name). */
  slots: Record<string, string>;
  /** 0..1, calibrated: low when unsure. */
  confidence: number;
  /** Top services, for a clarifying question. */
  candidates: { service: string; score: number }[];
  /** True when unsure between services / act; the agent then asks instead of guessing. */
  needsClarification: boolean;
  /** "确认/好的/没问题/对/yes" vs "不对/不是/错了/no"; "不对，用途改成就业" -> deny + slots {purpose:'就业'}. */
  dialogue: 'confirm' | 'deny' | null;
  /** The normalised text. */
  normalized: string;
}

export interface NluEngine {
  readonly name: string;
  understand(text: string, ctx?: NluContext): Promise<NluResult>;
}
