/**
 * The one input check of text at every boundary (HTTP params, bodies and headers, WebSocket
 * frames, MCP arguments, chat text): text a person can type is let through; NUL, other
 * control characters (tab, line feed and carriage return excepted), lone UTF-16 surrogates
 * and the noncharacters U+FFFE / U+FFFF are refused before anything reaches Postgres (which
 * rejects NUL in text) or a log line.
 */
// Without the `u` flag a regex sees UTF-16 code units, which is what finds a lone surrogate.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/;

export function isCleanText(s: string): boolean {
  return !CONTROL.test(s) && !LONE_SURROGATE.test(s);
}

/** Where the first unusable text is in a value (a JSON path), or null when everything is clean. */
export function findInvalidText(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return isCleanText(value) ? null : path || '(值)';
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findInvalidText(value[i], `${path}[${i}]`, depth + 1);
      if (hit) return hit;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!isCleanText(k)) return path ? `${path}.(键)` : '(键)';
    const hit = findInvalidText(v, path ? `${path}.${k}` : k, depth + 1);
    if (hit) return hit;
  }
  return null;
}

/** The Chinese message for refused text. */
export function invalidTextMessage(where: string | null): string {
  return `请求中${where && where !== '(值)' ? `「${where}」` : ''}含有无法识别的字符（如空字符或控制字符），请删除后重试。`;
}
