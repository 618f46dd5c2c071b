import * as OpenCC from 'opencc-js';

/**
 * Chinese text handling shared by the embedder, the keyword index and the query side.
 * Everything is normalised the same way on both sides: NFKC (full-width -> half-width),
 * traditional -> simplified (OpenCC, Taiwan phrases included), lower case.
 */

// `twp` -> `cn` covers plain t2s plus Taiwan variants and phrases (軟體 -> 软件, 資訊 -> 信息).
const t2s = OpenCC.Converter({ from: 'twp', to: 'cn' });

const HAN = /\p{Script=Han}/u;
/**
 * Runs of Han characters, or of other letters/digits. Everything else separates. A digit run
 * never swallows the Han characters after it ("65岁的津贴" is 65 + 岁的津贴, not one word).
 */
const RUNS = /\p{Script=Han}+|(?:(?!\p{Script=Han})[\p{L}\p{N}])+/gu;

/** NFKC + traditional->simplified, case kept (for display and for composing answers). */
export function toSimplified(text: string): string {
  return t2s(text.normalize('NFKC'));
}

/** Full normalisation for matching: NFKC, t2s, lower case. */
export function normalizeText(text: string): string {
  return toSimplified(text).toLowerCase();
}

export function isHan(ch: string): boolean {
  return HAN.test(ch);
}

export interface Run {
  text: string;
  han: boolean;
}

/** Splits already-normalised text into Han runs and latin/digit words. */
export function runs(normalized: string): Run[] {
  const out: Run[] = [];
  for (const m of normalized.matchAll(RUNS)) {
    const t = m[0];
    out.push({ text: t, han: HAN.test(t[0]!) });
  }
  return out;
}

/**
 * Keyword tokens for the full-text index: Han bigrams (a lone Han character stays a
 * unigram) and whole latin/digit words. Only letters and digits ever appear in a token, so
 * tokens can be quoted into tsvector/tsquery literals safely.
 */
export function keywordTokens(normalized: string): string[] {
  const out: string[] = [];
  for (const r of runs(normalized)) {
    if (!r.han) {
      out.push(r.text);
      continue;
    }
    const chars = Array.from(r.text);
    if (chars.length === 1) {
      out.push(chars[0]!);
      continue;
    }
    for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  }
  return out;
}

const wordSegmenter = new Intl.Segmenter('zh-CN', { granularity: 'word' });

export interface QueryToken {
  token: string;
  /**
   * True when the token lies inside one word of ICU's dictionary segmentation (北京, 机票),
   * false when it straddles a word boundary (保每 in 低保每个月): an unknown straddling
   * bigram is segmentation noise, an unknown in-word bigram is a real word the guides lack.
   */
  inWord: boolean;
  /** Offset of the token in the normalised question (UTF-16 units). */
  start: number;
}

/** Keyword tokens of a question, each marked with whether it lies inside one dictionary word. */
export function queryTokens(normalized: string): QueryToken[] {
  const wordOf: number[] = [];
  let w = 0;
  for (const seg of wordSegmenter.segment(normalized)) {
    for (let i = 0; i < seg.segment.length; i++) wordOf.push(w);
    w++;
  }
  const out: QueryToken[] = [];
  for (const m of normalized.matchAll(RUNS)) {
    const start = m.index;
    const t = m[0];
    if (!HAN.test(t[0]!)) {
      out.push({ token: t, inWord: true, start });
      continue;
    }
    // Han runs are BMP-only in practice; index by UTF-16 units to stay aligned with wordOf.
    if (t.length === 1) {
      out.push({ token: t, inWord: true, start });
      continue;
    }
    for (let i = 0; i + 1 < t.length; i++) {
      out.push({ token: t[i]! + t[i + 1]!, inWord: wordOf[start + i] === wordOf[start + i + 1], start: start + i });
    }
  }
  return out;
}

/** 32-bit FNV-1a over the UTF-16 code units of a string. */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32) so the low bits are well mixed
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * English function words: no topic of their own, and frequent in the English aliases of the
 * guides ("hukou registration for a newborn"), so a question's "for a" would match those.
 */
export const ENGLISH_STOPWORDS: ReadonlySet<string> = new Set(
  ('a an the and or of to for in on at by with from about as is are was be been do does did can could ' +
    'will would should shall may might must i me my we our you your he she it its they them their this that ' +
    'these those what which who whom how when where why there here if so not no yes please get got need want ' +
    'have has had am').split(' '),
);
