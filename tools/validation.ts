import { z } from 'zod';
import { AppError } from '../core/errors.js';

/**
 * zod at the boundaries, with Chinese messages: zod's zh-CN locale is applied per parse
 * (never globally, so other modules keep their own messages).
 */
const zhCN = z.locales.zhCN().localeError;

export function formatIssuesZh(issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.slice(0, 3).map((i) => {
    const path = i.path.length ? `「${i.path.map(String).join('.')}」` : '';
    if (i.code === 'invalid_type' && /undefined/.test(i.message)) return `${path || '请求内容'}为必填项`;
    const message = i.message.replace(/\bstring\b/g, '文本');
    return `${path}${path ? '：' : ''}${message}`;
  });
  const more = issues.length > 3 ? ` 等${issues.length}处` : '';
  return `请求参数不正确：${parts.join('；')}${more}。`;
}

export function invalidInput(issues: readonly z.core.$ZodIssue[]): AppError {
  return new AppError('invalid_input', 400, formatIssuesZh(issues), {
    issues: issues.map((i) => ({ path: i.path.map(String).join('.'), code: i.code })),
  });
}

/** Parses `data`, or throws a 400 AppError with a Chinese message. */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const r = schema.safeParse(data, { error: zhCN });
  if (!r.success) throw invalidInput(r.error.issues);
  return r.data;
}

export function safeParseZh<S extends z.ZodType>(schema: S, data: unknown) {
  return schema.safeParse(data, { error: zhCN });
}
