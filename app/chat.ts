/**
 * A terminal chat for trying the agent: `npm run chat -- --citizen c-sun-ming [--url http://127.0.0.1:3000]`.
 * Talks to a running server over the public HTTP API (the same routes the app uses). Without a
 * reachable server it starts the product in-process on the embedded database.
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const { values: args } = parseArgs({
  options: {
    citizen: { type: 'string', default: 'c-sun-ming' },
    url: { type: 'string' },
    channel: { type: 'string', default: 'app' },
    anonymous: { type: 'boolean', default: false },
  },
});

const TurnShape = z.object({
  reply: z.string(),
  awaiting: z.string().nullable(),
  card: z.record(z.string(), z.unknown()).nullable(),
  outcome: z.string().nullable(),
  application: z.object({ id: z.string(), status: z.string() }).nullable(),
  citations: z.array(z.object({ service: z.string(), section: z.string(), title: z.string() })),
});

type Send = (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; json: unknown }>;

async function httpSender(base: string): Promise<Send | null> {
  try {
    const r = await fetch(new URL('/api/health', base));
    if (!r.ok) return null;
  } catch {
    return null;
  }
  return async (method, path, body, token) => {
    const r = await fetch(new URL(path, base), {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, json: await r.json().catch(() => null) };
  };
}

async function inProcessSender(): Promise<{ send: Send; close: () => Promise<void> }> {
  const { loadConfig } = await import('../core/config.js');
  const { createAppContext } = await import('./context.js');
  const { buildServer } = await import('./server.js');
  const ctx = await createAppContext(loadConfig(process.env, { LOG_LEVEL: 'warn' }));
  const app = await buildServer(ctx);
  const send: Send = async (method, path, body, token) => {
    const r = await app.inject({
      method: method as 'GET' | 'POST',
      url: path,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
    });
    return { status: r.statusCode, json: r.json() };
  };
  return { send, close: async () => { await app.close(); await ctx.close(); } };
}

function render(turn: z.infer<typeof TurnShape>): string {
  const lines = [`小申：${turn.reply}`];
  const card = turn.card;
  if (card?.type === 'confirm' && Array.isArray(card.fields)) {
    lines.push('  ┌ 确认信息');
    for (const f of card.fields as { label: string; value: string | null }[]) lines.push(`  │ ${f.label}：${f.value ?? '（待填写）'}`);
    lines.push('  └ 回复「确认」提交，或直接说要改什么');
    lines.push('  [1] 立即办理  [2] 修改  [3] 取消');
  } else if (card?.type === 'choices' && Array.isArray(card.options)) {
    lines.push(`  选项：${(card.options as { label: string }[]).map((o, i) => `[${i + 1}] ${o.label}`).join('  ')}`);
  }
  if (turn.citations.length) lines.push(`  来源：${turn.citations.map((c) => `${c.title}·${c.section}`).join('；')}`);
  if (turn.application) lines.push(`  申请编号 ${turn.application.id}（${turn.application.status}）`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const base = args.url ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  const remote = await httpSender(base);
  const local = remote ? null : await inProcessSender();
  const send = remote ?? local!.send;
  console.log(remote ? `已连接 ${base}` : '未发现运行中的服务，已在本进程内启动（内嵌数据库）。');

  let token: string | undefined;
  if (!args.anonymous) {
    const login = await send('POST', '/api/auth/sandbox-login', { citizenId: args.citizen });
    if (login.status !== 200) throw new Error(`登录失败：${JSON.stringify(login.json)}`);
    token = (login.json as { token: string }).token;
    console.log(`已以沙箱市民 ${args.citizen} 登录。输入 /quit 退出。`);
  }
  const created = await send('POST', '/api/sessions', { channel: args.channel }, token);
  const sessionId = (created.json as { sessionId: string }).sessionId;

  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  let options: { label: string; text?: string; value?: string; input?: boolean }[] = [];
  rl.setPrompt('您：');
  rl.prompt();
  try {
    // Reading lines as an async stream also works when a script pipes the whole conversation in.
    for await (const line of rl) {
      let text = line.trim();
      if (!text) { rl.prompt(); continue; }
      if (text === '/quit' || text === '/exit') break;
      // "1", "2", ... picks an option of the last card.
      const pick = /^\d+$/.test(text) ? options[Number(text) - 1] : undefined;
      // 其他（手动输入）: not an answer; the citizen types their own.
      if (pick?.input) { console.log('（请直接输入）'); rl.prompt(); continue; }
      if (pick) text = pick.text ?? pick.value ?? pick.label;
      if (!process.stdin.isTTY) console.log(text);
      const r = await send('POST', `/api/sessions/${sessionId}/messages`, { text }, token);
      if (r.status !== 200) {
        console.log(`（错误）${(r.json as { error?: { message?: string } })?.error?.message ?? r.status}`);
      } else {
        const turn = TurnShape.parse(r.json);
        options = Array.isArray(turn.card?.options) ? (turn.card.options as typeof options)
          : Array.isArray(turn.card?.actions) ? (turn.card.actions as typeof options) : [];
        console.log(render(turn));
      }
      rl.prompt();
    }
  } finally {
    rl.close();
    await local?.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
