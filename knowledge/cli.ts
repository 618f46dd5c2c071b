import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { openDatabase, type Database } from '../core/db.js';
import { answerQuestion } from './answer.js';
import { configuredEmbedder } from './embeddings.js';
import { GUIDES_DIR, loadGuides } from './guides.js';
import { createKnowledgeBase, KNOWLEDGE_MIGRATIONS, type KnowledgeBase } from './kb.js';
import { formatSummary, progressReporter } from './progress.js';
import { evaluateRetrieval, readRetrievalItems } from './retrieval-eval.js';
import { evaluateAnswerSections, formatSectionEval } from './section-eval.js';

const USAGE = `usage: npm run kb -- <command> [options]

  ingest [DIR] [--refit]            ingest guides (default knowledge/guides); idempotent
  search "QUESTION" [--service ID] [--k N]
                                    ranked chunks with scores
  answer "QUESTION" [--service ID]  the answer the agent would give, with citations
  eval [FILE.jsonl]                 recall@5 / MRR (default knowledge/dev-questions.jsonl)
  sections [FILE.jsonl] [--quiet]   first-citation section accuracy of answers, asked as the
                                    agent asks (service given, and none), with the failures
  check [DIR]                       validate guides only (no database)
  stats                             services and chunk counts

  --memory      use a throw-away in-memory database (ingests the bundled guides first)
  DATABASE_URL / DATA_DIR select the database as for the app; OPENAI_API_KEY +
  OPENAI_EMBEDDING_MODEL select OpenAI-compatible embeddings instead of the offline model.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      k: { type: 'string' },
      refit: { type: 'boolean' },
      memory: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, arg] = positionals;
  if (!cmd || values.help) {
    console.log(USAGE);
    return cmd ? 0 : 1;
  }

  if (cmd === 'check') {
    const loaded = loadGuides(resolve(arg ?? GUIDES_DIR));
    for (const i of loaded.issues) console.log(`${i.severity}: ${i.file}: ${i.problem}`);
    console.log(`${loaded.guides.length} guides usable, ${loaded.failed.length} with errors`);
    return loaded.failed.length ? 1 : 0;
  }

  const config = loadConfig();
  let db: Database | undefined;
  try {
    db = await openDatabase({ ...(values.memory ? { dataDir: 'memory://' } : { url: config.DATABASE_URL, dataDir: config.DATA_DIR }), migrations: KNOWLEDGE_MIGRATIONS });
    const kb = createKnowledgeBase(db.pool, await configuredEmbedder(config));
    const ready = async (k: KnowledgeBase) => {
      const p = progressReporter();
      const s = await k.ensureIngested(p.onProgress);
      p.stop();
      if (s) process.stderr.write(`knowledge base refreshed: ${s.embedded} embedded, ${s.deleted} deleted, ${s.ms} ms\n`);
    };

    switch (cmd) {
      case 'ingest': {
        const p = progressReporter();
        const s = await kb.ingest(arg ? resolve(arg) : undefined, p.onProgress, { refit: values.refit });
        p.stop();
        console.log(formatSummary(s));
        return s.skipped ? 1 : 0;
      }
      case 'search': {
        if (!arg) throw new Error('search needs a question');
        await ready(kb);
        const hits = await kb.search(arg, { serviceId: values.service, k: values.k ? Number(values.k) : 5 });
        if (!hits.length) console.log('(no results)');
        hits.forEach((h, i) => {
          console.log(
            `${i + 1}. ${h.score.toFixed(4)}  vec#${h.vectorRank ?? '-'} kw#${h.keywordRank ?? '-'}  sim ${h.similarity.toFixed(3)} cov ${h.coverage.toFixed(2)}  ${h.serviceName} · ${h.section}${h.title !== h.section ? ` · ${h.title}` : ''}  [${h.chunkId}]`,
          );
          console.log(`   ${h.text.replace(/\s*\n\s*/g, ' ').slice(0, 120)}${h.text.length > 120 ? '…' : ''}`);
        });
        return 0;
      }
      case 'answer': {
        if (!arg) throw new Error('answer needs a question');
        await ready(kb);
        const a = await answerQuestion(kb, arg, { serviceId: values.service });
        if (!a.found) console.log(`(not found; similarity ${a.confidence.similarity}, coverage ${a.confidence.coverage})`);
        else {
          console.log(a.answer);
          console.log(`\n来源：${a.citations.map((c) => `${c.serviceName} · ${c.section}${c.title !== c.section ? ` · ${c.title}` : ''}`).join('；')}`);
          console.log(`service ${a.serviceId}  transactable ${a.transactable}  ${JSON.stringify(a.confidence)}`);
        }
        return 0;
      }
      case 'eval': {
        await ready(kb);
        const file = resolve(arg ?? fileURLToPath(new URL('./dev-questions.jsonl', import.meta.url)));
        const r = await evaluateRetrieval(kb, readRetrievalItems(file));
        for (const it of r.items.filter((x) => x.rank !== 1)) console.log(`rank ${it.rank ?? '-'}  ${it.id}  top: ${it.top.join(', ')}`);
        console.log(`${file}: n ${r.n}  recall@5 ${r.recall_at_5.toFixed(3)}  MRR ${r.mrr.toFixed(3)}`);
        return 0;
      }
      case 'sections': {
        await ready(kb);
        const file = resolve(arg ?? fileURLToPath(new URL('./dev-questions.jsonl', import.meta.url)));
        const items = readRetrievalItems(file);
        for (const mode of ['given', 'cold'] as const) {
          console.log(formatSectionEval(await evaluateAnswerSections(kb, items, { cues: kb.cues, mode }), { failures: !values.quiet }));
        }
        return 0;
      }
      case 'stats': {
        await ready(kb);
        const services = await kb.services();
        for (const s of services) console.log(`${s.serviceId.padEnd(32)} ${String(s.chunks).padStart(3)} chunks  ${s.sections.length} sections  ${s.serviceName}`);
        console.log(`${services.length} services, model ${(await kb.embedder())?.id ?? '(none)'}`);
        return 0;
      }
      default:
        console.error(`unknown command '${cmd}'\n\n${USAGE}`);
        return 1;
    }
  } finally {
    await db?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`kb: ${(err as Error).message}`);
    process.exitCode = 1;
  },
);
