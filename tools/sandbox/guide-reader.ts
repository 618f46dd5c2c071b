import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { Service } from '../../core/catalogue.js';
import type { ServiceGuide } from '../contract.js';

/**
 * Reads a service guide (`knowledge/guides/<id>/guide.md`, see knowledge/guides/FORMAT.md)
 * into its `##` sections. Tolerant on purpose: a guide being written may lack sections or
 * front matter; a missing guide yields `available: false` with a Chinese message.
 */
export const DEFAULT_GUIDES_DIR = fileURLToPath(new URL('../../knowledge/guides', import.meta.url));

export function readServiceGuide(service: Service, guidesDir = DEFAULT_GUIDES_DIR): ServiceGuide {
  const base = {
    serviceId: service.id,
    name: service.name,
    department: service.department,
    transactable: service.transactable,
    aliases: service.aliases,
  };
  const file = join(guidesDir, service.id, 'guide.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const { meta, body } = splitFrontMatter(text);
  const sections = splitSections(body);
  if (!sections.length) {
    return {
      ...base, available: false, updated: null, references: [], sections: [],
      message: `「${service.name}」的办事指南正在整理中，暂时无法提供详细内容。您可以拨打 12345 市民服务热线咨询，或转人工客服。`,
    };
  }
  const references = Array.isArray(meta.references) ? meta.references.filter((r): r is string => typeof r === 'string') : [];
  return {
    ...base,
    available: true,
    updated: meta.updated === undefined || meta.updated === null ? null : String(meta.updated),
    references,
    sections,
  };
}

function splitFrontMatter(text: string): { meta: Record<string, unknown>; body: string } {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text);
  if (!m) return { meta: {}, body: text };
  let meta: Record<string, unknown> = {};
  try {
    const parsed = parseYaml(m[1]!) as unknown;
    if (parsed && typeof parsed === 'object') meta = parsed as Record<string, unknown>;
  } catch {
    // A malformed header does not hide the guide's content.
  }
  return { meta, body: text.slice(m[0].length) };
}

export function splitSections(body: string): { title: string; content: string }[] {
  const out: { title: string; content: string }[] = [];
  let current: { title: string; lines: string[] } | undefined;
  for (const line of body.split(/\r?\n/)) {
    const h = /^##\s+(.+?)\s*$/.exec(line);
    if (h) {
      if (current) out.push({ title: current.title, content: current.lines.join('\n').trim() });
      current = { title: h[1]!, lines: [] };
    } else if (current) {
      current.lines.push(line);
    }
  }
  if (current) out.push({ title: current.title, content: current.lines.join('\n').trim() });
  return out.filter((s) => s.content.length > 0);
}
