import type { Turn } from '../agent/turn.js';
import { CITIZENS, FLOW, HttpError, WsSession, api, expected, loginAll, nextFlow, sleep, type Api } from './client.js';
import { progress } from './progress.js';
import type { BenchServer } from './server.js';
import { p50p95, percentile, round } from './stats.js';

/** A phase that overruns its hard limit stops starting work and reports what it has. */
export class Deadline {
  private readonly end: number;
  constructor(readonly ms: number) {
    this.end = Date.now() + ms;
  }
  get passed(): boolean {
    return Date.now() >= this.end;
  }
  get left(): number {
    return Math.max(0, this.end - Date.now());
  }
}

/** Start-up to first answered turn: from spawning the process until a citizen's first turn comes back. */
export async function coldStart(server: BenchServer, limitMs: number): Promise<{ ms: number; turn: Turn }> {
  const p = progress('cold start');
  const call = api(server.url);
  const deadline = new Deadline(limitMs);
  let token: string | undefined;
  while (!token) {
    if (deadline.passed) throw new Error(`the server did not answer within ${limitMs} ms`);
    if (server.child.exitCode !== null) throw new Error(`the server exited with ${server.child.exitCode}`);
    try {
      token = (await call<{ token: string }>('POST', '/api/auth/sandbox-login', { citizenId: 'c-sun-ming' })).token;
    } catch {
      p.update('waiting for the server to listen');
      await sleep(20);
    }
  }
  const { sessionId } = await call<{ sessionId: string }>('POST', '/api/sessions', { channel: 'app' }, token);
  const turn = await call<Turn>('POST', `/api/sessions/${sessionId}/messages`, { text: FLOW[0] }, token);
  const ms = performance.now() - server.spawnedAt;
  await call('DELETE', `/api/sessions/${sessionId}`, undefined, token);
  p.done(`first turn answered after ${Math.round(ms)} ms`);
  return { ms, turn };
}

export interface FlowStats {
  latencies: number[];
  /** Latencies by step of the flow (first message, second, confirmation). */
  byStep?: number[][];
  turns: number;
  flows: number;
  errors: number;
  errorSamples: string[];
}

function newStats(): FlowStats {
  return { latencies: [], turns: 0, flows: 0, errors: 0, errorSamples: [] };
}

function recordError(s: FlowStats, err: unknown): void {
  s.errors += 1;
  if (s.errorSamples.length < 5) s.errorSamples.push(err instanceof Error ? err.message : String(err));
}

/** One session, one turn at a time over HTTP: the latency of a full turn without contention. */
export async function singleSession(base: string, opts: { flows: number; limitMs: number }): Promise<FlowStats & { cpuMsPerTurn?: number }> {
  const call = api(base);
  const tokens = await loginAll(call);
  const deadline = new Deadline(opts.limitMs);
  const p = progress('single session');
  const s = newStats();
  for (let i = 0; i < opts.flows && !deadline.passed; i++) {
    const citizen = CITIZENS[i % CITIZENS.length]!;
    const token = tokens.get(citizen)!;
    try {
      const { sessionId } = await call<{ sessionId: string }>('POST', '/api/sessions', { channel: 'app' }, token);
      const steps = nextFlow(token);
      for (let k = 0; k < steps.length; k++) {
        const t0 = performance.now();
        const turn = await call<Turn>('POST', `/api/sessions/${sessionId}/messages`, { text: steps[k] }, token);
        s.latencies.push(performance.now() - t0);
        s.turns += 1;
        if (!expected(k, turn)) throw new Error(`unexpected answer to "${steps[k]}": ${turn.reply.slice(0, 60)}`);
      }
      await call('DELETE', `/api/sessions/${sessionId}`, undefined, token);
      s.flows += 1;
    } catch (err) {
      recordError(s, err);
    }
    p.update(`${s.turns} turns, p50 ${round(percentile(s.latencies, 50))} ms, errors ${s.errors}`);
  }
  p.done(`${s.turns} turns: p50 ${round(percentile(s.latencies, 50))} ms, p95 ${round(percentile(s.latencies, 95))} ms, errors ${s.errors}`);
  return s;
}

