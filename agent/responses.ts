import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

/** The agent's wording, loaded once from `agent/policy/responses.yaml`. */
const Schema = z
  .object({
    status: z.record(z.string(), z.string()),
    confirm_words: z.array(z.string()),
    submit_cues: z.array(z.string()),
  })
  .catchall(z.union([z.string(), z.array(z.string()), z.record(z.string(), z.string())]));

const PATH = fileURLToPath(new URL('./policy/responses.yaml', import.meta.url));
const parsed = Schema.safeParse(parse(readFileSync(PATH, 'utf8')));
if (!parsed.success) throw new Error(`${PATH}: ${parsed.error.message}`);
const data = parsed.data;

export type ResponseKey = Exclude<keyof typeof data, 'status' | 'confirm_words' | 'submit_cues'>;

/** Renders a response template; unknown keys are a programming error. */
export function say(key: string, vars: Record<string, string | number> = {}): string {
  const tpl = data[key];
  if (typeof tpl !== 'string') throw new Error(`No response template "${key}"`);
  return tpl.replace(/\{(\w+)\}/g, (_, k: string) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function statusLabel(status: string): string {
  return data.status[status] ?? status;
}

const confirmWords = new Set(data.confirm_words.map((w) => w.toLowerCase()));
/** Plain affirmations ("确认", "立即办理") when the NLU gave no dialogue act. */
export function isPlainConfirmation(normalized: string): boolean {
  return confirmWords.has(normalized.replace(/[\s。！!，,.]/g, '').toLowerCase());
}

/** A longer message that also asks to go ahead ("其他都对，提交"). */
export function asksToSubmit(normalized: string): boolean {
  const text = normalized.toLowerCase();
  return data.submit_cues.some((cue) => text.includes(cue));
}
