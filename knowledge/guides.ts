import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { catalogue as projectCatalogue, type Service } from './catalogue.js';

/**
 * Service guides as data (knowledge/guides/FORMAT.md): `<dir>/<service_id>/guide.md` with
 * YAML front matter and the nine `##` sections, plus an optional `phrasings.yaml` whose
 * `aliases` extend the catalogue's names for retrieval.
 */

export const GUIDES_DIR = fileURLToPath(new URL('./guides', import.meta.url));

/** The nine required sections, in the order the format gives them. */
export const SECTIONS = [
  '服务简介',
  '申请条件',
  '申请材料',
  '办理流程',
  '办理渠道',
  '办理时限',
  '收费标准',
  '设定依据',
  '常见问题',
] as const;
export type SectionName = (typeof SECTIONS)[number];
export const FAQ_SECTION: SectionName = '常见问题';

export interface FaqPair {
  question: string;
  answer: string;
}

export interface GuideSection {
  name: SectionName;
  /** The section body (markdown), trimmed. */
  content: string;
}

export interface Guide {
  id: string;
  name: string;
  department: string;
  updated: string;
  references: string[];
  /** Catalogue aliases + front-matter aliases + phrasings.yaml aliases, de-duplicated. */
  aliases: string[];
  transactable: boolean;
  sections: GuideSection[];
  faq: FaqPair[];
  /** Absolute path of guide.md. */
  file: string;
  /** sha256 over guide.md, the phrasings aliases and the catalogue entry: changes when anything ingested changes. */
  hash: string;
}

export type IssueSeverity = 'error' | 'warning';
export interface GuideIssue {
  file: string;
  severity: IssueSeverity;
  problem: string;
}

/** A guide that cannot be used: thrown by `parseGuide`, collected by `loadGuides`. */
export class GuideError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'GuideError';
  }
}

const FrontMatterSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case'),
  name: z.string().trim().min(1),
  department: z.string().trim().min(1),
  updated: z.union([z.string(), z.number(), z.date()]).transform((v) =>
    v instanceof Date ? v.toISOString().slice(0, 7) : String(v),
  ),
  references: z.array(z.string().trim().min(1)).min(1, 'must list at least one source'),
  aliases: z.array(z.string().trim().min(1)).optional(),
});

const PhrasingsSchema = z
  .object({ aliases: z.array(z.union([z.string(), z.number()]).transform(String)).optional() })
  .passthrough();

export interface ParseOptions {
  /** Catalogue to check ids and names against; defaults to knowledge/services.json. */
  catalogue?: readonly Service[];
  /** Folder name the guide sits in (its id must equal it). */
  folder?: string;
  /** Text of phrasings.yaml beside the guide, if any. */
  phrasings?: string;
  /** Collects non-fatal problems (name differs from the catalogue, too few FAQ pairs...). */
  warn?: (problem: string) => void;
}