/**
 * One WebSocket conversation through the certificate flow: create the session over HTTP,
 * connect, the three turns with `thinkMs` between an answer and the next message, close, end
 * the session (so the 50-sessions-per-citizen limit is never reached by finished flows).
 */
async function wsFlow(base: string, call: Api, token: string, thinkMs: number, s: FlowStats): Promise<void> {
  const { sessionId } = await call<{ sessionId: string }>('POST', '/api/sessions', { channel: 'app' }, token);
  const ws = await WsSession.open(base, sessionId, token);
  const steps = nextFlow(token);
  try {
    for (let k = 0; k < steps.length; k++) {
      if (k > 0 && thinkMs > 0) await sleep(thinkMs);
      const t0 = performance.now();
      const turn = await ws.say(steps[k]!);
      const ms = performance.now() - t0;
      s.latencies.push(ms);
      ((s.byStep ??= [[], [], []])[k] ??= []).push(ms);
      s.turns += 1;
      if (!expected(k, turn)) throw new Error(`unexpected answer to "${steps[k]}": ${turn.reply.slice(0, 60)}`);
    }
    s.flows += 1;
  } finally {
    ws.close();
    await call('DELETE', `/api/sessions/${sessionId}`, undefined, token).catch(() => undefined);
  }
}

/**
 * `sessions` WebSocket conversations at once, as the 6 sandbox citizens in rotation, each
 * completing the flow with a human-like pause between turns. Arrivals are spread over `rampMs`.
 */
export async function concurrentSessions(base: string, opts: { sessions: number; thinkMs: number; rampMs: number; limitMs: number }) {
  const call = api(base);
  const tokens = await loginAll(call);
  const p = progress(`${opts.sessions} human-paced sessions`);
  const s = newStats();
  const started = performance.now();
  let timedOut = false;
  const work = Promise.all(Array.from({ length: opts.sessions }, async (_, i) => {
    await sleep((opts.rampMs * i) / opts.sessions);
    try {
      await wsFlow(base, call, tokens.get(CITIZENS[i % CITIZENS.length]!)!, opts.thinkMs, s);
    } catch (err) {
      recordError(s, err);
    }
  }));
  const ticker = setInterval(() => p.update(`${s.flows}/${opts.sessions} flows done, ${s.turns} turns, errors ${s.errors}`), 250);
  await Promise.race([work, sleep(opts.limitMs).then(() => { timedOut = true; })]);
  clearInterval(ticker);
  const elapsed = (performance.now() - started) / 1000;
  if (timedOut) recordError(s, new Error(`phase limit of ${opts.limitMs} ms reached with ${opts.sessions - s.flows} flows unfinished`));
  const unfinished = opts.sessions - s.flows - s.errors;
  if (!timedOut && unfinished > 0) s.errors += unfinished;
  const result = {
    sessions: opts.sessions,
    think_ms: opts.thinkMs,
    turns_per_s: round(s.turns / elapsed, 1),
    p50_ms: round(percentile(s.latencies, 50)),
    p95_ms: round(percentile(s.latencies, 95)),
    errors: s.errors,
    elapsed_s: round(elapsed, 1),
    p95_ms_by_step: (s.byStep ?? []).map((l) => round(percentile(l, 95))),
  };
  p.done(`${s.flows}/${opts.sessions} flows in ${result.elapsed_s} s, p95 ${result.p95_ms} ms, errors ${s.errors}`);
  return { result, stats: s };
}

