import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { ErrorCode, type GetPromptResult, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { parse } from 'yaml';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import type { Catalogue } from '../../knowledge/catalogue.js';
import { parseInput } from '../validation.js';

/**
 * What an outside agent (an LLM using the MCP tools) reads before it acts for a citizen: the
 * transaction flow as an MCP resource, and the `transact` prompt that hands it over with the
 * citizen's service or words. The text is data: the guide in `guide.md` (Chinese; tool names
 * and keys as they are), the server's instructions and the prompt's wording in `guide.yaml`.
 * Both are checked at load: each template with exactly its declared placeholders, the guide
 * with each of its generated sections once.
 */
export const GUIDE_MD_PATH = fileURLToPath(new URL('./guide.md', import.meta.url));
export const GUIDE_YAML_PATH = fileURLToPath(new URL('./guide.yaml', import.meta.url));

/** Sections of guide.md generated from the catalogue, so the guide follows the data. */
const GUIDE_SECTIONS = ['bundles', 'statuses', 'withdrawable'] as const;

/** Every template of guide.yaml with its placeholders. */
const SLOTS = {
  'bundles.row': ['id', 'name', 'members'],
  'prompt.service': ['id', 'name', 'department'],
  'prompt.untransactable': ['id', 'name', 'department'],
  'prompt.bundle': ['id', 'name', 'members'],
  'prompt.request': ['request'],
  'prompt.unknownService': ['id'],
} as const;

const Text = z.string().trim().min(2);
const GuideSpec = z.strictObject({
  instructions: Text,
  resource: z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9-]*$/),
    uri: z.string().regex(/^xiaoshen:\/\/[a-z0-9/-]+$/),
    title: Text,
    description: Text,
  }),
  bundles: z.strictObject({ heading: Text, header: Text, row: Text, none: Text }),
  prompt: z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_-]*$/),
    title: Text,
    description: Text,
    arguments: z.strictObject({ serviceId: Text, request: Text }),
    task: Text,
    service: Text,
    untransactable: Text,
    bundle: Text,
    request: Text,
    start: Text,
    searchFirst: Text,
    unknownService: Text,
  }),
});
export type GuideSpec = z.infer<typeof GuideSpec>;

export interface GuideData {
  spec: GuideSpec;
  /** guide.md as written, with its {{section}} markers. */
  markdown: string;
}

const placeholders = (s: string) => new Set([...s.matchAll(/\{([a-zA-Z]+)\}/g)].map((m) => m[1]!));

function at(spec: GuideSpec, path: string): string {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], spec) as string;
}