function zodProblem(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Parses one guide.md. Throws GuideError naming the file and the problem. */
export function parseGuide(source: string, file: string, opts: ParseOptions = {}): Guide {
  const fail = (problem: string): never => {
    throw new GuideError(file, problem);
  };
  const warn = opts.warn ?? (() => undefined);
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const fm = /^---\n([\s\S]*?)\n---[ \t]*(?:\n|$)/.exec(text);
  if (!fm) fail('missing YAML front matter (the file must start with a `---` block)');
  let meta: unknown;
  try {
    meta = parseYaml(fm![1]!);
  } catch (err) {
    fail(`front matter is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsedMeta = FrontMatterSchema.safeParse(meta ?? {});
  if (!parsedMeta.success) fail(`front matter: ${zodProblem(parsedMeta.error)}`);
  const front = parsedMeta.data!;
  if (opts.folder && opts.folder !== front.id) fail(`id '${front.id}' does not equal its folder name '${opts.folder}'`);

  const catalogue = opts.catalogue ?? projectCatalogue().services;
  const service = catalogue.find((s) => s.id === front.id);
  if (!service) warn(`id '${front.id}' is not in the service catalogue`);
  else if (service.name !== front.name) warn(`name '${front.name}' differs from the catalogue name '${service.name}'`);

  // Body: split on level-2 headings.
  const body = text.slice(fm![0].length);
  const sections = new Map<SectionName, string>();
  const parts = body.split(/^##[ \t]+/m);
  const preamble = parts.shift() ?? '';
  if (preamble.trim()) warn('text before the first `##` section is ignored');
  for (const part of parts) {
    const nl = part.indexOf('\n');
    const title = (nl < 0 ? part : part.slice(0, nl)).trim();
    const content = (nl < 0 ? '' : part.slice(nl + 1)).trim();
    if (!(SECTIONS as readonly string[]).includes(title)) {
      fail(`unknown section '## ${title}' (expected one of ${SECTIONS.join('、')})`);
    }
    const name = title as SectionName;
    if (sections.has(name)) fail(`section '## ${name}' appears twice`);
    sections.set(name, content);
  }
  const missing = SECTIONS.filter((s) => !sections.has(s));
  if (missing.length) fail(`missing section${missing.length > 1 ? 's' : ''}: ${missing.map((s) => `## ${s}`).join(', ')}`);
  const empty = SECTIONS.filter((s) => !stripComments(sections.get(s)!).trim());
  if (empty.length) fail(`empty section${empty.length > 1 ? 's' : ''}: ${empty.map((s) => `## ${s}`).join(', ')}`);

  const faq = parseFaq(sections.get(FAQ_SECTION)!, (p) => fail(`## ${FAQ_SECTION}: ${p}`));
  if (faq.length < 3) warn(`## ${FAQ_SECTION} has ${faq.length} Q/A pair(s); the format asks for at least three`);

  let phrasingAliases: string[] = [];
  if (opts.phrasings !== undefined) {
    try {
      const p = PhrasingsSchema.safeParse(parseYaml(opts.phrasings) ?? {});
      if (p.success) phrasingAliases = p.data.aliases ?? [];
      else warn(`phrasings.yaml: ${zodProblem(p.error)}`);
    } catch (err) {
      warn(`phrasings.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const aliases = dedupe([...(service?.aliases ?? []), ...(front.aliases ?? []), ...phrasingAliases]).filter(
    (a) => a !== front.name,
  );

  const hash = createHash('sha256')
    .update(text)
    .update('\0')
    .update(JSON.stringify(phrasingAliases))
    .update('\0')
    .update(JSON.stringify(service ?? null))
    .digest('hex');

  return {
    id: front.id,
    name: front.name,
    department: front.department,
    updated: front.updated,
    references: front.references,
    aliases,
    transactable: service?.transactable ?? false,
    sections: SECTIONS.map((name) => ({ name, content: stripComments(sections.get(name)!).trim() })),
    faq,
    file,
    hash,
  };
}

function stripComments(s: string): string {
  return s.replace(/<!--[\s\S]*?-->/g, '');
}

function dedupe(xs: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const x of xs.map((s) => s.trim()).filter(Boolean)) {
    if (seen.has(x)) continue;
    seen.add(x);
    out.push(x);
  }
  return out;
}

/** `### 问：...` headings, each followed by `答：...` text. */
export function parseFaq(content: string, fail: (problem: string) => never): FaqPair[] {
  const parts = stripComments(content).split(/^###[ \t]+/m);
  const pre = parts.shift() ?? '';
  if (pre.trim() && parts.length === 0) fail('no `### 问：...` headings found');
  const out: FaqPair[] = [];
  for (const part of parts) {
    const nl = part.indexOf('\n');
    const question = (nl < 0 ? part : part.slice(0, nl)).trim().replace(/^问[：:]\s*/, '');
    const answer = (nl < 0 ? '' : part.slice(nl + 1)).trim().replace(/^答[：:]\s*/, '');
    if (!question) fail('a `###` heading has no question');
    if (!answer) fail(`question '${question}' has no answer`);
    out.push({ question, answer });
  }
  return out;
}

export interface LoadedGuides {
  dir: string;
  guides: Guide[];
  /** Errors (guide skipped) and warnings (guide used), each naming the file. */
  issues: GuideIssue[];
  /** Folder names whose guide could not be used. */
  failed: string[];
}

/** Lists `<dir>/<id>/guide.md` files (folders without a guide.md are reported as errors). */
export function listGuideFolders(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`guides folder not found: ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && !d.name.startsWith('_'))
    .map((d) => d.name)
    .sort();
}

/**
 * Loads every guide under `dir`. Never throws for a bad guide: it is left out and reported
 * in `issues` (severity `error`), so one half-written file cannot stop the others.
 */
export function loadGuides(dir: string = GUIDES_DIR, catalogue: readonly Service[] = projectCatalogue().services): LoadedGuides {
  const root = resolve(dir);
  const guides: Guide[] = [];
  const issues: GuideIssue[] = [];
  const failed: string[] = [];
  for (const folder of listGuideFolders(root)) {
    const file = join(root, folder, 'guide.md');
    if (!existsSync(file)) {
      issues.push({ file, severity: 'error', problem: 'guide.md is missing' });
      failed.push(folder);
      continue;
    }
    const phrasingsFile = join(root, folder, 'phrasings.yaml');
    const warns: string[] = [];
    try {
      const guide = parseGuide(readFileSync(file, 'utf8'), file, {
        catalogue,
        folder,
        phrasings: existsSync(phrasingsFile) ? readFileSync(phrasingsFile, 'utf8') : undefined,
        warn: (p) => warns.push(p),
      });
      guides.push(guide);
    } catch (err) {
      issues.push({ file, severity: 'error', problem: err instanceof GuideError ? err.problem : (err as Error).message });
      failed.push(folder);
    }
    for (const problem of warns) issues.push({ file, severity: 'warning', problem });
  }
  return { dir: root, guides, issues, failed };
}

/**
 * One service's guide, for reading (the service API's `get_service_guide`): the parsed guide,
 * or null when it is missing or cannot be used.
 */
export function readGuide(serviceId: string, dir: string = GUIDES_DIR, catalogue: readonly Service[] = projectCatalogue().services): Guide | null {
  const file = join(resolve(dir), serviceId, 'guide.md');
  if (!existsSync(file)) return null;
  const phrasingsFile = join(resolve(dir), serviceId, 'phrasings.yaml');
  try {
    return parseGuide(readFileSync(file, 'utf8'), file, {
      catalogue,
      folder: serviceId,
      phrasings: existsSync(phrasingsFile) ? readFileSync(phrasingsFile, 'utf8') : undefined,
    });
  } catch (err) {
    if (err instanceof GuideError) return null;
    throw err;
  }
}
