import { createHash } from 'node:crypto';
import { FAQ_SECTION, type Guide, type SectionName } from './guides.js';

/**
 * Chunking: one chunk per section; the FAQ gives one chunk per Q/A pair; a long section is
 * split at paragraph boundaries (then line, then sentence boundaries) and every piece keeps
 * the section title.
 */

export interface Chunk {
  /** Stable id: `<service>#<section>#<n>`. */
  id: string;
  serviceId: string;
  serviceName: string;
  aliases: string[];
  section: SectionName;
  /** The section title, or the question for an FAQ pair. */
  title: string;
  /** Chunk text as shown to citizens (FAQ: `问：…\n答：…`). */
  text: string;
  /** Position in the guide (section order, then piece). */
  ord: number;
  /** Absolute path of the source guide.md. */
  file: string;
  /** sha256 over everything that is embedded or indexed for this chunk. */
  hash: string;
}

export const MAX_CHUNK_CHARS = 420;

/** What the embedder sees: the service's names, the section/title, then the text. */
export function embeddingText(c: Pick<Chunk, 'serviceName' | 'aliases' | 'section' | 'title' | 'text'>): string {
  const names = c.aliases.length ? `${c.serviceName}（${c.aliases.join('、')}）` : c.serviceName;
  const head = c.title && c.title !== c.section ? `${c.section}：${c.title}` : c.section;
  return `${names}\n${head}\n${c.text}`;
}

export function chunkHash(c: Pick<Chunk, 'serviceId' | 'serviceName' | 'aliases' | 'section' | 'title' | 'text'>): string {
  return createHash('sha256')
    .update(JSON.stringify([c.serviceId, c.serviceName, c.aliases, c.section, c.title, c.text]))
    .digest('hex');
}

/**
 * Splits text into pieces of at most `max` characters: at paragraph boundaries first, then
 * at line boundaries (a long bullet list), then after sentence ends; a run with no
 * boundary at all is cut hard.
 */
export function splitText(text: string, max = MAX_CHUNK_CHARS): string[] {
  if (text.length <= max) return [text];
  // Each unit carries the separator that stood before it in the source.
  const units: { text: string; sep: string }[] = [];
  const paragraphs = text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  for (const p of paragraphs) {
    let sep = '\n\n';
    const lines = p.length <= max ? [p] : p.split('\n').map((l) => l.trim()).filter(Boolean);
    for (const line of lines) {
      const sentences = line.length <= max ? [line] : line.split(/(?<=[。；！？!?;])/).filter((x) => x.trim());
      for (const sentence of sentences) {
        for (let i = 0; i < sentence.length; i += max) {
          units.push({ text: sentence.slice(i, i + max), sep });
          sep = '';
        }
      }
      sep = '\n';
    }
  }
  const out: string[] = [];
  let cur = '';
  for (const u of units) {
    if (cur && cur.length + u.sep.length + u.text.length > max) {
      out.push(cur);
      cur = u.text;
    } else {
      cur = cur ? cur + u.sep + u.text : u.text;
    }
  }
  if (cur) out.push(cur);
  return out;
}

export function chunkGuide(g: Guide, max = MAX_CHUNK_CHARS): Chunk[] {
  const out: Chunk[] = [];
  let ord = 0;
  const base = { serviceId: g.id, serviceName: g.name, aliases: g.aliases, file: g.file };
  for (const s of g.sections) {
    if (s.name === FAQ_SECTION) {
      g.faq.forEach((qa, i) => {
        const text = `问：${qa.question}\n答：${qa.answer}`;
        const c = { ...base, id: `${g.id}#${s.name}#${i}`, section: s.name, title: qa.question, text, ord: ord++ };
        out.push({ ...c, hash: chunkHash(c) });
      });
      continue;
    }
    splitText(s.content, max).forEach((text, i) => {
      const c = { ...base, id: `${g.id}#${s.name}#${i}`, section: s.name, title: s.name, text, ord: ord++ };
      out.push({ ...c, hash: chunkHash(c) });
    });
  }
  return out;
}
