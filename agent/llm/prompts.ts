import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { catalogue, type Service } from '../../knowledge/catalogue.js';

/** Prompt texts live in agent/policy/prompts/*.md; the catalogue part is built from services.json. */
const DIR = fileURLToPath(new URL('../policy/prompts/', import.meta.url));
const cache = new Map<string, string>();

export function loadPrompt(name: 'understand' | 'phrase' | 'phrase-consult'): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(`${DIR}${name}.md`, 'utf8').trim();
    cache.set(name, text);
  }
  return text;
}

/** One line per service: id｜name｜aliases｜transactable｜ask fields with their options. */
export function renderCatalogue(services: readonly Service[] = catalogue().services): string {
  return services
    .map((s) => {
      const asks = (s.fields ?? [])
        .filter((f) => f.source === 'ask')
        .map((f) => {
          const values = f.options?.length ? `选项：${f.options.join(' / ')}` : '自由填写（中文国家或地区名，不含数字）';
          return `${f.key}（${f.label}；${values}${typeof f.when === 'string' ? `；仅当 ${f.when}` : ''}）`;
        });
      return `- ${s.id}｜${s.name}｜${s.aliases.join('、') || '—'}｜${s.transactable ? '可在线办理' : '仅咨询'}｜${asks.join('；') || '无'}`;
    })
    .join('\n');
}

let understandSystem: string | undefined;
/** The understanding system prompt, built once. */
export function understandPrompt(): string {
  understandSystem ??= loadPrompt('understand')
    .replace('{{situations}}', catalogue().situations.map((s) => `\`${s.id}\`（${s.cues[0]}）`).join('、'))
    .replace('{{services}}', renderCatalogue());
  return understandSystem;
}
