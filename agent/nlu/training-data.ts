/**
 * The ONE training set of the NLU layer, and the loaders of the data files it is built from:
 *  - knowledge/services.json           (catalogue: names, aliases, 'ask' fields; knowledge/catalogue.ts)
 *  - knowledge/guides/<id>/phrasings.yaml (per-service aliases and apply/consult/progress lines)
 *  - agent/nlu/lexicon/acts.yaml           (greeting/handoff/cancel/out_of_scope and generic cue phrasings)
 *
 * `loadTrainingData()` returns a plain list so that any engine (the local engine, the NLP.js
 * baseline) can be trained on exactly the same examples.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { loadCatalogue as loadServiceCatalogue, type Service, type ServiceField } from '../../knowledge/catalogue.js';
import { ACTS, type Act } from './types.js';

export interface TrainingExample {
  text: string;
  act: Act;
  service: string | null;
}

/** Repository root (the folder holding `knowledge/` and `agent/`). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Folder of the NLU data files. */
export const NLU_DATA_DIR = fileURLToPath(new URL('./lexicon/', import.meta.url));

export interface DataPaths {
  /** knowledge/services.json */
  catalogue?: string;
  /** knowledge/guides */
  guidesDir?: string;
  /** agent/nlu/lexicon */
  nluDataDir?: string;
}

export function resolvePaths(paths: DataPaths = {}): Required<DataPaths> {
  return {
    catalogue: paths.catalogue ?? join(REPO_ROOT, 'knowledge', 'services.json'),
    guidesDir: paths.guidesDir ?? join(REPO_ROOT, 'knowledge', 'guides'),
    nluDataDir: paths.nluDataDir ?? NLU_DATA_DIR,
  };
}

/** A YAML scalar that must be read as text (YAML would turn `12345` into a number). */
export const text = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((v) => String(v).trim())
  .pipe(z.string().min(1));
export const textList = z.array(text).default([]);

