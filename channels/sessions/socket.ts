import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import type { Principal } from '../../tools/identity/principal.js';
import type { LiveFrame, LiveHub } from '../live/hub.js';
import { asrErrors } from '../voice/asr.js';
import type { VoicePipeline } from '../voice/pipeline.js';
import { parseMessageText, type SessionRoutesOptions, type SessionSocketExtras } from './messages.js';

/** How a digital-human renderer should look: the one stream kiosks and renderers follow. */
export type AvatarState = 'idle' | 'listening' | 'thinking' | 'speaking';

const Flags = { stream: z.boolean().optional(), speak: z.boolean().optional() };
const AudioHints = { format: z.string().max(16).optional(), sampleRate: z.number().int().optional(), channels: z.number().int().min(1).max(2).optional() };

const ClientFrame = z.discriminatedUnion('type', [
  // cardToken: the message is a card's button; a button of an older card is refused (409 stale_card).
  z.object({ type: z.literal('message'), text: z.string(), cardToken: z.string().min(1).max(64).optional(), ...Flags }),
  z.object({ type: z.literal('ping') }),
  // Authentication is the first frame only (see firstFrameToken); a later one is refused.
  z.object({ type: z.literal('auth'), token: z.string().optional() }),
  // A whole clip as base64 (WebM/Opus, Ogg, MP4, WAV, or raw 16-bit PCM with format 'pcm16').
  z.object({ type: z.literal('audio'), data: z.string(), ...AudioHints, ...Flags }),
  // A clip in binary frames: audio_start, binary chunks, audio_end (or audio_cancel).
  z.object({ type: z.literal('audio_start'), ...AudioHints }),
  z.object({ type: z.literal('audio_end'), ...Flags }),
  z.object({ type: z.literal('audio_cancel') }),
  // The page reports what it does (playing a reply, recording), relayed to renderers.
  z.object({ type: z.literal('avatar'), state: z.enum(['idle', 'listening', 'speaking']) }),
]);
type ClientFrame = z.infer<typeof ClientFrame>;

/** Largest frame accepted from a client (text frames; audio has its own limits). */
const MAX_FRAME_BYTES = 64 * 1024;
/** Largest WebSocket message at all: a 2 MB clip as base64 plus its JSON envelope. */
const MAX_WS_PAYLOAD = 3 * 1024 * 1024;

/** How long a socket without an Authorization header may wait before its `auth` frame. */
const AUTH_TIMEOUT_MS = 10_000;

/** The first frame of a browser's socket (see firstFrameToken); a later one is refused. */
const AuthFrame = z.object({ type: z.literal('auth'), token: z.string().max(4096).optional() }).strict();

type RawFrame = [raw: Buffer, isBinary: boolean];

/**
 * The frames a socket received before it is ready to handle them, in order; `next()` waits
 * for the first (rejecting after `timeoutMs`, or when the socket closes first).
 */
class EarlyFrames {
  private readonly frames: RawFrame[] = [];
  private waiter: ((frame: RawFrame) => void) | null = null;

  push(frame: RawFrame): void {
    if (this.waiter) this.waiter(frame);
    else this.frames.push(frame);
  }

  unshift(frame: RawFrame): void {
    this.frames.unshift(frame);
  }

  drain(): RawFrame[] {
    return this.frames.splice(0);
  }

  next(socket: WebSocket, timeoutMs: number): Promise<RawFrame> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise<RawFrame>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        socket.off('close', onClose);
        this.waiter = null;
      };
      const timer = setTimeout(() => {
        done();
        reject(new AppError('auth_timeout', 401, '连接后请先发送登录凭证 {"type":"auth","token":"…"}。'));
      }, timeoutMs);
      const onClose = () => {
        done();
        reject(new AppError('unauthorized', 401, '连接已关闭。'));
      };
      socket.on('close', onClose);
      this.waiter = (frame) => {
        done();
        resolve(frame);
      };
    });
  }
}

/**
 * The token of the socket's first frame, `{"type":"auth","token":"…"}` (already queued, or the
 * next to arrive); '' for an anonymous session (`{"type":"auth"}` without a token, or a first
 * frame of another kind, which then stays queued as the first to answer). An `auth` frame that
 * does not parse is a 401, and so is nothing within the timeout.
 */
