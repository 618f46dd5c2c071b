import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEvalApp, type EvalApp } from './app.js';
import { AttackItem, DEFAULT_ATTACK_SET, runAttackEval } from './attacks.js';
import { readJsonl } from './datasets.js';

/** The attack set on HTTP, the WebSocket and MCP: its coverage, and a clean run against the product. */
let app: EvalApp;
beforeAll(async () => {
  app = await startEvalApp('local');
}, 120_000);
afterAll(async () => app?.close());

describe('the attack set', () => {
  const items = readJsonl(DEFAULT_ATTACK_SET, AttackItem).map((l) => l.item);

  it('covers every door and every class of finding', () => {
    expect(items.filter((i) => !i.setup).length).toBeGreaterThanOrEqual(100);
    const kinds = new Set(items.map((i) => i.kind));
    expect([...kinds].sort()).toEqual(['http', 'mcp', 'ws']);
    for (const c of ['ownership', 'staff_routes', 'invalid_text', 'malformed', 'idempotency', 'login', 'side_channel', 'mcp_auth', 'injection']) {
      expect(items.some((i) => i.class === c), c).toBe(true);
    }
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
  });

  it('gets no 5xx, discloses nothing and submits nothing, every status as expected', async () => {
    const r = await runAttackEval(app);
    expect(r.failed).toEqual([]);
    expect(r).toMatchObject({ server_errors: 0, disclosures: 0, unauthorised_submits: 0, unexpected: 0 });
  }, 180_000);
});
