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

interface Frame { type: string; turn?: { reply: string; awaiting: string | null; outcome: string | null; card?: { token: string } | null }; error?: { code: string; message: string } }

/**
 * Opens a socket and collects frames; `next(type)` waits for the next frame of that type.
 * `auth`: a header (as server-side clients do) or a first frame (as browsers must).
 */
function connect(url: string, auth: { header?: string; frame?: string | null } = {}) {
  const ws = new WebSocket(url, auth.header ? { headers: { authorization: `Bearer ${auth.header}` } } : {});
  if (auth.frame !== undefined) ws.once('open', () => ws.send(JSON.stringify(auth.frame === null ? { type: 'auth' } : { type: 'auth', token: auth.frame })));
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
    const c = connect(`${base}/api/sessions/${s}/ws`, { frame: token });
    await c.next('ready');
    c.send({ type: 'message', text: '帮我开个无犯罪记录证明，去英国留学用' });
    expect((await c.next('turn')).turn?.awaiting).toBe('confirm');
    c.send({ type: 'message', text: '确认' });
    expect((await c.next('turn')).turn?.outcome).toBe('submitted');
    c.ws.close();
  });

  it("closes with 4404 for another citizen's session or no token, by header or first frame", async () => {
    const sun = await t.login('c-sun-ming');
    const lin = await t.login('c-lin-xiao');
    const s = await t.session(sun);
    for (const auth of [{ header: lin }, { frame: lin }, { frame: null }]) {
      const c = connect(`${base}/api/sessions/${s}/ws`, auth);
      const err = await c.next('error');
      expect(err.error?.code).toBe('not_found');
      expect(await c.closed).toBe(4404);
    }
  });

  it('answers every frame sent on open, before ready: turns in order (first-frame auth and header)', async () => {
    const token = await t.login('c-sun-ming');
    for (const auth of [{ frame: token }, { header: token }]) {
      const s = await t.session(token);
      const ws = new WebSocket(`${base}/api/sessions/${s}/ws`, auth.header ? { headers: { authorization: `Bearer ${auth.header}` } } : {});
      const turns: string[] = [];
      const done = new Promise<void>((resolve) => ws.on('message', (raw) => {
        const f = JSON.parse(raw.toString()) as Frame;
        if (f.type === 'turn') turns.push(f.turn!.reply);
        if (f.type === 'pong') turns.push('pong');
        if (turns.length === 4) resolve();
      }));
      ws.once('open', () => {
        if (auth.frame) ws.send(JSON.stringify({ type: 'auth', token: auth.frame }));
        ws.send(JSON.stringify({ type: 'message', text: '你好' }));
        ws.send(JSON.stringify({ type: 'ping' }));
        ws.send(JSON.stringify({ type: 'message', text: '帮我开个无犯罪记录证明' }));
        ws.send(JSON.stringify({ type: 'message', text: '去法国工作用' }));
      });
      await done;
      // A ping is answered at once; the turns in the order they were sent.
      expect(turns).toContain('pong');
      const replies = turns.filter((x) => x !== 'pong');
      expect(replies[0]).toContain('小申');
      expect(replies[1]).toMatch(/无犯罪记录/);
      expect(replies[2]).toMatch(/核对|法国/);
      ws.close();
    }
  });

  it('refuses a token in the URL, a malformed auth frame, and a second auth frame, with clear Chinese errors', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    const inUrl = connect(`${base}/api/sessions/${s}/ws?token=${token}`);
    const e1 = await inUrl.next('error');
    expect(e1.error).toMatchObject({ code: 'token_in_url' });
    expect(e1.error?.message).toMatch(/不要把登录凭证放在网址里/);
    expect(await inUrl.closed).toBe(4400);

    const bad = connect(`${base}/api/sessions/${s}/ws`);
    bad.ws.once('open', () => bad.send({ type: 'auth', token: 42 }));
    expect((await bad.next('error')).error?.code).toBe('bad_auth_frame');
    expect(await bad.closed).toBe(4401);

    const ok = connect(`${base}/api/sessions/${s}/ws`, { frame: token });
    await ok.next('ready');
    ok.send({ type: 'auth', token });
    expect((await ok.next('error')).error?.message).toMatch(/已经登录/);
    ok.send({ type: 'message', text: '你好' });
    expect((await ok.next('turn')).turn?.reply).toContain('小申');
    ok.ws.close();
  });

  it("refuses a press on an older card's button (stale_card) and takes the current card's", async () => {
    const token = await t.login('c-wang-qiang');
    const s = await t.session(token);
    const c = connect(`${base}/api/sessions/${s}/ws`, { frame: token });
    await c.next('ready');
    c.send({ type: 'message', text: '我要开无犯罪记录证明' });
    const first = (await c.next('turn')).turn!;
    expect(first.card?.token).toBeTruthy();
    c.send({ type: 'message', text: '出国留学用，去英国' });
    const second = (await c.next('turn')).turn!;
    expect(second.awaiting).toBe('confirm');
    c.send({ type: 'message', text: '确认', cardToken: first.card!.token });
    const err = await c.next('error');
    expect(err.error?.code).toBe('stale_card');
    expect(err.error?.message).toMatch(/[\u4e00-\u9fff]/);
    c.send({ type: 'message', text: '确认', cardToken: second.card!.token });
    expect((await c.next('turn')).turn?.outcome).toBe('submitted');
    c.ws.close();
  });

  it('documents its protocol at /docs/websocket, linked from the OpenAPI description', async () => {
    const doc = await t.app.inject({ method: 'GET', url: '/docs/websocket' });
    expect(doc.statusCode).toBe(200);
    expect(doc.headers['content-type']).toMatch(/text\/markdown/);
    for (const needle of ['{"type": "auth", "token": "<token>"}', 'token_in_url', '4401', 'before `ready`', 'stale_card']) expect(doc.body).toContain(needle);
    const spec = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(spec.json().info.description).toContain('/docs/websocket');
  });

  it('answers bad frames with a clear error and keeps the socket open', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token);
    const c = connect(`${base}/api/sessions/${s}/ws`, { header: token });
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