async function firstFrameToken(socket: WebSocket, early: EarlyFrames, timeoutMs: number): Promise<string> {
  const first = await early.next(socket, timeoutMs);
  const [raw, isBinary] = first;
  let frame: unknown;
  try {
    frame = isBinary ? null : JSON.parse(raw.toString('utf8'));
  } catch {
    frame = null;
  }
  if (!frame || typeof frame !== 'object' || (frame as { type?: unknown }).type !== 'auth') {
    early.unshift(first);
    return '';
  }
  const parsed = AuthFrame.safeParse(frame);
  if (!parsed.success) throw authRequired();
  return parsed.data.token ?? '';
}

function authRequired(): AppError {
  return new AppError('bad_auth_frame', 401, '登录消息格式不正确：应为 {"type":"auth","token":"<登录凭证>"}。');
}

function sendError(socket: WebSocket, code: string, message: string): void {
  socket.send(JSON.stringify({ type: 'error', error: { code, message } }));
}

/**
 * `GET /api/sessions/:id/ws`: the same turns over a WebSocket (protocol: channels/sessions/
 * PROTOCOL.md, served at /docs/websocket). The caller authenticates with an `Authorization:
 * Bearer` header or, as browsers must (they cannot set headers on a WebSocket), with a first
 * frame `{"type":"auth","token"}`; a token in the URL is refused (4400), so none reaches an
 * access log. The session must belong to the caller, exactly as over HTTP; otherwise the
 * socket closes with 4401 (not authenticated) or 4404.
 *
 * Additive frames (see SessionSocketExtras): `{type:'message', text, stream:true}` paces the
 * reply's `delta` frames in short phrases before the `turn`; `speak:true` adds a `speech` frame
 * (base64 WAV) after it; `audio` frames and binary frames carry voice (a `transcript` frame
 * shows what was heard, then the turn follows as for text); `avatar` frames
 * (`listening`/`thinking`/`speaking`/`idle`) go to every socket of the session; live frames
 * (`staff_message`, `handoff`, `application`) arrive when staff act.
 *
 * Every turn's reply also arrives as `{type:'delta', text}` frames, as the agent releases it
 * (AgentRuntime.runTurn `onDelta`: only checked text), before the `turn`; they concatenate to
 * `turn.reply`. Clients that do not know `delta` ignore it.
 */
