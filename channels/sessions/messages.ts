import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError, badRequest } from '../../core/errors.js';
import type { AgentRuntime } from '../../agent/runtime.js';
import type { Principal } from '../../tools/identity/principal.js';
import type { IdentityProvider } from '../../tools/identity/provider.js';
import { checkText } from '../../tools/validation.js';
import type { LiveHub } from '../live/hub.js';
import type { VoicePipeline } from '../voice/pipeline.js';
import type { SessionStore } from './store.js';

/** The longest message a citizen can send; more is almost certainly a paste by mistake. */
export const MAX_MESSAGE_CHARS = 2000;

/**
 * Optional capabilities of the session socket. All additive: a client that sends only
 * `message`/`ping` frames gets the same `ready`, `state`, `delta`, `turn`, `pong` and `error`
 * frames as without them, plus frame types it may ignore (`avatar`; `staff_message`,
 * `handoff`, `application` when staff act on its case).
 */
export interface SessionSocketExtras {
  /** Voice input (`audio` frames, binary frames) and spoken replies (`speak: true`). */
  voice?: VoicePipeline;
  /** Live delivery of staff replies and application decisions; avatar relay between sockets. */
  live?: LiveHub;
  /** Pause between paced `delta` pieces for clients that ask for `stream: true`, ms (default 25). */
  streamDelayMs?: number;
}

export interface SessionRoutesOptions {
  /** The agent (or a wrapper of it, e.g. channels/metrics instrumentAgent). */
  agent: Pick<AgentRuntime, 'runTurn' | 'view' | 'open'>;
  sessions: SessionStore;
  /** The caller's identity from the bearer token, or null when there is none. Throws 401 on a bad token. */
  principalOf: (req: FastifyRequest) => Promise<Principal | null>;
  maxSessionsPerCitizen?: number;
  /** Optional socket capabilities (voice, live delivery, streaming); see channels/sessions/socket.ts. */
  socket?: SessionSocketExtras;
  /**
   * Per-identity limit on what costs a turn (a new session, a message, a voice clip), over
   * HTTP and the WebSocket alike; throws a 429 AppError. See channels/security.
   */
  turnLimit?: (req: FastifyRequest, principal: Principal | null) => Promise<void>;
  /**
   * Kiosk visits: the token a session was opened with is taken back when the visit ends
   * (DELETE) or when the server's idle sweep finds it unused for `kioskIdleSeconds`.
   */
  tokens?: Pick<IdentityProvider, 'tokenInfo' | 'revoke' | 'revokeId'>;
  kioskIdleSeconds?: number;
}

/** A citizen message: its text, and the token of the card when it comes from a card's button. */
export const MessageBody = z.object({
  text: z.string().max(MAX_MESSAGE_CHARS * 2).describe('市民说的话（语音识别后的文字也走这里）'),
  cardToken: z.string().min(1).max(64).optional().describe('消息来自卡片按钮时，该卡片的 token；卡片已过期则返回 409'),
});

/** The message text, checked: present, clean, not too long. */
export function parseMessageText(body: unknown): string {
  checkText(body);
  const parsed = z.object({ text: z.string() }).safeParse(body);
  if (!parsed.success) throw badRequest('请求格式不正确：需要 {"text": "..."}。');
  const text = parsed.data.text.trim();
  if (!text) throw badRequest('消息不能为空，请说说您想办什么事。');
  if (text.length > MAX_MESSAGE_CHARS) {
    throw new AppError('message_too_long', 413, `消息太长了（最多 ${MAX_MESSAGE_CHARS} 字），请精简后再发。`);
  }
  return text;
}