/** Reads and checks guide.yaml and guide.md; throws naming the file and the problem. */
export function loadGuideData(yamlPath = GUIDE_YAML_PATH, mdPath = GUIDE_MD_PATH): GuideData {
  const parsed = GuideSpec.safeParse(parse(readFileSync(yamlPath, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${yamlPath}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const spec = parsed.data;
  for (const [path, slots] of Object.entries(SLOTS)) {
    const found = placeholders(at(spec, path));
    const want = new Set<string>(slots);
    const wrong = [...found].filter((s) => !want.has(s));
    const missing = [...want].filter((s) => !found.has(s));
    if (wrong.length || missing.length) {
      throw new Error(`${yamlPath}: ${path}: placeholders ${[...found].join(', ') || '(none)'}, expected ${slots.join(', ')}`);
    }
  }
  const markdown = readFileSync(mdPath, 'utf8');
  for (const section of GUIDE_SECTIONS) {
    const n = markdown.split(`{{${section}}}`).length - 1;
    if (n !== 1) throw new Error(`${mdPath}: {{${section}}} must appear exactly once (found ${n})`);
  }
  const unknown = [...markdown.matchAll(/\{\{([^}]*)\}\}/g)].map((m) => m[1]!).filter((s) => !(GUIDE_SECTIONS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`${mdPath}: unknown section ${unknown.map((s) => `{{${s}}}`).join(', ')}`);
  return { spec, markdown };
}

let projectGuide: GuideData | undefined;
/** The project's guide, loaded once. */
export function guideData(): GuideData {
  projectGuide ??= loadGuideData();
  return projectGuide;
}

const fill = (template: string, values: Record<string, string>) => template.replace(/\{([a-zA-Z]+)\}/g, (_, k: string) => values[k] ?? '');

function bundleMembers(catalogue: Catalogue, bundleId: string): string {
  const b = catalogue.bundle(bundleId)!;
  return b.members.map((m) => {
    const s = catalogue.get(m.service);
    return s ? `${s.name}（${s.department}）` : m.service;
  }).join('、');
}

/** The guide for one catalogue, its generated sections filled in. */
export function renderGuide(catalogue: Catalogue, data: GuideData = guideData()): string {
  const t = data.spec.bundles;
  const bundles = catalogue.bundles.length
    ? [t.heading, '', t.header, '| --- | --- | --- |',
      ...catalogue.bundles.map((b) => fill(t.row, { id: b.id, name: b.name, members: bundleMembers(catalogue, b.id) }))].join('\n')
    : t.none;
  const statuses = Object.entries(catalogue.defaults.statuses)
    .filter(([status]) => status !== 'draft')
    .map(([status, label]) => `\`${status}\` ${label}`).join('；');
  const withdrawable = catalogue.defaults.withdrawable.map((s) => `\`${s}\` “${catalogue.statusLabel(s)}”`).join('、');
  const sections: Record<string, string> = { bundles, statuses, withdrawable };
  return data.markdown.replace(/\{\{([a-z]+)\}\}/g, (_, k: string) => sections[k]!);
}

/** The prompt's arguments as checked here, so a caller gets our Chinese message (the SDK's are English). */
const PromptArgs = z.strictObject({
  serviceId: z.string().trim().max(64).optional(),
  request: z.string().trim().max(500).optional(),
});

/**
 * A JSON-RPC "invalid params" error carrying our message as it is (an McpError would carry
 * its own "MCP error -32602:" prefix, and the client adds one again).
 */
const invalidParams = (message: string) => Object.assign(new Error(message), { code: ErrorCode.InvalidParams });

/** The `transact` prompt's messages: the guide as an embedded resource, then the task. */
export function transactPrompt(catalogue: Catalogue, args: Record<string, unknown>, data: GuideData = guideData()): GetPromptResult {
  let a: z.output<typeof PromptArgs>;
  try {
    a = parseInput(PromptArgs, args);
  } catch (err) {
    throw err instanceof AppError ? invalidParams(err.message) : err;
  }
  const p = data.spec.prompt;
  const lines = [p.task];
  const id = a.serviceId || undefined;
  if (id) {
    const bundle = catalogue.bundles.find((b) => b.id === id);
    const service = catalogue.get(id);
    if (bundle) lines.push(fill(p.bundle, { id: bundle.id, name: bundle.name, members: bundleMembers(catalogue, bundle.id) }));
    else if (service) {
      lines.push(fill(service.transactable ? p.service : p.untransactable, { id: service.id, name: service.name, department: service.department }));
    } else throw invalidParams(fill(p.unknownService, { id }));
  }
  if (a.request) lines.push(fill(p.request, { request: a.request }));
  if (!id) lines.push(a.request ? p.searchFirst : p.start);
  const r = data.spec.resource;
  return {
    description: p.description,
    messages: [
      { role: 'user', content: { type: 'resource', resource: { uri: r.uri, mimeType: 'text/markdown', text: renderGuide(catalogue, data) } } },
      { role: 'user', content: { type: 'text', text: lines.join('\n\n') } },
    ],
  };
}

/** Service and bundle ids starting with (or else containing) what was typed, for prompt completion. */
export function completeServiceId(catalogue: Catalogue, typed: string | undefined): string[] {
  const q = (typed ?? '').trim().toLowerCase();
  const ids = [...catalogue.bundles.map((b) => b.id), ...catalogue.services.filter((s) => !catalogue.bundle(s.id)).map((s) => s.id)];
  const starts = ids.filter((id) => id.startsWith(q));
  const contains = ids.filter((id) => !id.startsWith(q) && id.includes(q));
  return [...starts, ...contains].slice(0, 20);
}

/**
 * An optional, completable prompt argument. SDK 1.32 looks for the completer on the inner
 * schema of an optional when it decides to offer completions, and on the argument itself
 * when it answers a completion request: so both carry it.
 */
function optionalCompletable(description: string, complete: (typed: string | undefined) => string[]) {
  return completable(completable(z.string(), complete).optional().describe(description), complete);
}

/** Registers the guide resource and the `transact` prompt on a server (HTTP and stdio alike). */
export function registerGuide(server: McpServer, catalogue: Catalogue, data: GuideData = guideData()): void {
  const r = data.spec.resource;
  server.registerResource(r.name, r.uri, { title: r.title, description: r.description, mimeType: 'text/markdown' },
    (uri): ReadResourceResult => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: renderGuide(catalogue, data) }] }));
  const p = data.spec.prompt;
  server.registerPrompt(p.name, {
    title: p.title,
    description: p.description,
    // Lenient here (prompt arguments are strings); transactPrompt checks them with Chinese messages.
    argsSchema: {
      serviceId: optionalCompletable(p.arguments.serviceId, (typed) => completeServiceId(catalogue, typed)),
      request: z.string().optional().describe(p.arguments.request),
    },
  }, (args) => transactPrompt(catalogue, args, data));
}
