import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../core/config.js';
import type { Logger } from 'pino';
import type pg from 'pg';
import { LiveHub, type LiveEventSource } from '../live/hub.js';
import type { SessionSocketExtras } from '../sessions/messages.js';
import { VoicePipeline } from '../voice/pipeline.js';
import { voiceRoutes } from '../voice/routes.js';
import { webPages } from './plugin.js';

/**
 * Everything the citizen-facing channels add to the server, in one place for buildServer:
 *
 *     const channels = createChannelKit(ctx);
 *     await app.register(sessionRoutes, { ..., socket: channels.socket });
 *     await app.register(channelRoutes, { kit: channels });
 *     app.addHook('onClose', async () => channels.close());
 */
export interface ChannelKit {
  config: ChannelConfig;
  voice: VoicePipeline;
  live: LiveHub;
  /** For sessionRoutes' `socket` option: voice frames, live delivery, streamed replies. */
  socket: SessionSocketExtras;
  close(): void;
}

export type ChannelConfig = Pick<Config,
  'NODE_ENV' | 'KIOSK_IDLE_SECONDS' | 'KIOSK_DEVICE_KEY' | 'ASR_BASE_URL' | 'ASR_API_KEY' | 'ASR_MODEL' | 'TTS_BASE_URL' | 'TTS_API_KEY' | 'TTS_MODEL'>;

export interface ChannelKitContext {
  config: ChannelConfig;
  db: { pool: pg.Pool };
  /** GovService.events: staff replies and decisions made on this instance arrive at once. */
  gov?: { events: LiveEventSource };
  log?: Logger;
}

export function createChannelKit(ctx: ChannelKitContext, opts: { voice?: VoicePipeline; liveIntervalMs?: number } = {}): ChannelKit {
  const voice = opts.voice ?? VoicePipeline.fromConfig(ctx.config);
  const live = new LiveHub({
    pool: ctx.db.pool,
    ...(opts.liveIntervalMs ? { intervalMs: opts.liveIntervalMs } : {}),
    ...(ctx.gov ? { events: ctx.gov.events } : {}),
    ...(ctx.log ? { log: ctx.log.child({ component: 'live' }) } : {}),
  });
  ctx.log?.info({ voice: voice.status() }, 'channels ready');
  return { config: ctx.config, voice, live, socket: { voice, live }, close: () => live.close() };
}

/** The pages (`/`, `/kiosk`, `/staff`, `/static/*`, `/api/web/config`) and voice routes (`/api/tts`, `/api/voice/status`). */
export const channelRoutes: FastifyPluginAsync<{ kit: ChannelKit }> = async (app, { kit }) => {
  await app.register(webPages, { config: kit.config, voice: kit.voice });
  await app.register(voiceRoutes, { voice: kit.voice });
};
