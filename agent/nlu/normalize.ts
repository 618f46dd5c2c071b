/**
 * Text normalisation for Chinese (and mixed Chinese-English) citizen input:
 *  1. Unicode NFKC (full-width letters/digits/punctuation -> half-width),
 *  2. traditional -> simplified Chinese (opencc-js),
 *  3. punctuation / whitespace cleanup (clause punctuation becomes ',', spaces kept only between
 *     Latin words),
 *  4. ASR homophone / typo correction and leading-filler removal from lexicon/homophones.yaml,
 *  5. case folding (a cased variant is kept for case-sensitive lexicon entries such as "US").
 */
import { join } from 'node:path';
import * as OpenCC from 'opencc-js';
import { z } from 'zod';
import { readDataFile, resolvePaths, text, textList, type DataPaths } from './training-data.js';

const homophonesSchema = z.object({
  /** wrong -> right, applied longest-first. */
  corrections: z.record(z.string(), text).default({}),
  /** Fillers dropped at the start of an utterance when followed by more text. */
  fillers: textList,
});
export type HomophoneData = z.output<typeof homophonesSchema>;

export function loadHomophones(paths: DataPaths = {}): HomophoneData {
  return readDataFile(join(resolvePaths(paths).nluDataDir, 'homophones.yaml'), homophonesSchema);
}

let t2s: ((s: string) => string) | undefined;
function toSimplified(s: string): string {
  const convert = (t2s ??= OpenCC.Converter({ from: 'tw', to: 'cn' }));
  return convert(s);
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const isCjk = (ch: string | undefined): boolean => ch !== undefined && CJK.test(ch);
const isWordChar = (ch: string | undefined): boolean => ch !== undefined && /[a-z0-9]/i.test(ch);

/** Structural cleanup shared by every stage: width, script, punctuation, whitespace. */
export function basicClean(input: string): string {
  let s = toSimplified(input.normalize('NFKC'));
  // Dots inside abbreviations (U.S., U.K.) vanish; other dots end a clause (but keep 1.5).
  s = s.replace(/([a-z])\.(?=[a-z]|\s|$|[^\x00-\x7f])/gi, '$1').replace(/(?<!\d)\.(?!\d)/g, ',');
  // A question mark is kept (it is a strong cue); other clause punctuation -> ','.
  s = s.replace(/[？?]+/g, '?');
  s = s.replace(/[。！!；;，,、：:…~～\n\r\t|/\\]+/g, ',');
  s = s.replace(/,*\?[,?]*/g, '?');
  // Apostrophes inside words vanish (don't -> dont).
  s = s.replace(/([a-z])['’]([a-z])/gi, '$1$2');
  // Quotes and brackets -> space (they carry no meaning for understanding).
  s = s.replace(/[「」『』“”‘’"'《》〈〉<>()[\]{}【】〔〕*#@^_=+`]/g, ' ');
  s = s.replace(/\s+/g, ' ');
  // Keep a space only between two Latin/digit characters.
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === ' ') {
      const prev = out[out.length - 1];
      const next = s[i + 1];
      if (isWordChar(prev) && isWordChar(next)) out += ' ';
      continue;
    }
    if (ch === ',' && (out.endsWith(',') || out.endsWith('?'))) continue;
    out += ch;
  }
  return out.replace(/^[,?]+|,+$/g, '');
}

export interface Normalizer {
  /** Normalised, case-folded text (what every engine feature is computed from). */
  normalize(input: string): string;
  /** The same text before case folding (for case-sensitive lexicon entries). */
  normalizeCased(input: string): string;
}

export function createNormalizer(data: HomophoneData = loadHomophones()): Normalizer {
  const entries = Object.entries(data.corrections)
    .map(([wrong, right]) => [basicClean(wrong).toLowerCase(), basicClean(right)] as const)
    .filter(([wrong]) => wrong.length > 0)
    .sort((a, b) => b[0].length - a[0].length);
  const map = new Map(entries.map(([w, r]) => [w, r]));
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = entries.length ? new RegExp(entries.map(([w]) => escape(w)).join('|'), 'gi') : null;
  const fillers = data.fillers.map((f) => basicClean(f).toLowerCase()).sort((a, b) => b.length - a.length);

  const normalizeCased = (input: string): string => {
    let s = basicClean(input);
    if (re) s = s.replace(re, (m) => map.get(m.toLowerCase()) ?? m);
    // Drop leading fillers ("嗯，", "那个，") while something else follows.
    for (let changed = true; changed; ) {
      changed = false;
      for (const f of fillers) {
        if (s.length > f.length && s.toLowerCase().startsWith(f)) {
          const rest = s.slice(f.length);
          const nextCh = rest[0];
          // Followed by a separator; a CJK filler of 2+ chars may run straight into the text,
          // a Latin one may not run into a letter.
          const ok =
            nextCh === ',' || nextCh === ' ' || (isCjk(f[0]) ? f.length >= 2 : !isWordChar(nextCh));
          if (ok) {
            s = rest.replace(/^[, ]+/, '');
            changed = true;
            break;
          }
        }
      }
    }
    return s;
  };
  return {
    normalizeCased,
    normalize: (input) => normalizeCased(input).toLowerCase(),
  };
}

let defaultNormalizer: Normalizer | undefined;
/** Normalise with the default data files (loaded once). */
export function normalize(input: string): string {
  defaultNormalizer ??= createNormalizer();
  return defaultNormalizer.normalize(input);
}
