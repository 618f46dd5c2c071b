/**
 * The data check, as Rasa's `data validate`: every data file the product runs on, read
 * together, and every reference between them resolved. `npm run check:data` prints the
 * problems; test/data-check.test.ts runs it on the project's data and on fixtures that break
 * each rule.
 *
 *  - the catalogue holds every id and field of shared/spec/services.json (a superset);
 *  - every field, fact, option, service, bundle and situation a condition, rule, message,
 *    offer or bundle names exists; no eligibility rule, offer or citizen-facing template names
 *    a protected fact (a record on file is never a stated reason);
 *  - patterns compile; every application status has a label;
 *  - every transactable service has a guide with its nine sections;
 *  - every response template is declared with its slots (agent/responses.ts does at load);
 *  - the lexicons cannot swallow a field: "<label>改成<option>" is read as a change of that
 *    field to that option, never as an assent, a refusal or a cancellation.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { namesIn, type Condition } from '../knowledge/conditions.js';
import { CATALOGUE_PATH, loadCatalogue, type Catalogue, type Service } from '../knowledge/catalogue.js';
import { factsIn, parseFormula } from '../knowledge/formula.js';
import { GUIDES_DIR, loadGuides } from '../knowledge/guides.js';
import { createLocalEngine } from '../agent/nlu/engine.js';
import type { DataPaths } from '../agent/nlu/training-data.js';
import { loadResponses } from '../agent/responses.js';

/**
 * The spec's catalogue: shared/spec/services.json beside the project when it is there, else the
 * copy kept in knowledge/spec/ (a clean clone elsewhere, CI); a test keeps the two identical.
 */
export const SHARED_SPEC_PATH = fileURLToPath(new URL('../../shared/spec/services.json', import.meta.url));
export const VENDORED_SPEC_PATH = fileURLToPath(new URL('../knowledge/spec/services.json', import.meta.url));
export const SPEC_PATH = existsSync(SHARED_SPEC_PATH) ? SHARED_SPEC_PATH : VENDORED_SPEC_PATH;
const STATUSES = ['draft', 'submitted', 'issued', 'under_review', 'rejected', 'returned', 'withdrawn'];
const FACT_PLACEHOLDER = /\{([a-z_][a-z0-9_]*)(?::(?:md|ymd))?\}/g;

export interface DataCheckOptions {
  catalogue?: string;
  spec?: string | null;
  guidesDir?: string;
  /** NLU data folders, for the lexicon check (default: the project's). */
  nlu?: DataPaths;
  /** Skip the (slower) lexicon check that trains the engine. */
  lexicons?: boolean;
}

export function checkData(opts: DataCheckOptions = {}): string[] {
  const problems: string[] = [];
  let cat: Catalogue;
  try {
    cat = loadCatalogue(opts.catalogue ?? CATALOGUE_PATH);
  } catch (err) {
    return [(err as Error).message];
  }
  const p = (where: string, problem: string) => problems.push(`${where}: ${problem}`);
  if (opts.spec !== null) checkSpec(cat, opts.spec ?? SPEC_PATH, p);
  checkReferences(cat, p);
  checkGuides(cat, opts.guidesDir ?? GUIDES_DIR, p);
  try {
    loadResponses();
  } catch (err) {
    p('agent/policy/responses.yaml', (err as Error).message);
  }
  if (opts.lexicons !== false) checkLexicons(cat, { ...opts.nlu, catalogue: opts.catalogue ?? CATALOGUE_PATH, ...(opts.guidesDir ? { guidesDir: opts.guidesDir } : {}) }, p);
  return problems;
}

const SpecSchema = z.object({
  services: z.array(z.object({
    id: z.string(),
    fields: z.array(z.object({ key: z.string(), source: z.string(), options: z.array(z.string()).optional() }).loose()).optional(),
  }).loose()),
});

