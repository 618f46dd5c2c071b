import { isLatin, MASK } from './features.js';

/**
 * Phrase lexicons over normalised text: longest match first, non-overlapping, Latin entries
 * only at word boundaries (a plural "s" is allowed). Service names, act cues and every list of
 * lexicon/*.yaml are matched with it.
 */
export interface LexEntry<V> {
  text: string;
  value: V;
  latin: boolean;
}

export interface Hit<V> {
  start: number;
  end: number;
  value: V;
  text: string;
}

/** A phrase lexicon indexed by first character. */
export class Lexicon<V> {
  private readonly byFirst = new Map<string, LexEntry<V>[]>();
  constructor(readonly entries: LexEntry<V>[]) {
    for (const e of entries) {
      const k = e.text[0]!;
      const list = this.byFirst.get(k) ?? [];
      list.push(e);
      this.byFirst.set(k, list);
    }
  }

  /** Longest match first, non-overlapping; Latin entries only at word boundaries (a plural 's' is allowed). */
  match(s: string): Hit<V>[] {
    const found: Hit<V>[] = [];
    for (let i = 0; i < s.length; i++) {
      const list = this.byFirst.get(s[i]!);
      if (!list) continue;
      for (const e of list) {
        if (!s.startsWith(e.text, i)) continue;
        let end = i + e.text.length;
        if (e.latin) {
          if (isLatin(e.text[0]) && isLatin(s[i - 1])) continue;
          if (isLatin(e.text[e.text.length - 1]) && isLatin(s[end])) {
            if (s[end] === 's' && !isLatin(s[end + 1])) end += 1;
            else continue;
          }
        }
        found.push({ start: i, end, value: e.value, text: e.text });
      }
    }
    found.sort((a, b) => b.text.length - a.text.length || a.start - b.start);
    const hits: Hit<V>[] = [];
    for (const h of found) if (!hits.some((k) => h.start < k.end && k.start < h.end)) hits.push(h);
    return hits.sort((a, b) => a.start - b.start);
  }
}

export function cutSpans(s: string, hits: Hit<unknown>[]): string {
  let out = '';
  let pos = 0;
  for (const h of hits) {
    out += s.slice(pos, h.start);
    pos = h.end;
  }
  return (out + s.slice(pos)).replace(/^[,? ]+|[, ]+$/g, '');
}

export function mask(s: string, hits: Hit<unknown>[]): string {
  let out = '';
  let pos = 0;
  for (const h of hits) {
    out += s.slice(pos, h.start) + MASK.repeat(h.end - h.start);
    pos = h.end;
  }
  return out + s.slice(pos);
}
