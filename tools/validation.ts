import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { findInvalidText, invalidTextMessage } from '../core/text-guard.js';

/**
 * zod at the boundaries, with Chinese messages written here (zod's own zh-CN locale reads
 * "数值过小：期望 文本 >=1 字符"): every issue becomes one short sentence naming the parameter.
 * Text a person cannot type (NUL, control characters, lone surrogates) is refused first,
 * before any schema, so it never reaches the database or a log.
 */
const TYPE_NAMES: Record<string, string> = {
  string: '文本', number: '数字', int: '整数', boolean: '是或否（true/false）', object: '对象', array: '列表',
  null: '空值', undefined: '未填写', bigint: '整数', date: '日期',
};

const typeName = (t: unknown) => TYPE_NAMES[String(t)] ?? String(t);

function describe(issue: z.core.$ZodIssue): string {
  const name = issue.path.length ? `「${issue.path.map(String).join('.')}」` : '请求内容';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return issue.path.length ? `缺少必填参数${name}` : '缺少请求内容';
      return `${name}应为${typeName(issue.expected)}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return min <= 1 ? `${name}不能为空` : `${name}至少需要 ${min} 个字符`;
      if (issue.origin === 'array') return `${name}至少需要 ${min} 项`;
      return `${name}不能小于 ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `${name}最多 ${max} 个字符`;
      if (issue.origin === 'array') return `${name}最多 ${max} 项`;
      return `${name}不能大于 ${max}`;
    }
    case 'invalid_value':
      return `${name}只能是：${issue.values.map(String).join('、')}`;
    case 'invalid_format':
      return `${name}格式不正确`;
    case 'unrecognized_keys':
      return `不支持的参数：${issue.keys.map((k) => `「${k}」`).join('、')}${issue.path.length ? `（位于${name}）` : ''}`;
    case 'invalid_union':
      return `${name}的取值不符合要求`;
    case 'invalid_key':
      return `${name}中有不支持的键`;
    case 'not_multiple_of':
      return `${name}应为 ${String(issue.divisor)} 的倍数`;
    default:
      return `${name}不符合要求`;
  }
}

export function formatIssuesZh(issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.slice(0, 3).map(describe);
  const more = issues.length > 3 ? `等 ${issues.length} 处问题` : '';
  return `请求参数不正确：${parts.join('；')}${more}。`;
}

export function invalidInput(issues: readonly z.core.$ZodIssue[]): AppError {
  return new AppError('invalid_input', 400, formatIssuesZh(issues), {
    issues: issues.map((i) => ({ path: i.path.map(String).join('.'), code: i.code })),
  });
}

/** A 400 for text that cannot be accepted at all (NUL, control characters, lone surrogates). */
export function invalidText(where: string | null): AppError {
  return new AppError('invalid_text', 400, invalidTextMessage(where), { path: where });
}

/** Throws a 400 AppError when any string in `data` is unusable text. */
export function checkText(data: unknown): void {
  const where = findInvalidText(data);
  if (where) throw invalidText(where);
}

/** Parses `data`, or throws a 400 AppError with a Chinese message. */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  checkText(data);
  const r = schema.safeParse(data);
  if (!r.success) throw invalidInput(r.error.issues);
  return r.data;
}
