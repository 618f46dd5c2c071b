import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GovService } from '../../tools/sandbox/gov-service.js';
import { startServer, type RunningServer } from '../../test/e2e/harness.js';
import { EspeakTts } from '../voice/tts.js';

/**
 * The session socket's additive frames against the real server: live delivery of staff
 * replies (in-process event, and the database poll that serves other instances), handoff
 * status, the avatar stream shared by the sockets of a session, spoken replies, and the
 * voice-unavailable path.
 */
type Frame = Record<string, unknown> & { type: string };

class Client {
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  closeCode: number | null = null;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.waiters.splice(0).forEach((w) => w());
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  static async open(base: string, sessionId: string, token: string): Promise<Client> {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/sessions/${sessionId}/ws`, { headers: { authorization: `Bearer ${token}` } });
    const c = new Client(ws);
    await c.next((f) => f.type === 'ready' || f.type === 'error');
    return c;
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** The first frame (from `from` on) matching `pred`, waiting up to `ms`. */
  async next(pred: (f: Frame) => boolean, ms = 20_000, from = 0): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.frames.slice(from).find(pred);
      if (hit) return hit;
      if (this.closeCode !== null) throw new Error(`socket closed (${this.closeCode}); frames: ${JSON.stringify(this.frames.map((f) => f.type))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; frames: ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

describe('session socket: live delivery, avatar, speech', () => {
  let server: RunningServer;
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${server.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  };
  const login = async (citizenId: string) => (await post('/api/auth/sandbox-login', { citizenId })).body.token as string;
  const session = async (token: string, channel = 'app') => (await post('/api/sessions', { channel }, token)).body.sessionId as string;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('delivers staff replies written on this instance and on another, and handoff status changes', async () => {
    const token = await login('c-lin-xiao');
    const sessionId = await session(token);
    const chat = await Client.open(server.baseUrl, sessionId, token);
    chat.send({ type: 'message', text: '转人工' });
    const turn = (await chat.next((f) => f.type === 'turn')).turn as { handoff: { id: string } | null };
    expect(turn.handoff?.id).toBeTruthy();
    const handoffId = turn.handoff!.id;

    const staffLogin = await post('/api/auth/staff-login', { username: server.ctx.config.STAFF_USERNAME, password: server.ctx.config.STAFF_PASSWORD });
    const staffToken = staffLogin.body.token as string;
    const staff = (await server.ctx.identity.verifyToken(staffToken));

    // Written through this server's API: the in-process event delivers it.
    const reply = await post(`/api/staff/handoffs/${handoffId}/reply`, { text: '您好，我是窗口工作人员小王。' }, staffToken);
    expect(reply.status).toBe(200);
    const first = await chat.next((f) => f.type === 'staff_message', 5000);
    expect(first.message).toMatchObject({ handoffId, author: 'staff', text: '您好，我是窗口工作人员小王。' });
    await chat.next((f) => f.type === 'handoff' && (f.handoff as { status: string }).status === 'claimed', 5000);

    // Written by another instance (a separate service object: no in-process event reaches
    // this hub), so only the database poll can deliver it.
    const otherInstance = new GovService(server.ctx.db.pool);
    await otherInstance.handoffs.reply(staff, handoffId, '另一台服务器上写的回复。');
    const second = await chat.next((f) => f.type === 'staff_message' && (f.message as { text: string }).text === '另一台服务器上写的回复。', 5000);
    expect(second.message).toMatchObject({ author: 'staff' });

    await otherInstance.handoffs.close(staff, handoffId, '问题已解答，人工服务结束。');
    await chat.next((f) => f.type === 'staff_message' && (f.message as { author: string }).author === 'system', 5000);
    await chat.next((f) => f.type === 'handoff' && (f.handoff as { status: string }).status === 'closed', 5000);

    // A reconnecting page gets the earlier staff messages again (it de-duplicates by id).
    const again = await Client.open(server.baseUrl, sessionId, token);
    const history = await again.next((f) => f.type === 'staff_message', 5000);
    expect(history.message).toMatchObject({ id: (first.message as { id: string }).id });
    chat.close();
    again.close();
  });

  it('never delivers one citizen’s staff messages to another citizen', async () => {
    const a = await login('c-sun-ming');
    const b = await login('c-wang-qiang');
    const sa = await session(a);
    const sb = await session(b);
    const ca = await Client.open(server.baseUrl, sa, a);
    const cb = await Client.open(server.baseUrl, sb, b);
    ca.send({ type: 'message', text: '转人工' });
    const handoffId = ((await ca.next((f) => f.type === 'turn')).turn as { handoff: { id: string } }).handoff.id;
    const staff = await server.ctx.identity.verifyToken(
      (await post('/api/auth/staff-login', { username: server.ctx.config.STAFF_USERNAME, password: server.ctx.config.STAFF_PASSWORD })).body.token as string,
    );
    await server.ctx.gov.handoffs.reply(staff, handoffId, '只给孙明的回复');
    await ca.next((f) => f.type === 'staff_message', 5000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(cb.frames.filter((f) => f.type === 'staff_message')).toEqual([]);
    ca.close();
    cb.close();
  });

  it('streams the avatar state to every socket of the session; speak:true adds a spoken reply', async () => {
    const token = await login('c-chen-guiying');
    const sessionId = await session(token, 'kiosk');
    const kiosk = await Client.open(server.baseUrl, sessionId, token);
    const renderer = await Client.open(server.baseUrl, sessionId, token);
    kiosk.send({ type: 'message', text: '我要申请老年综合津贴', stream: true, speak: true });
    await renderer.next((f) => f.type === 'avatar' && f.state === 'thinking');
    const turn = await kiosk.next((f) => f.type === 'turn');
    expect((turn.turn as { card: { type: string } }).card.type).toBe('confirm');
    if (EspeakTts.available()) {
      const speech = await kiosk.next((f) => f.type === 'speech');
      const wav = Buffer.from(String(speech.data), 'base64');
      expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
      expect(speech.durationSec).toBeGreaterThan(0);
      await renderer.next((f) => f.type === 'avatar' && f.state === 'speaking');
    }
    // The page reports when playback ends; the renderer follows.
    const mark = renderer.frames.length;
    kiosk.send({ type: 'avatar', state: 'idle' });
    await renderer.next((f) => f.type === 'avatar' && f.state === 'idle', 5000, mark);
    // Renderers do not get the turns themselves.
    expect(renderer.frames.some((f) => f.type === 'turn')).toBe(false);
    kiosk.close();
    renderer.close();
  });

  it('declines voice clearly when no ASR is configured, and refuses an ended session', async () => {
    const token = await login('c-sun-ming');
    const sessionId = await session(token);
    const c = await Client.open(server.baseUrl, sessionId, token);
    c.send({ type: 'audio', data: Buffer.from('RIFF....WAVEfmt ').toString('base64'), format: 'wav' });
    const err = await c.next((f) => f.type === 'error');
    expect(err.error).toMatchObject({ code: 'voice_unavailable', message: '语音输入暂不可用，请打字或点按。' });
    // A binary frame (raw audio) gets the same answer.
    const before = c.frames.length;
    c.ws.send(Buffer.from([1, 2, 3]));
    const bin = await c.next((f) => f.type === 'error', 5000, before);
    expect(bin.error).toMatchObject({ code: 'voice_unavailable' });

    const del = await fetch(`${server.baseUrl}/api/sessions/${sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(del.status).toBe(204);
    const mark = c.frames.length;
    c.send({ type: 'message', text: '我要开无犯罪记录证明' });
    const ended = await c.next((f) => f.type === 'error', 5000, mark);
    expect(ended.error).toMatchObject({ code: 'session_ended' });
    const late = new Client(new WebSocket(`${server.baseUrl.replace('http', 'ws')}/api/sessions/${sessionId}/ws`, { headers: { authorization: `Bearer ${token}` } }));
    await late.next(() => false, 5000).catch(() => undefined);
    expect(late.closeCode).toBe(4409);
    c.close();
  });
});
