import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { PostgresCheckpointSaver } from '../agent/checkpointer.js';
import { MIGRATION_DIRS } from '../app/migrations.js';
import { openDatabase } from '../core/db.js';
import { progress } from './progress.js';
import { p50p95 } from './stats.js';

/** The certificate conversation's citizen lines, as the load phases send them. */
const LINES = ['帮我开个无犯罪记录证明，去英国留学用', '确认', '谢谢'];

/**
 * The floor under a turn: the same three-line conversations through a bare LangGraph graph
 * (one node that appends the line and a fixed reply to the transcript) with the product's
 * checkpointer on the same embedded database on disk, invoked in this process as the runtime
 * invokes its graph (durability 'exit'). No HTTP, no NLU, no tools, no knowledge base: what is
 * left is LangGraph and one checkpoint written per turn. The product's turn over this floor
 * is the cost of everything it adds.
 */
export async function floorBench(opts: { conversations: number }): Promise<{ p50: number; p95: number; turns: number }> {
  const p = progress('bare-graph floor');
  const dir = mkdtempSync(join(tmpdir(), 'xiaoshen-floor-'));
  const db = await openDatabase({ dataDir: dir, migrations: MIGRATION_DIRS });
  try {
    const State = Annotation.Root({ transcript: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
    const graph = new StateGraph(State)
      .addNode('reply', (s: typeof State.State) => ({ transcript: [`好的（第 ${s.transcript.length / 2 + 1} 轮）`] }))
      .addEdge(START, 'reply')
      .addEdge('reply', END)
      .compile({ checkpointer: new PostgresCheckpointSaver(db.pool, { keep: 4 }) });
    const run = async (thread: string) => {
      const times: number[] = [];
      for (const line of LINES) {
        const t0 = performance.now();
        await graph.invoke({ transcript: [line] }, { configurable: { thread_id: thread }, durability: 'exit', recursionLimit: 80 });
        times.push(performance.now() - t0);
      }
      return times;
    };
    for (let i = 0; i < 10; i++) await run(`warm-${i}`);
    const latencies: number[] = [];
    for (let i = 0; i < opts.conversations; i++) {
      latencies.push(...(await run(`floor-${i}`)));
      if (i % 10 === 0) p.update(`${latencies.length} turns`);
    }
    const r = p50p95(latencies);
    p.done(`${latencies.length} turns: p50 ${r.p50} ms, p95 ${r.p95} ms`);
    return { ...r, turns: latencies.length };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
