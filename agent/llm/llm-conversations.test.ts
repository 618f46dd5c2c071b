import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEval } from '../../evals/cli.js';
import { localReadingModel } from './testing/local-reading-model.js';
import { OpenAiChatStandIn } from './testing/openai-stand-in.js';

/**
 * The LLM path on the conversation test set: the same acts, the same policy, the same
 * outcomes. The model is the local-reading stand-in (testing/local-reading-model.ts) behind
 * the OpenAI wire protocol, so every turn goes prompt -> HTTP -> schema -> validation.
 */
const standIn = new OpenAiChatStandIn();
const out = mkdtempSync(join(tmpdir(), 'xs-llm-conv-'));
const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL, timeout: process.env.OPENAI_TIMEOUT_MS };

beforeAll(async () => {
  await standIn.start();
  standIn.script(localReadingModel());
  process.env.OPENAI_API_KEY = 'sk-test';
  process.env.OPENAI_BASE_URL = standIn.url;
  process.env.OPENAI_TIMEOUT_MS = '5000';
});
afterAll(async () => {
  for (const [k, v] of [['OPENAI_API_KEY', saved.key], ['OPENAI_BASE_URL', saved.url], ['OPENAI_TIMEOUT_MS', saved.timeout]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await standIn.close();
  rmSync(out, { recursive: true, force: true });
});

describe('the LLM engine on the conversation test set', () => {
  it('holds the same conversations as the local engine, every turn understood through the model', async () => {
    const run = async (nluEngine: 'local' | 'llm') => (await runEval({
      nlu: null, scenarios: null, consent: null, retrieval: null, injection: false, gate: false,
      conversations: resolve('evals/data/conversations.test.jsonl'),
      out, nluEngine,
    })).report.conversations;
    const local = await run('local');
    const before = standIn.requests('understand').length;
    const c = await run('llm');
    expect(c.error ?? null).toBeNull();
    // Same acts, same policy: the conversations the local engine holds, the LLM path holds too.
    const held = new Set(c.items.filter((i) => i.ok).map((i) => i.id));
    expect(local.items.filter((i) => i.ok && !held.has(i.id)).map((i) => i.id)).toEqual([]);
    expect(c.success_rate).toBeGreaterThanOrEqual(local.success_rate ?? 1);
    // Every citizen turn reached the model (none answered by the fallback for want of it).
    expect(standIn.requests('understand').length - before).toBeGreaterThanOrEqual(c.turns_total ?? 1);
  }, 300_000);
});
