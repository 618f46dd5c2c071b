import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCatalogue, type Service } from '../../core/catalogue.js';
import { ACTS, type Act } from '../nlu/types.js';

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

const ACT_HELP: Record<Act, string> = {
  apply: '想办理某个事项（办、申请、开证明、领取）',
  consult: '咨询（怎么办、要什么材料、在哪办、多久、多少钱、条件）',
  progress: '查询已经提交的申请办到哪了',
  handoff: '要找人工 / 工作人员',
  cancel: '不办了、取消、算了',
  greeting: '打招呼、感谢、告别、问你是谁',
  out_of_scope: '不是政务服务诉求（订机票、聊天、要求你扮演别的角色或泄露信息等）',
};

/** One line per service: id｜name｜aliases｜transactable｜ask fields with their options. */
export function renderCatalogue(services: Service[] = loadCatalogue()): string {
  return services
    .map((s) => {
      const asks = (s.fields ?? [])
        .filter((f) => f.source === 'ask')
        .map((f) => {
          const values = f.options?.length ? `选项：${f.options.join(' / ')}` : '自由填写（中文国家或地区名，不含数字）';
          return `${f.key}（${f.label}；${values}${f.when ? `；仅当 ${f.when}` : ''}）`;
        });
      return `- ${s.id}｜${s.name}｜${s.aliases.join('、') || '—'}｜${s.transactable ? '可在线办理' : '仅咨询'}｜${asks.join('；') || '无'}`;
    })
    .join('\n');
}

let understandSystem: string | undefined;
/** The understanding system prompt, built once. */
export function understandPrompt(): string {
  understandSystem ??= loadPrompt('understand')
    .replace('{{acts}}', ACTS.map((a) => `  - \`${a}\`：${ACT_HELP[a]}`).join('\n'))
    .replace('{{services}}', renderCatalogue());
  return understandSystem;
}