function checkSpec(cat: Catalogue, file: string, p: (w: string, m: string) => void): void {
  if (!existsSync(file)) return p(file, 'the spec catalogue is not there');
  const spec = SpecSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  for (const s of spec.services) {
    const ours = cat.get(s.id);
    if (!ours) {
      p(`services.${s.id}`, 'in shared/spec/services.json but missing from the catalogue');
      continue;
    }
    for (const f of s.fields ?? []) {
      const mine = ours.fields?.find((x) => x.key === f.key);
      if (!mine) p(`services.${s.id}.fields.${f.key}`, 'in the spec but missing from the catalogue');
      else {
        if (mine.source !== f.source) p(`services.${s.id}.fields.${f.key}`, `source is "${mine.source}", the spec says "${f.source}"`);
        if (f.options && JSON.stringify(mine.options) !== JSON.stringify(f.options)) p(`services.${s.id}.fields.${f.key}`, 'options differ from the spec');
      }
    }
  }
}

function checkReferences(cat: Catalogue, p: (w: string, m: string) => void): void {
  const facts = cat.facts;
  const factOk = (where: string, name: string, allowProtected: boolean) => {
    if (!facts[name]) p(where, `names the fact "${name}", which the catalogue's facts do not list`);
    else if (facts[name]!.protected && !allowProtected) p(where, `names the protected fact "${name}" (it may only route to staff review, never be a stated reason)`);
  };
  const condition = (where: string, c: Condition, s: Service | undefined, allowProtected: boolean) => {
    let names;
    try {
      names = namesIn(c);
    } catch (err) {
      return p(where, (err as Error).message);
    }
    for (const f of names.facts) factOk(where, f, allowProtected);
    for (const f of names.fields) if (!s?.fields?.some((x) => x.key === f)) p(where, `names the field "${f}", which ${s ? `${s.id} does not have` : 'has no service'}`);
  };
  const template = (where: string, text: string) => {
    for (const m of text.matchAll(FACT_PLACEHOLDER)) factOk(where, m[1]!, false);
  };
  for (const st of STATUSES) if (!cat.defaults.statuses[st]) p('defaults.statuses', `no label for "${st}"`);
  for (const s of cat.services) {
    const w = `services.${s.id}`;
    for (const f of s.fields ?? []) {
      const fw = `${w}.fields.${f.key}`;
      if (f.when !== undefined) condition(`${fw}.when`, f.when, s, false);
      if (f.from && !f.from.startsWith('licence:')) factOk(`${fw}.from`, f.from, false);
      if (f.source === 'profile' && !f.from && !facts[f.key]) p(fw, `a profile field with no "from" and no fact "${f.key}"`);
      if (f.note_for && !s.fields?.some((x) => x.key === f.note_for)) p(fw, `note_for "${f.note_for}" is not a field of ${s.id}`);
      if (f.validate?.pattern) {
        try {
          new RegExp(f.validate.pattern, 'u');
        } catch (err) {
          p(`${fw}.validate.pattern`, (err as Error).message);
        }
      }
      if (f.editable && f.source !== 'profile') p(fw, 'only a pre-filled (profile) field can be editable');
    }
    (s.eligibility ?? []).forEach((r, i) => {
      condition(`${w}.eligibility[${i}].require`, r.require, s, false);
      template(`${w}.eligibility[${i}].reason`, r.reason);
      if (r.alternative && !cat.has(r.alternative)) p(`${w}.eligibility[${i}].alternative`, `unknown service "${r.alternative}"`);
    });
    (s.outcome?.review ?? []).forEach((r, i) => condition(`${w}.outcome.review[${i}].when`, r.when, s, true));
    for (const [status, m] of Object.entries(s.outcome?.messages ?? {})) {
      if (Array.isArray(m)) m.forEach((v, i) => v.when !== undefined && condition(`${w}.outcome.messages.${status}[${i}].when`, v.when, s, false));
    }
    for (const k of s.repeat?.fields ?? []) if (!s.fields?.some((f) => f.key === k)) p(`${w}.repeat.fields`, `"${k}" is not a field of ${s.id}`);
    if (s.outcome?.result === 'issued' && !s.outcome.licence) p(`${w}.outcome`, 'issued at once but no licence template');
    if (s.transactable && !s.fields?.length) p(w, 'transactable with no fields');
  }
  cat.situations.forEach((s, i) => {
    for (const id of s.services) if (!cat.has(id)) p(`situations[${i}] (${s.id})`, `unknown service "${id}"`);
    if (s.bundle && !cat.bundle(s.bundle)) p(`situations[${i}] (${s.id})`, `unknown bundle "${s.bundle}"`);
  });
  cat.bundles.forEach((b, i) => {
    const w = `bundles[${i}] (${b.id})`;
    if (!cat.has(b.service)) p(w, `unknown service "${b.service}"`);
    for (const m of b.members) {
      const s = cat.get(m.service);
      if (!s) p(w, `unknown member service "${m.service}"`);
      else if (!s.transactable) p(w, `member "${m.service}" is not transactable`);
      if (m.when !== undefined) condition(`${w}.members.${m.service}.when`, m.when, s, false);
    }
    for (const k of b.shared) if (!b.members.some((m) => cat.get(m.service)?.fields?.some((f) => f.key === k))) p(w, `shared field "${k}" is in no member`);
    b.requires.forEach((r, j) => {
      condition(`${w}.requires[${j}]`, r.require, undefined, false);
      template(`${w}.requires[${j}].reason`, r.reason);
    });
  });
  cat.offers.forEach((o, i) => {
    const w = `offers[${i}] (${o.id})`;
    const s = cat.get(o.service);
    if (!s) p(w, `unknown service "${o.service}"`);
    condition(`${w}.when`, o.when, undefined, false);
    for (const t of o.why) template(`${w}.why`, t);
    if (o.amount) {
      try {
        for (const name of factsIn(parseFormula(o.amount.formula))) factOk(`${w}.amount.formula`, name, false);
      } catch (err) {
        p(`${w}.amount.formula`, `not a formula: ${(err as Error).message}`);
      }
    }
    for (const k of o.confirm) if (!s?.fields?.some((f) => f.key === k)) p(w, `confirm field "${k}" is not a field of ${o.service}`);
  });
}