/** Closed loop, no pause: `clients` conversations back to back for `durationMs` (after `warmupMs`). */
export async function saturated(base: string, opts: { clients: number; durationMs: number; warmupMs: number }) {
  const call = api(base);
  const tokens = await loginAll(call);
  const p = progress(`saturation, ${opts.clients} clients`);
  const s = newStats();
  const measureFrom = Date.now() + opts.warmupMs;
  const stopAt = measureFrom + opts.durationMs;
  let measuredTurns = 0;
  const measured: number[] = [];
  const ticker = setInterval(() => p.update(`${measuredTurns} turns measured, errors ${s.errors}`), 250);
  await Promise.all(Array.from({ length: opts.clients }, async (_, i) => {
    // Each flow as the next citizen in turn: a few clients running flat out would otherwise
    // apply for the same certificate for the same country twice a day, which is (rightly) refused.
    for (let k = 0; Date.now() < stopAt; k++) {
      const token = tokens.get(CITIZENS[(i + k * opts.clients) % CITIZENS.length]!)!;
      const local = newStats();
      try {
        await wsFlowMeasured(base, call, token, local, (ms) => {
          if (Date.now() >= measureFrom && Date.now() < stopAt) {
            measuredTurns += 1;
            measured.push(ms);
          }
        });
      } catch (err) {
        if (Date.now() < stopAt) recordError(s, err);
      }
      s.turns += local.turns;
    }
  }));
  clearInterval(ticker);
  const result = {
    clients: opts.clients,
    turns_per_s: round(measuredTurns / (opts.durationMs / 1000), 1),
    ...p50p95(measured),
    errors: s.errors,
  };
  p.done(`${result.turns_per_s} turns/s, p50 ${result.p50} ms, p95 ${result.p95} ms, errors ${s.errors}`);
  return { result, stats: s };
}

async function wsFlowMeasured(base: string, call: Api, token: string, s: FlowStats, onTurn: (ms: number) => void): Promise<void> {
  const { sessionId } = await call<{ sessionId: string }>('POST', '/api/sessions', { channel: 'app' }, token);
  const ws = await WsSession.open(base, sessionId, token);
  const steps = nextFlow(token);
  try {
    for (let k = 0; k < steps.length; k++) {
      const t0 = performance.now();
      const turn = await ws.say(steps[k]!);
      const ms = performance.now() - t0;
      s.turns += 1;
      if (!expected(k, turn)) throw new Error(`unexpected answer to "${steps[k]}": ${turn.reply.slice(0, 60)}`);
      onTurn(ms);
    }
  } finally {
    ws.close();
    await call('DELETE', `/api/sessions/${sessionId}`, undefined, token).catch(() => undefined);
  }
}

/**
 * Memory: the server's RSS before and after `sessions` sessions are opened and kept open
 * (WebSocket connected, one turn answered), as growth per 1,000 sessions. Anonymous sessions
 * are used so the per-citizen session limit does not apply.
 */
export async function memory(server: BenchServer, opts: { sessions: number; concurrency: number; limitMs: number }) {
  const p = progress(`memory, ${opts.sessions} open sessions`);
  const deadline = new Deadline(opts.limitMs);
  // A first round (opened, answered, closed) so that code paths and pools are warm; then GC.
  await openSessions(server, Math.min(100, opts.sessions), opts.concurrency, deadline, () => undefined).then((ws) => ws.forEach((w) => w.close()));
  await sleep(500);
  const forced = await server.gc();
  await sleep(200);
  const before = server.rssMb();
  let errors = 0;
  const open = await openSessions(server, opts.sessions, opts.concurrency, deadline, (n, err) => {
    if (err) errors += 1;
    p.update(`${n} sessions open, RSS ${round(server.rssMb())} MB`);
  });
  await sleep(500);
  await server.gc();
  await sleep(200);
  const after = server.rssMb();
  for (const ws of open) ws.close();
  const perK = ((after - before) / Math.max(1, open.length)) * 1000;
  p.done(`${open.length} sessions: RSS ${round(before)} -> ${round(after)} MB (${round(perK)} MB per 1,000)${forced ? ', after a forced GC' : ''}`);
  return { before_mb: round(before), after_mb: round(after), sessions: open.length, errors, per_1k_mb: round(perK, 2), gc_forced: forced };
}

/** Opens `n` anonymous sessions, each with its WebSocket connected and one turn answered. */
async function openSessions(server: BenchServer, n: number, concurrency: number, deadline: Deadline, onProgress: (open: number, err?: unknown) => void): Promise<WsSession[]> {
  const call = api(server.url);
  const open: WsSession[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n && !deadline.passed) {
      next += 1;
      try {
        const { sessionId } = await call<{ sessionId: string }>('POST', '/api/sessions', { channel: 'app' });
        const ws = await WsSession.open(server.url, sessionId, null);
        open.push(ws);
        await ws.say(FLOW[0]);
        onProgress(open.length);
      } catch (err) {
        onProgress(open.length, err);
      }
    }
  }));
  return open;
}

export { HttpError };