export function attachSessionSocket(app: FastifyInstance, opts: SessionRoutesOptions): void {
  const extras: SessionSocketExtras = opts.socket ?? {};
  void app.register(async (scope) => {
    await scope.register(websocket, { options: { maxPayload: MAX_WS_PAYLOAD } });
    scope.get('/api/sessions/:id/ws', { websocket: true }, async (socket, req) => {
      coalesceWrites(socket);
      // Frames may arrive before the session is checked (a client sending on 'open'): they are
      // queued, in order, and answered once the socket is ready — never dropped.
      const early = new EarlyFrames();
      let onFrame: ((raw: Buffer, isBinary: boolean) => void) | null = null;
      socket.on('message', (raw: Buffer, isBinary: boolean) => (onFrame ? onFrame(raw, isBinary) : early.push([raw, isBinary])));
      const refuse = (code: string, message: string, closeCode: number) => {
        sendError(socket, code, message);
        socket.close(closeCode, code);
      };
      // A token in the URL would be written to access logs, proxies and browser history.
      if (typeof (req.query as { token?: unknown }).token === 'string') {
        return refuse('token_in_url', '请不要把登录凭证放在网址里：连接后先发送 {"type":"auth","token":"<登录凭证>"}，或使用 Authorization 请求头。', 4400);
      }
      let session;
      let principal: Principal | null;
      try {
        // Without an Authorization header (browsers cannot set one) the first frame authenticates.
        if (!req.headers.authorization) {
          const token = await firstFrameToken(socket, early, AUTH_TIMEOUT_MS);
          if (token) req.headers.authorization = `Bearer ${token}`;
        }
        principal = await opts.principalOf(req);
        session = await opts.sessions.getOwned((req.params as { id: string }).id, principal);
      } catch (err) {
        const e = err instanceof AppError ? err : new AppError('not_found', 404, '未找到该会话。');
        return refuse(e.code, e.message, e.status === 401 ? 4401 : e.status === 400 ? 4400 : 4404);
      }
      if (session.endedAt) {
        sendError(socket, 'session_ended', '该会话已结束，请重新开始。');
        socket.close(4409, 'session_ended');
        return;
      }
      const sessionId = session.id;
      const citizenId = session.citizenId;
      const send = (frame: LiveFrame | Record<string, unknown>) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
      };
      const avatar = (state: AvatarState, extra: Record<string, unknown> = {}) => {
        const frame = { type: 'avatar', state, ...extra };
        send(frame);
        extras.live?.broadcast(sessionId, frame, send);
      };
      const unsubscribe = extras.live?.subscribe({ sessionId, citizenId, send });
      socket.on('close', () => unsubscribe?.());

      // Binary audio being received between audio_start and audio_end.
      let pending: { hints: AudioHints; chunks: Buffer[]; bytes: number; tooLarge: boolean } | null = null;

      /** One citizen utterance (typed or transcribed) through the agent, with the optional extras. */
      const runText = async (rawText: string, flags: { stream?: boolean | undefined; speak?: boolean | undefined; cardToken?: string | undefined }) => {
        const text = parseMessageText({ text: rawText });
        const current = await opts.sessions.touchOwned(sessionId, principal);
        if (current.endedAt) throw new AppError('session_ended', 409, '该会话已结束，请重新开始。');
        socket.send(JSON.stringify({ type: 'state', state: 'thinking' }));
        avatar('thinking');
        const deltas = deltaPump(send, Boolean(flags.stream), extras.streamDelayMs ?? 25);
        let turn;
        try {
          turn = await opts.agent.runTurn(sessionId, citizenId, text, { onDelta: (piece) => deltas.push(piece), ...(flags.cardToken ? { cardToken: flags.cardToken } : {}) });
        } catch (err) {
          avatar('idle');
          throw err;
        }
        await deltas.drained();
        send({ type: 'turn', turn });
        // The short spoken form when the turn has one: the point; the details are on the screen.
        if (flags.speak && turn.reply) await speakReply(turn.speech ?? turn.reply);
        else avatar('idle');
      };

      const speakReply = async (reply: string) => {
        if (!extras.voice?.tts) return avatar('idle');
        try {
          const speech = await extras.voice.speak(reply);
          avatar('speaking', { durationSec: speech.durationSec });
          send({ type: 'speech', mime: speech.mime, durationSec: speech.durationSec, data: speech.audio.toString('base64') });
        } catch (err) {
          req.log.warn({ err }, 'tts failed');
          avatar('idle');
          send({ type: 'speech_unavailable', message: err instanceof AppError ? err.message : '语音播报暂不可用，请看屏幕上的文字。' });
        }
      };

      const runAudio = async (data: Buffer, hints: AudioHints, flags: { stream?: boolean | undefined; speak?: boolean | undefined }) => {
        if (!extras.voice?.asr) throw asrErrors.unavailable();
        await opts.turnLimit?.(req, principal);
        send({ type: 'state', state: 'transcribing' });
        avatar('thinking');
        let text: string;
        try {
          text = await extras.voice.transcribe(data, cleanHints(hints));
        } catch (err) {
          avatar('idle');
          throw err;
        }
        send({ type: 'transcript', text });
        await runText(text, flags);
      };

      // Turns start in the order their frames arrived: the checks before a turn are queries,
      // which on a pool of connections may finish in any order.
      let turns: Promise<void> = Promise.resolve();
      const inOrder = (work: () => Promise<void>): Promise<void> => {
        const next = turns.then(work);
        turns = next.catch(() => undefined);
        return next;
      };

      const handle = async (raw: Buffer, isBinary: boolean) => {
        if (isBinary) {
          if (!extras.voice) return sendError(socket, 'bad_frame', '请发送文字消息。');
          if (pending) {
            pending.bytes += raw.length;
            if (pending.bytes > extras.voice.limits.maxBytes) pending.tooLarge = true;
            else pending.chunks.push(Buffer.from(raw));
            return;
          }
          return inOrder(() => runAudio(Buffer.from(raw), {}, {}));
        }
        let frame: ClientFrame;
        try {
          frame = ClientFrame.parse(JSON.parse(raw.toString('utf8')));
        } catch {
          return sendError(socket, 'bad_frame', '消息格式不正确：需要 {"type":"message","text":"..."}。');
        }
        if (frame.type !== 'audio' && raw.length > MAX_FRAME_BYTES) {
          return sendError(socket, 'frame_too_large', '消息太大了，请精简后再发。');
        }
        switch (frame.type) {
          case 'ping':
            return socket.send(JSON.stringify({ type: 'pong' }));
          case 'auth':
            return sendError(socket, 'already_authenticated', '本连接已经登录；要换账号，请重新连接。');
          case 'message':
            return inOrder(async () => {
              await opts.turnLimit?.(req, principal);
              await runText(frame.text, frame);
            });
          case 'audio': {
            if (!extras.voice?.asr) throw asrErrors.unavailable();
            const maxB64 = Math.ceil((extras.voice.limits.maxBytes * 4) / 3) + 4;
            if (frame.data.length > maxB64) throw tooLarge(extras.voice);
            if (!/^[A-Za-z0-9+/=\r\n]*$/.test(frame.data)) throw new AppError('bad_audio', 400, '录音数据不正确（需要 base64），请重新录音。');
            return inOrder(() => runAudio(Buffer.from(frame.data, 'base64'), frame, frame));
          }
          case 'audio_start':
            if (!extras.voice?.asr) throw asrErrors.unavailable();
            pending = { hints: frame, chunks: [], bytes: 0, tooLarge: false };
            return avatar('listening');
          case 'audio_cancel':
            pending = null;
            return avatar('idle');
          case 'audio_end': {
            const clip = pending;
            pending = null;
            if (!clip) throw new AppError('bad_frame', 400, '没有正在进行的录音。');
            if (!extras.voice) throw asrErrors.unavailable();
            if (clip.tooLarge) {
              avatar('idle');
              throw tooLarge(extras.voice);
            }
            return inOrder(() => runAudio(Buffer.concat(clip.chunks), clip.hints, frame));
          }
          case 'avatar':
            return extras.live ? extras.live.broadcast(sessionId, { type: 'avatar', state: frame.state }, send) : undefined;
        }
      };

      socket.send(JSON.stringify({ type: 'ready', sessionId }));
      onFrame = (raw, isBinary) => {
        void handle(raw, isBinary).catch((err: unknown) => {
          if (err instanceof AppError) return sendError(socket, err.code, err.message);
          req.log.error({ err }, 'websocket turn failed');
          sendError(socket, 'internal', '系统繁忙，请稍后再试。');
        });
      };
      for (const [raw, isBinary] of early.drain()) onFrame(raw, isBinary);
    });
  });
}

