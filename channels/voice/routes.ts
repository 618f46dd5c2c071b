import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { MAX_TTS_CHARS } from './tts.js';
import type { VoicePipeline } from './pipeline.js';

const TtsBody = z.object({ text: z.string().max(MAX_TTS_CHARS * 2).describe('要播报的文字（最多 600 字）') });

export interface VoiceRoutesOptions {
  voice: VoicePipeline;
  /** Spoken replies per client address per minute (default 60). */
  ttsPerMinute?: number;
}

/**
 * `POST /api/tts {text}` -> audio/wav (espeak-ng or an OpenAI-compatible server), and
 * `GET /api/voice/status`, which pages read to offer or hide push-to-talk. The kiosk speaks
 * before anyone has logged in (the greeting), so TTS needs no token; it is size- and
 * rate-limited instead.
 */
export const voiceRoutes: FastifyPluginAsyncZod<VoiceRoutesOptions> = async (app, opts) => {
  const { voice } = opts;
  const perMinute = opts.ttsPerMinute ?? 60;
  const recent = new Map<string, number[]>();

  app.get('/api/voice/status', {
    schema: { tags: ['voice'], summary: '语音能力：是否可语音输入、语音播报，以及录音限制' },
  }, async () => voice.status());

  app.post('/api/tts', {
    bodyLimit: 16 * 1024,
    schema: {
      tags: ['voice'],
      summary: '把一段回复文字合成为语音（audio/wav）',
      body: TtsBody,
    },
  }, async (req, reply) => {
    const { text } = req.body;
    const now = Date.now();
    const times = (recent.get(req.ip) ?? []).filter((t) => now - t < 60_000);
    if (times.length >= perMinute) throw new AppError('rate_limited', 429, '语音播报请求太频繁，请稍后再试。');
    times.push(now);
    recent.set(req.ip, times);
    if (recent.size > 10_000) recent.clear();
    const speech = await voice.speak(text);
    return reply
      .header('content-type', speech.mime)
      .header('cache-control', 'no-store')
      .header('x-audio-duration', speech.durationSec?.toFixed(3) ?? '')
      .send(speech.audio);
  });
};
