/**
 * `npm run bench`: measures the product as deployed — the server (app/main.ts) in its own
 * process on the embedded database, driven from this process over loopback HTTP/WebSocket —
 * and writes bench/out/summary.json:
 *
 *   turn_ms                 one full turn (HTTP, graph, database, MCP tools), one session at a time
 *   concurrent              200 WebSocket sessions through the certificate flow, 2 s human pause
 *   saturated_turns_per_s   closed loop, no pause, enough clients to keep the server busy
 *   kb_search_ms            knowledge search (bench/kb.ts runKbBench, or kb.search directly)
 *   start                   spawn -> first answered turn: a new install, a new DATA_DIR, an existing
 *                           one (cold_start_ms); resident memory at rest after that start
 *   rss_mb_per_1k_sessions  server RSS growth per 1,000 open sessions
 *   floor                   the same turns through a bare graph with the same checkpointer (no
 *                           HTTP, NLU or tools), in process; turn_ms over it as a ratio
 *   nlu_ms                  our local NLU vs NLP.js, per utterance, same run
 *
 * The server is the production bundle `npm start` runs (dist/main.mjs, built first). Every phase
 * has a hard time limit. Options: --quick (smaller counts), --label=NAME (also writes
 * summary-NAME.json), --skip=nlu,kb,memory,saturated,concurrent,floor.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kbBench } from './kb-search.js';
import { floorBench } from './floor.js';
import { concurrentSessions, memory, saturated, singleSession } from './load.js';
import { nluBench } from './nlu.js';
import { log } from './progress.js';
import { bundleServer } from './server.js';
import { startPhases } from './start.js';
import { p50p95, round } from './stats.js';

const OUT = fileURLToPath(new URL('./out/', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    label: { type: 'string' },
    skip: { type: 'string', default: '' },
    clients: { type: 'string' },
  },
});
const skip = new Set(args.skip!.split(',').filter(Boolean));
const quick = args.quick!;

const N = {
  singleFlows: quick ? 20 : 60,
  concurrentSessions: quick ? 50 : 200,
  thinkMs: 2000,
  saturationClients: args.clients ? args.clients.split(',').map(Number) : quick ? [24] : [16, 48],
  saturationMs: quick ? 6000 : 12_000,
  memorySessions: quick ? 200 : 1000,
  startRuns: quick ? 1 : 3,
  floorConversations: quick ? 40 : 150,
};

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const started = Date.now();
  log(`小申智能办 bench${quick ? ' (quick)' : ''}: server log in bench/out/server.log`);
  const buildMs = bundleServer();
  log(`built dist/ in ${Math.round(buildMs)} ms`);
  const start = await startPhases({ logFile: `${OUT}server.log`, runs: N.startRuns, limitMs: 180_000 });
  const server = start.server;
  const details: Record<string, unknown> = { start: start.figures };
  let summary: Record<string, unknown>;
  try {

    // Warm-up (JIT, caches, the per-citizen MCP connections), not measured.
    await singleSession(server.url, { flows: 6, limitMs: 60_000 });

    const cpu0 = server.cpuMs();
    const single = await singleSession(server.url, { flows: N.singleFlows, limitMs: 90_000 });
    details.single = { turns: single.turns, errors: single.errors, errorSamples: single.errorSamples, server_cpu_ms_per_turn: round((server.cpuMs() - cpu0) / Math.max(1, single.turns), 2) };

    let concurrent: Record<string, unknown> = { sessions: N.concurrentSessions, think_ms: N.thinkMs, turns_per_s: null, p95_ms: null, errors: null };
    if (!skip.has('concurrent')) {
      const c = await concurrentSessions(server.url, { sessions: N.concurrentSessions, thinkMs: N.thinkMs, rampMs: 2000, limitMs: 120_000 });
      concurrent = c.result;
      details.concurrent = { elapsed_s: c.result.elapsed_s, p95_ms_by_step: c.result.p95_ms_by_step, errorSamples: c.stats.errorSamples };
    }

    let best: { clients: number; turns_per_s: number; p50: number; p95: number; errors: number } | null = null;
    if (!skip.has('saturated')) {
      const steps = [];
      for (const clients of N.saturationClients) {
        const c0 = server.cpuMs();
        const s = await saturated(server.url, { clients, durationMs: N.saturationMs, warmupMs: 2000 });
        const cpu = server.cpuMs() - c0;
        steps.push({ ...s.result, server_cpu_ms_per_turn: round(cpu / Math.max(1, s.stats.turns), 2), errorSamples: s.stats.errorSamples });
        if (!best || s.result.turns_per_s > best.turns_per_s) best = s.result;
      }
      details.saturated = steps;
    }

    let mem: Awaited<ReturnType<typeof memory>> | null = null;
    if (!skip.has('memory')) mem = await memory(server, { sessions: N.memorySessions, concurrency: 20, limitMs: 150_000 });
    details.memory = mem;

    summary = {
      turn_ms: p50p95(single.latencies),
      concurrent: { sessions: concurrent.sessions, think_ms: concurrent.think_ms, turns_per_s: concurrent.turns_per_s, p95_ms: concurrent.p95_ms, errors: concurrent.errors, p50_ms: concurrent.p50_ms },
      saturated_turns_per_s: best?.turns_per_s ?? null,
      kb_search_ms: null,
      cold_start_ms: start.figures.existing_ms,
      cold_start_fresh_ms: start.figures.fresh_ms,
      rss_at_rest_mb: start.figures.rss_at_rest_mb,
      rss_mb_per_1k_sessions: mem?.per_1k_mb ?? null,
      floor_turn_ms: null,
      turn_over_floor: null,
      nlu_ms: null,
    };
  } finally {
    await server.stop();
    start.cleanup();
  }

  // In-process phases, after the server has stopped (nothing else competes for the CPU).
  if (!skip.has('floor')) {
    const floor = await within(120_000, 'floor', () => floorBench({ conversations: N.floorConversations }));
    if (floor) {
      summary.floor_turn_ms = { p50: floor.p50, p95: floor.p95 };
      const turn = summary.turn_ms as { p50: number };
      summary.turn_over_floor = round(turn.p50 / Math.max(0.01, floor.p50), 1);
      details.floor = floor;
    }
  }

  if (!skip.has('nlu')) {
    const nlu = await within(120_000, 'nlu', () => nluBench());
    if (nlu) {
      summary.nlu_ms = { local_p50: nlu.local_p50, nlpjs_p50: nlu.nlpjs_p50 };
      details.nlu = nlu;
    }
  }
  if (!skip.has('kb')) {
    const kb = await within(300_000, 'knowledge search', () => kbBench());
    if (kb) {
      summary.kb_search_ms = { p50: kb.p50, p95: kb.p95 };
      details.kb = kb;
    }
  }

  const out = {
    ...summary,
    details: {
      ...details,
      at: new Date().toISOString(),
      quick,
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      loadavg: (await import('node:os')).loadavg().map((x) => round(x, 2)),
      bench_seconds: round((Date.now() - started) / 1000),
    },
  };
  writeFileSync(`${OUT}summary.json`, `${JSON.stringify(out, null, 2)}\n`);
  if (args.label) writeFileSync(`${OUT}summary-${args.label}.json`, `${JSON.stringify(out, null, 2)}\n`);
  printTable(out);
}

/** Runs an in-process phase with a hard time limit; null (and a note) when it overruns or fails. */
async function within<T>(ms: number, name: string, fn: () => Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`phase limit of ${ms} ms reached`)), ms); }),
    ]);
  } catch (err) {
    log(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  } finally {
    clearTimeout(timer);
  }
}

