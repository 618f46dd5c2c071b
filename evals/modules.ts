/**
 * Loading of the modules the harness drives but does not own (knowledge search, the app,
 * the LLM engine). They are imported dynamically and checked at run time, so the harness
 * fails with a clear message, not a stack trace, when one is missing or has another shape.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type pg from 'pg';
import type { Config } from '../core/config.js';
import type { NluEngine } from '../agent/nlu/types.js';

/** A module (or an export of it) the harness needs is not there (yet). */
export class MissingModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingModuleError';
  }
}

/** Repository-relative path of a module, e.g. 'knowledge/search.ts'. */
export function repoFile(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/**
 * Imports `relative` (a `.ts` path from the repository root) and returns the named exports,
 * checking each is a function.
 */
export async function importFunctions<K extends string>(
  relative: string | readonly string[],
  names: readonly K[],
  purpose: string,
): Promise<Record<K, (...args: never[]) => unknown>> {
  const candidates = typeof relative === 'string' ? [relative] : relative;
  const problems: string[] = [];
  for (const rel of candidates) {
    const file = repoFile(rel);
    if (!existsSync(file)) {
      problems.push(`${rel} does not exist yet`);
      continue;
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      problems.push(`${rel} could not be loaded (${(err as Error).message})`);
      continue;
    }
    const missing = names.filter((name) => typeof mod[name] !== 'function');
    if (missing.length) {
      problems.push(`${rel} does not export ${missing.map((m) => `${m}()`).join(', ')}`);
      continue;
    }
    return Object.fromEntries(names.map((name) => [name, mod[name]])) as Record<K, (...args: never[]) => unknown>;
  }
  throw new MissingModuleError(`${purpose} needs ${names.map((n) => `${n}()`).join(', ')}: ${problems.join('; ')}`);
}

// ------------------------------------------------------------------ knowledge

export interface KnowledgeBaseLike {
  ensureIngested(): Promise<unknown>;
}

export interface RetrievalEvalItem {
  id: string;
  question: string;
  service: string;
}

export interface RetrievalEvalResult {
  n: number;
  recall_at_5: number;
  mrr: number;
  items?: unknown[];
}

export interface KnowledgeModules {
  createKnowledgeBase(pool: pg.Pool): Promise<KnowledgeBaseLike>;
  evaluateRetrieval(kb: KnowledgeBaseLike, items: RetrievalEvalItem[]): Promise<RetrievalEvalResult>;
}

export async function loadKnowledgeModules(): Promise<KnowledgeModules> {
  const search = await importFunctions(['knowledge/search.ts', 'knowledge/kb.ts'], ['createKnowledgeBase'], 'retrieval eval');
  const evaluation = await importFunctions('knowledge/retrieval-eval.ts', ['evaluateRetrieval'], 'retrieval eval');
  const create = search.createKnowledgeBase as unknown as (pool: pg.Pool) => KnowledgeBaseLike | Promise<KnowledgeBaseLike>;
  const evaluate = evaluation.evaluateRetrieval as unknown as (
    kb: KnowledgeBaseLike,
    items: RetrievalEvalItem[],
  ) => RetrievalEvalResult | Promise<RetrievalEvalResult>;
  return {
    async createKnowledgeBase(pool) {
      const kb = await create(pool);
      if (!kb || typeof kb.ensureIngested !== 'function') {
        throw new MissingModuleError('createKnowledgeBase(pool) returned no object with ensureIngested()');
      }
      return kb;
    },
    async evaluateRetrieval(kb, items) {
      const r = await evaluate(kb, items);
      if (!r || typeof r.n !== 'number' || typeof r.recall_at_5 !== 'number' || typeof r.mrr !== 'number') {
        throw new MissingModuleError('evaluateRetrieval(kb, items) did not return {n, recall_at_5, mrr}');
      }
      return r;
    },
  };
}

// ------------------------------------------------------------------ app

export interface InjectOptions {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  payload?: unknown;
}

export interface InjectResponse {
  statusCode: number;
  body: string;
}

/** What the scenario runner needs of a fastify instance. */
export interface InjectableApp {
  inject(opts: InjectOptions): Promise<InjectResponse>;
}

export interface RunningApp {
  app: InjectableApp;
  close(): Promise<void>;
}

/** createAppContext(config) + buildServer(ctx), in process, with an in-memory database. */
export async function startInProcessApp(config: Config): Promise<RunningApp> {
  const context = await importFunctions('core/context.ts', ['createAppContext'], 'scenario eval');
  const server = await importFunctions('channels/server.ts', ['buildServer'], 'scenario eval');
  const createAppContext = context.createAppContext as unknown as (c: Config) => Promise<{ close?: () => Promise<void> }>;
  const buildServer = server.buildServer as unknown as (ctx: unknown) => Promise<InjectableApp & {
    ready?: () => Promise<unknown>;
    close?: () => Promise<unknown>;
  }>;
  const ctx = await createAppContext(config);
  let app: Awaited<ReturnType<typeof buildServer>>;
  try {
    app = await buildServer(ctx);
    if (!app || typeof app.inject !== 'function') throw new MissingModuleError('buildServer(ctx) returned no fastify instance');
    await app.ready?.();
  } catch (err) {
    await ctx.close?.().catch(() => undefined);
    throw err;
  }
  return {
    app,
    async close() {
      await app.close?.().catch(() => undefined);
      await ctx.close?.().catch(() => undefined);
    },
  };
}

// ------------------------------------------------------------------ llm engine

/** `agent/nlu/llm-engine.ts` `createLlmEngine(config)`, built by another issue. */
export async function loadLlmEngine(config: Config): Promise<NluEngine> {
  const mod = await importFunctions('agent/nlu/llm-engine.ts', ['createLlmEngine'], '--nlu-engine llm');
  const engine = (await (mod.createLlmEngine as unknown as (c: Config) => NluEngine | Promise<NluEngine>)(config)) as NluEngine;
  if (!engine || typeof engine.understand !== 'function') {
    throw new MissingModuleError('createLlmEngine(config) returned no engine with understand()');
  }
  return engine;
}
