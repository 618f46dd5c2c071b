import { AppError } from '../../core/errors.js';
import type { AudioClip } from './audio.js';
import { postSpeech } from './provider-http.js';

/** Speech to text. One interface; the provider is chosen from configuration at the edge. */
export interface AsrProvider {
  /** For logs and `GET /api/voice/status`, e.g. `openai-compatible`. */
  readonly name: string;
  /** The transcript (may be empty when nothing intelligible was said). Throws AppError on failure. */
  transcribe(clip: AudioClip, opts?: { language?: string; signal?: AbortSignal }): Promise<string>;
}

/** What a citizen is told when no ASR provider is configured. */
export const VOICE_UNAVAILABLE_MESSAGE = '语音输入暂不可用，请打字或点按。';

export const asrErrors = {
  unavailable: () => new AppError('voice_unavailable', 503, VOICE_UNAVAILABLE_MESSAGE),
  failed: () => new AppError('asr_failed', 502, '语音识别暂时出了点问题，请再说一次，或改为打字、点按。'),
  empty: () => new AppError('asr_empty', 422, '没听清您说的话，请靠近一点再说一次，或改为打字、点按。'),
};

export interface OpenAiAsrOptions {
  /** Base URL ending before `/audio/transcriptions`, e.g. `https://api.example.com/v1`. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * The OpenAI-compatible `POST {base}/audio/transcriptions`: a multipart form with `file` and
 * `model` (plus `language`, `response_format=json`), answered by `{"text": "..."}`. Whisper
 * servers, vLLM, FunASR/SenseVoice gateways and most hosted APIs speak it.
 */
export class OpenAiCompatibleAsr implements AsrProvider {
  readonly name = 'openai-compatible';
  constructor(private readonly opts: OpenAiAsrOptions) {}

  async transcribe(clip: AudioClip, opts: { language?: string; signal?: AbortSignal } = {}): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(clip.data)], { type: clip.mime }), clip.filename);
    form.append('model', this.opts.model);
    form.append('language', opts.language ?? 'zh');
    form.append('response_format', 'json');
    const res = await postSpeech(this.opts, 'audio/transcriptions', { body: form, signal: opts.signal }, asrErrors.failed);
    const type = res.headers.get('content-type') ?? '';
    const raw = await res.text();
    if (type.includes('json') || raw.trimStart().startsWith('{')) {
      try {
        const body = JSON.parse(raw) as { text?: unknown };
        if (typeof body.text !== 'string') throw new Error('no text');
        return body.text.trim();
      } catch {
        throw asrErrors.failed();
      }
    }
    return raw.trim(); // response_format=text servers
  }
}

export interface AsrConfig {
  ASR_BASE_URL?: string | undefined;
  ASR_API_KEY?: string | undefined;
  ASR_MODEL: string;
}

/** The configured provider, or null: voice input is then declined with VOICE_UNAVAILABLE_MESSAGE. */
export function createAsr(config: AsrConfig): AsrProvider | null {
  if (!config.ASR_BASE_URL) return null;
  return new OpenAiCompatibleAsr({
    baseUrl: config.ASR_BASE_URL,
    model: config.ASR_MODEL,
    ...(config.ASR_API_KEY ? { apiKey: config.ASR_API_KEY } : {}),
  });
}
