import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../../test/app.js';

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await startTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = t.app.server.address() as { port: number };
  base = `ws://127.0.0.1:${addr.port}`;
});
afterAll(async () => {
  await t?.close();
});

interface Frame { type: string; turn?: { reply: string; awaiting: string | null; outcome: string | null }; error?: { code: string; message: string } }

/** Opens a socket and collects frames; `next(type)` waits for the next frame of that type. */
function connect(url: string) {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  const waiters: { type: string; resolve: (f: Frame) => void }[] = [];
  let closeCode: number | null = null;
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => { closeCode = code; resolve(code); }));
  ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString()) as Frame;
    const i = waiters.findIndex((w) => w.type === f.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(f);
    else frames.push(f);
  });
  return {
    ws,
    closed,
    closeCode: () => closeCode,
    next(type: string): Promise<Frame> {
      const i = frames.findIndex((f) => f.type === type);
      if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0]!);
      return new Promise((resolve) => waiters.push({ type, resolve }));
    },
    send(obj: unknown) {
      ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
    },
  };
}

describe('the session WebSocket', () => {
  it('carries the same turns as HTTP, through to a submitted certificate', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    const c = connect(`${base}/api/sessions/${s}/ws?token=${token}`);
    await c.next('ready');
    c.send({ type: 'message', text: '帮我开个无犯罪记录证明，去英国留学用' });
    expect((await c.next('turn')).turn?.awaiting).toBe('confirm');
    c.send({ type: 'message', text: '确认' });
    expect((await c.next('turn')).turn?.outcome).toBe('submitted');
    c.ws.close();
  });

  it("closes with 4404 for another citizen's session or no token", async () => {
    const sun = await t.login('c-sun-ming');
    const lin = await t.login('c-lin-xiao');
    const s = await t.session(sun);
    for (const url of [`${base}/api/sessions/${s}/ws?token=${lin}`, `${base}/api/sessions/${s}/ws`]) {
      const c = connect(url);
      const err = await c.next('error');
      expect(err.error?.code).toBe('not_found');
      expect(await c.closed).toBe(4404);
    }
  });

  it('answers bad frames with a clear error and keeps the socket open', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    const c = connect(`${base}/api/sessions/${s}/ws?token=${token}`);
    await c.next('ready');
    c.send('{not json');
    expect((await c.next('error')).error?.message).toMatch(/格式/);
    c.send({ type: 'message', text: '' });
    expect((await c.next('error')).error?.message).toMatch(/不能为空/);
    c.send({ type: 'message', text: '你好' });
    expect((await c.next('turn')).turn?.reply).toContain('小申');
    c.ws.close();
  });
});