function checkGuides(cat: Catalogue, dir: string, p: (w: string, m: string) => void): void {
  const loaded = loadGuides(dir, cat.services);
  for (const i of loaded.issues) if (i.severity === 'error') p(i.file, i.problem);
  const have = new Set(loaded.guides.map((g) => g.id));
  for (const s of cat.services) if (!have.has(s.id) && existsSync(join(dir))) p(`services.${s.id}`, `no usable guide in ${dir}/${s.id}/guide.md`);
}

function checkLexicons(cat: Catalogue, paths: DataPaths, p: (w: string, m: string) => void): void {
  let engine;
  try {
    engine = createLocalEngine({ paths, ensemble: 1, serviceEnsemble: 1, epochs: 2 });
  } catch (err) {
    return p('agent/nlu/lexicon', (err as Error).message);
  }
  for (const s of cat.services) {
    for (const f of s.fields ?? []) {
      // A suggestion touched on the card is sent as its text: the NLU must read it as that value.
      for (const option of f.suggestions ?? []) {
        const r = engine.understandSync(option, { service: s.id });
        if (!r.acts.some((a) => a.type === 'inform' && a.field === f.key && a.value === option)) {
          p(`services.${s.id}.fields.${f.key}`, `suggestion "${option}" is not read as ${f.key} = "${option}" (agent/nlu/lexicon/slots.yaml)`);
        }
      }
      if (f.source !== 'ask' || !f.options?.length || f.optional) continue;
      for (const option of f.options) {
        const hint = `${f.label}改成${option}`;
        const r = engine.understandSync(hint, { service: s.id });
        const changes = r.acts.some((a) => (a.type === 'edit' || a.type === 'inform') && a.field === f.key && a.value === option);
        const swallowed = r.acts.filter((a) => a.type === 'confirm' || a.type === 'deny' || a.type === 'cancel' || a.type === 'delay').map((a) => a.type);
        if (!changes || swallowed.length) {
          p(`services.${s.id}.fields.${f.key}`, `"${hint}" is not read as a change of ${f.key} to "${option}"${swallowed.length ? ` (read as ${swallowed.join(', ')})` : ''}: a lexicon swallows the label or option`);
        }
      }
    }
  }
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  const problems = checkData();
  for (const x of problems) process.stderr.write(`${x}\n`);
  process.stdout.write(problems.length ? `data check: ${problems.length} problem(s)\n` : 'data check: all data files consistent\n');
  process.exit(problems.length ? 1 : 0);
}
