/**
 * Features of the local engine: tokens (a CJK character alone, a Latin word stemmed), their
 * 1–3-grams per clause, and masking of recognised spans (a service name becomes "§").
 */
export type Features = Map<string, number>;

/** Placeholder written over a span recognised as a service name. */
export const MASK = '§';

export const isLatin = (ch: string | undefined): boolean => ch !== undefined && /[a-z0-9]/.test(ch);

export function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** Tokens: every CJK (or other non-Latin) character alone, every Latin word stemmed. */
export function tokenize(s: string): string[][] {
  const clauses: string[][] = [];
  for (const clause of s.split(',')) {
    const toks: string[] = [];
    let word = '';
    for (const ch of clause) {
      if (isLatin(ch)) {
        word += ch;
        continue;
      }
      if (word) {
        toks.push(stem(word));
        word = '';
      }
      if (ch !== ' ') toks.push(ch);
    }
    if (word) toks.push(stem(word));
    if (toks.length) clauses.push(toks);
  }
  return clauses;
}

export function addNgrams(s: string, prefix: string, feats: Features): void {
  const all: string[] = ['<'];
  tokenize(s).forEach((c, i) => {
    if (i > 0) all.push('|');
    for (const t of c) all.push(t);
  });
  all.push('>');
  const n = all.length;
  for (let i = 0; i < n; i++) {
    const a = all[i]!;
    if (a !== '<' && a !== '>' && a !== '|') feats.set(prefix + a, 1);
    if (i + 1 < n) {
      const ab = `${a} ${all[i + 1]!}`;
      feats.set(prefix + ab, 1);
      if (i + 2 < n) feats.set(`${prefix}${ab} ${all[i + 2]!}`, 1);
    }
  }
}
