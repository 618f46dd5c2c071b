import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * The agent's wording, loaded once from `agent/policy/responses.yaml`. Every template is
 * declared here with its slots, so `say` is typed (an unknown key or a missing slot does not
 * compile) and the file is checked at load: each declared key present, with exactly these
 * placeholders, and nothing undeclared in it.
 */
export const RESPONSE_SLOTS = {
  greeting: [], out_of_scope: [], not_understood: [], thanks: [], bye: [], clarify_service: [],
  need_login: ['service'],
  prefilled_intro: ['service', 'summary'],
  ask_field: ['label'],
  ask_field_options: ['label', 'options'],
  ask_brief: ['service', 'label'],
  ask_brief_options: ['service', 'label', 'options'],
  ask_again: ['answer', 'label', 'options'],
  ask_again_plain: ['label', 'options'],
  ask_again_free: ['label'],
  ask_field_suggestions: ['label'],
  ask_brief_suggestions: ['service', 'label'],
  ask_again_suggestions: ['label'],
  choice_type_in: [],
  greeting_spoken: [],
  prefilled_intro_spoken: ['service'],
  ask_options_spoken: ['label'],
  confirm_prompt_spoken: [],
  offer_greeting_spoken: ['name', 'title'],
  offer_greeting_anonymous_spoken: ['title'],
  offer_intro_spoken: ['title'],
  offer_confirm_prompt_spoken: [],
  ask_again_handoff: [],
  confirm_prompt: ['amend_hint'],
  confirm_brief: [],
  amend_hint_example: ['label', 'option'],
  amend_hint_plain: [],
  hold_delay: [], hold_joke: [], hold_other: [],
  hold_deny: ['amend_hint'],
  changed: ['changes'],
  changed_item: ['label', 'value'],
  edit_failed: ['message'],
  refuse_edit: ['message'],
  submitted: ['service', 'applicationId', 'statusMessage'],
  review_handoff: ['service', 'applicationId'],
  declined: ['service', 'reason'],
  declined_alternative: ['alternative'],
  repeat_exists: ['service', 'applicationId', 'status', 'statusMessage'],
  repeat_other_hint: [],
  cancelled: [], nothing_to_cancel: [],
  handoff_created: ['handoffId'],
  handoff_relayed: [],
  handoff_anonymous: [],
  answer_offer_apply: ['service'],
  field_value: ['label', 'value'],
  field_empty: ['label'],
  answer_not_found: [],
  offline_service: ['service'],
  progress_none: [],
  progress_none_for: ['service'],
  progress_list: ['items'],
  progress_item: ['service', 'id', 'status', 'message'],
  third_party: [],
  tool_error: ['message'],
  acknowledge: [],
  acknowledge_submitted: ['service', 'applicationId', 'status'],
  after_submit: ['service', 'applicationId', 'status', 'options'],
  after_submit_withdraw: [], after_submit_again: [], after_submit_staff: [],
  withdraw_confirm: ['service', 'applicationId'],
  withdraw_done: ['service', 'applicationId'],
  withdraw_not_possible: ['service', 'applicationId', 'status'],
  withdraw_none: [], withdraw_kept: [],
  deferred: ['items'],
  resume_ask: ['what'],
  resume_request: ['service'],
  capabilities: ['transactable', 'count', 'examples'],
  situation: ['say', 'services'],
  situation_brief: ['say', 'services'],
  offers_none: [],
  offer_greeting: ['name', 'title', 'department', 'why'],
  offer_greeting_anonymous: ['title', 'department', 'why'],
  offer_intro: ['title', 'department', 'why'],
  offer_amount: ['amount', 'explain'],
  offer_confirm_prompt: ['fields'],
  offer_more: ['items'],
  offer_item: ['title', 'amount'],
  offer_item_plain: ['title'],
  offer_later: ['title'],
  offer_declined: ['title'],
  bundle_intro: ['bundle', 'parts', 'summary'],
  bundle_part: ['service', 'department'],
  bundle_skipped: ['items'],
  bundle_submitted: ['bundle', 'bundleId'],
  bundle_submitted_item: ['service', 'department', 'status', 'applicationId'],
  bundle_failed_item: ['service', 'reason'],
  bundle_review_note: ['services'],
  bundle_progress: ['bundle', 'bundleId'],
  card_stale: [],
} as const satisfies Record<string, readonly string[]>;

export type ResponseKey = keyof typeof RESPONSE_SLOTS;
export type SlotsOf<K extends ResponseKey> = (typeof RESPONSE_SLOTS)[K][number];
type Vars<K extends ResponseKey> = [SlotsOf<K>] extends [never] ? [vars?: Record<string, never>] : [vars: Record<SlotsOf<K>, string | number>];

export const RESPONSES_FILE = fileURLToPath(new URL('./policy/responses.yaml', import.meta.url));

/** Placeholders of a template, in order of first use. */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))];
}

/** Reads and checks a responses file against the declaration; errors name the key. */
export function loadResponses(file = RESPONSES_FILE): Record<ResponseKey, string> {
  const raw = z.record(z.string(), z.string().min(1)).safeParse(parse(readFileSync(file, 'utf8')));
  if (!raw.success) throw new Error(`${file}: every entry must be a non-empty string: ${raw.error.message}`);
  const problems: string[] = [];
  for (const [key, slots] of Object.entries(RESPONSE_SLOTS)) {
    const t = raw.data[key];
    if (t === undefined) {
      problems.push(`missing "${key}"`);
      continue;
    }
    const used = placeholdersOf(t).sort();
    const declared = [...slots].sort();
    if (used.join() !== declared.join()) problems.push(`"${key}" uses {${used.join('}, {')}} but declares {${declared.join('}, {')}}`);
  }
  for (const key of Object.keys(raw.data)) if (!(key in RESPONSE_SLOTS)) problems.push(`"${key}" is not declared in agent/responses.ts`);
  if (problems.length) throw new Error(`${file}: ${problems.join('; ')}`);
  return raw.data as Record<ResponseKey, string>;
}

const templates = loadResponses();

/**
 * Renders a template; a slot without a value, or with an empty one ("您目前还没有「」的办理记录"),
 * is a programming error.
 */
export function say<K extends ResponseKey>(key: K, ...args: Vars<K>): string {
  const vars = (args[0] ?? {}) as Record<string, string | number>;
  return templates[key].replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new Error(`response "${key}": no value for {${k}}`);
    if (String(v).trim() === '') throw new Error(`response "${key}": empty value for {${k}}`);
    return String(v);
  });
}