function printTable(s: Record<string, unknown>): void {
  const g = (path: string): string => {
    const v = path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), s);
    return v === null || v === undefined ? '—' : String(v);
  };
  const rows: [string, string, string][] = [
    ['turn (single session)', `p50 ${g('turn_ms.p50')} ms, p95 ${g('turn_ms.p95')} ms`, 'p95 <= 50 ms'],
    [`${g('concurrent.sessions')} sessions, ${g('concurrent.think_ms')} ms pause`, `${g('concurrent.turns_per_s')} turns/s, p95 ${g('concurrent.p95_ms')} ms, ${g('concurrent.errors')} errors`, 'p95 <= 500 ms, 0 errors'],
    ['saturation', `${g('saturated_turns_per_s')} turns/s`, '>= 100 turns/s'],
    ['knowledge search', `p50 ${g('kb_search_ms.p50')} ms, p95 ${g('kb_search_ms.p95')} ms`, ''],
    ['start -> first turn, existing data dir', `${g('cold_start_ms')} ms`, '<= 3000 ms'],
    ['start -> first turn, new data dir', `${g('cold_start_fresh_ms')} ms (new install ${g('details.start.fresh_install_ms')} ms)`, '<= 6000 ms'],
    ['resident memory at rest', `${g('rss_at_rest_mb')} MB`, '<= 300 MB'],
    ['RSS per 1,000 sessions', `${g('rss_mb_per_1k_sessions')} MB`, ''],
    ['bare graph + checkpointer (floor)', `p50 ${g('floor_turn_ms.p50')} ms; a product turn is ${g('turn_over_floor')}x`, ''],
    ['NLU per utterance', `local p50 ${g('nlu_ms.local_p50')} ms, NLP.js p50 ${g('nlu_ms.nlpjs_p50')} ms`, ''],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\n${'measure'.padEnd(w0)}  ${'result'.padEnd(w1)}  target`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ${'-'.repeat(24)}`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  console.log(`\nwritten: bench/out/summary.json`);
}

main().then(
  // A phase cut off by its time limit may leave work behind; the bench is done either way.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