/** Read and validate a YAML (or JSON) file; errors name the file. */
export function readDataFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let raw: unknown;
  try {
    const source = readFileSync(file, 'utf8');
    raw = file.endsWith('.json') ? JSON.parse(source) : parseYaml(source);
  } catch (err) {
    throw new Error(`NLU data file ${file} could not be read: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new Error(`NLU data file ${file} is invalid:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

// ---------------------------------------------------------------- catalogue

/** A catalogue service as the NLU reads it (knowledge/catalogue.ts), with its fields always a list. */
export type CatalogueService = Service & { fields: ServiceField[] };
export type CatalogueField = ServiceField;

export function loadCatalogue(paths: DataPaths = {}): CatalogueService[] {
  return loadServiceCatalogue(resolvePaths(paths).catalogue).services.map((s) => ({ ...s, fields: s.fields ?? [] }));
}

/** The 'ask' fields of a service (the only ones the NLU extracts). */
export function askFields(service: CatalogueService): CatalogueField[] {
  return service.fields.filter((f) => f.source === 'ask');
}

// ---------------------------------------------------------------- phrasings.yaml

const phrasingsSchema = z.object({
  aliases: textList,
  apply: textList,
  consult: textList,
  progress: textList,
});
export type Phrasings = z.output<typeof phrasingsSchema>;

export function phrasingsFile(serviceId: string, paths: DataPaths = {}): string {
  return join(resolvePaths(paths).guidesDir, serviceId, 'phrasings.yaml');
}

/** A service's phrasings; empty lists when the file does not exist yet. */
export function loadPhrasings(serviceId: string, paths: DataPaths = {}): Phrasings {
  const file = phrasingsFile(serviceId, paths);
  if (!existsSync(file)) return { aliases: [], apply: [], consult: [], progress: [] };
  return readDataFile(file, phrasingsSchema);
}

// ---------------------------------------------------------------- acts.yaml

/** An act exemplar: a line (no service meant) or { text, service } when it names one. */
const exemplar = z.union([
  text.transform((t) => ({ text: t, service: null as string | null })),
  z.object({ text, service: z.string().nullable().default(null) }),
]);
const exemplarList = z.array(exemplar).default([]);

const actsSchema = z.object({
  exemplars: z.object({
    greeting: exemplarList,
    handoff: exemplarList,
    cancel: exemplarList,
    out_of_scope: exemplarList,
    apply: exemplarList,
    consult: exemplarList,
    progress: exemplarList,
  }),
  /**
   * Act phrasings around a service's everyday name, written `{name}`: the first alias of the
   * service's phrasings.yaml (else its first catalogue alias). Each template is expanded for
   * `per_template` services, rotating through the catalogue, so that the wording is learnt
   * rather than any one service.
   */
  templates: z
    .object({
      per_template: z.number().int().min(1).default(6),
      apply: textList,
      consult: textList,
      progress: textList,
    })
    .default({ per_template: 6, apply: [], consult: [], progress: [] }),
  /** Act cue words, used as features by the local engine (not training examples). */
  cues: z.partialRecord(z.enum(ACTS), textList).default({}),
});
export type ActsData = z.output<typeof actsSchema>;

export function loadActsData(paths: DataPaths = {}): ActsData {
  return readDataFile(join(resolvePaths(paths).nluDataDir, 'acts.yaml'), actsSchema);
}

// ---------------------------------------------------------------- training set

/** Everything the training set is built from, loaded once. */
export interface NluSources {
  catalogue: CatalogueService[];
  phrasings: Map<string, Phrasings>;
  acts: ActsData;
}

export function loadNluSources(paths: DataPaths = {}): NluSources {
  const catalogue = loadCatalogue(paths);
  const phrasings = new Map(catalogue.map((svc) => [svc.id, loadPhrasings(svc.id, paths)] as const));
  return { catalogue, phrasings, acts: loadActsData(paths) };
}

/**
 * The training set: catalogue names and aliases, every phrasings.yaml and acts.yaml.
 * A bare service name or alias is labelled `apply` (a citizen who only names a service wants it).
 */
export function loadTrainingData(paths: DataPaths = {}): TrainingExample[] {
  return buildTrainingData(loadNluSources(paths));
}

export function buildTrainingData({ catalogue, phrasings, acts }: NluSources): TrainingExample[] {
  const out: TrainingExample[] = [];
  const seen = new Set<string>();
  const add = (textValue: string, act: Act, service: string | null): void => {
    const key = `${textValue}\u0000${act}\u0000${service ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ text: textValue, act, service });
  };

  const ids = new Set(catalogue.map((s) => s.id));
  for (const svc of catalogue) {
    const ph = phrasings.get(svc.id) ?? { aliases: [], apply: [], consult: [], progress: [] };
    for (const name of [svc.name, ...svc.aliases, ...ph.aliases]) add(name, 'apply', svc.id);
    for (const line of ph.apply) add(line, 'apply', svc.id);
    for (const line of ph.consult) add(line, 'consult', svc.id);
    for (const line of ph.progress) add(line, 'progress', svc.id);
  }

  const everydayName = (svc: CatalogueService): string =>
    phrasings.get(svc.id)?.aliases[0] ?? svc.aliases[0] ?? svc.name;
  let slot = 0;
  for (const act of ['apply', 'consult', 'progress'] as const) {
    for (const template of acts.templates[act]) {
      if (!template.includes('{name}')) {
        throw new Error(`NLU data file acts.yaml is invalid: template "${template}" has no {name}`);
      }
      for (let k = 0; k < Math.min(acts.templates.per_template, catalogue.length); k++) {
        const svc = catalogue[slot++ % catalogue.length]!;
        add(template.split('{name}').join(everydayName(svc)), act, svc.id);
      }
    }
  }

  for (const act of ACTS) {
    for (const ex of acts.exemplars[act]) {
      if (ex.service !== null && !ids.has(ex.service)) {
        throw new Error(`NLU data file acts.yaml is invalid: exemplar "${ex.text}" names unknown service ${ex.service}`);
      }
      add(ex.text, act, ex.service);
    }
  }
  return out;
}