/**
 * Frames sent in the same tick leave in one write: a turn's `delta`, `turn` and `avatar` frames
 * cost one system call instead of one each (ws writes every frame separately).
 */
function coalesceWrites(ws: WebSocket): void {
  const raw = (ws as unknown as { _socket?: { cork?: () => void; uncork?: () => void } })._socket;
  if (!raw || typeof raw.cork !== 'function' || typeof raw.uncork !== 'function') return;
  const send = ws.send.bind(ws) as (...args: unknown[]) => void;
  let corked = false;
  ws.send = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      raw.cork!();
      process.nextTick(() => {
        corked = false;
        raw.uncork!();
      });
    }
    send(...args);
  }) as WebSocket['send'];
}

interface AudioHints {
  format?: string | undefined;
  sampleRate?: number | undefined;
  channels?: number | undefined;
}

function cleanHints(h: AudioHints): { format?: string; sampleRate?: number; channels?: number } {
  return {
    ...(h.format !== undefined ? { format: h.format } : {}),
    ...(h.sampleRate !== undefined ? { sampleRate: h.sampleRate } : {}),
    ...(h.channels !== undefined ? { channels: h.channels } : {}),
  };
}

function tooLarge(voice: VoicePipeline): AppError {
  return new AppError('audio_too_large', 413, `录音太大了（最多 ${Math.round(voice.limits.maxBytes / 1024 / 1024)} MB），请说短一点再试。`);
}

/**
 * Sends the agent's reply pieces as `delta` frames. With `stream` (the pages ask for it) each
 * piece is split into short phrases sent a few tens of milliseconds apart (at most ~1.5 s per
 * piece), so the reply appears progressively even when the agent releases it in one piece.
 */
function deltaPump(send: (f: Record<string, unknown>) => void, paced: boolean, delayMs: number) {
  let chain: Promise<void> = Promise.resolve();
  return {
    push(piece: string): void {
      if (!paced) return send({ type: 'delta', text: piece });
      const parts = splitForStreaming(piece);
      const pause = Math.min(delayMs, 1500 / Math.max(1, parts.length));
      chain = chain.then(async () => {
        for (const text of parts) {
          send({ type: 'delta', text });
          if (pause > 0) await new Promise((r) => setTimeout(r, pause));
        }
      });
    },
    drained: (): Promise<void> => chain,
  };
}

export function splitForStreaming(text: string, size = 6): string[] {
  const out: string[] = [];
  const chars = [...text];
  let cur = '';
  for (const ch of chars) {
    cur += ch;
    if (/[，。！？；：、,.!?;:\n]/.test(ch) || [...cur].length >= size) {
      out.push(cur);
      cur = '';
    }
  }
  if (cur) out.push(cur);
  return out;
}
