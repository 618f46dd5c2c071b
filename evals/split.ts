/**
 * The strict train/test split check: a test utterance must be neither a copy nor a near-copy
 * of a training utterance. Copy = equal after normalisation (traditional -> simplified,
 * lowercase, punctuation and whitespace removed). Near-copy = character-bigram Jaccard
 * >= 0.8, for test texts of 6+ characters (after normalisation).
 */
import * as OpenCC from 'opencc-js';

export const NEAR_COPY_JACCARD = 0.8;
export const NEAR_COPY_MIN_CHARS = 6;

let converter: ((s: string) => string) | undefined;

function toSimplified(text: string): string {
  const convert = converter ?? OpenCC.Converter({ from: 'tw', to: 'cn' });
  converter = convert;
  return convert(text);
}

export function normalizeForSplit(text: string): string {
  return toSimplified(text.normalize('NFKC')).toLowerCase().replace(/[\p{P}\p{S}\p{Z}\s]+/gu, '');
}

export function bigrams(normalized: string): Set<string> {
  const chars = Array.from(normalized);
  const out = new Set<string>();
  for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i]! + chars[i + 1]!);
  return out;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

export interface SplitOffender {
  id: string;
  text: string;
  training: string;
  kind: 'copy' | 'near-copy';
  jaccard: number;
}

/** Test items that copy or nearly copy a training utterance (first match per item). */
export function findSplitLeaks(
  testItems: readonly { id: string; text: string }[],
  trainingTexts: readonly string[],
): SplitOffender[] {
  const train = trainingTexts.map((t) => {
    const norm = normalizeForSplit(t);
    return { text: t, norm, grams: bigrams(norm) };
  });
  const exact = new Map<string, string>();
  for (const t of train) if (!exact.has(t.norm)) exact.set(t.norm, t.text);
  const out: SplitOffender[] = [];
  for (const item of testItems) {
    const norm = normalizeForSplit(item.text);
    const copy = exact.get(norm);
    if (copy !== undefined) {
      out.push({ id: item.id, text: item.text, training: copy, kind: 'copy', jaccard: 1 });
      continue;
    }
    if (Array.from(norm).length < NEAR_COPY_MIN_CHARS) continue;
    const grams = bigrams(norm);
    let best: { text: string; j: number } | null = null;
    for (const t of train) {
      const j = jaccard(grams, t.grams);
      if (j >= NEAR_COPY_JACCARD && (!best || j > best.j)) best = { text: t.text, j };
    }
    if (best) out.push({ id: item.id, text: item.text, training: best.text, kind: 'near-copy', jaccard: Math.round(best.j * 1000) / 1000 });
  }
  return out;
}
