import { spawn, spawnSync } from 'node:child_process';
import { AppError } from '../../core/errors.js';
import { normaliseWav, parseWav } from './audio.js';
import { postSpeech } from './provider-http.js';

/** Text to speech. One interface; the provider is chosen from configuration at the edge. */
export interface TtsProvider {
  readonly name: string;
  /** Audio for `text` (already checked for length). Throws AppError on failure. */
  synthesize(text: string, opts?: { signal?: AbortSignal }): Promise<SpeechAudio>;
}

export interface SpeechAudio {
  audio: Buffer;
  mime: string;
  /** Seconds, when known (WAV). */
  durationSec: number | null;
}

/** Longest text spoken in one request. */
export const MAX_TTS_CHARS = 600;
/** Largest audio returned by a provider. */
export const MAX_TTS_BYTES = 8 * 1024 * 1024;

export const ttsErrors = {
  unavailable: () => new AppError('tts_unavailable', 503, '语音播报暂不可用，请看屏幕上的文字。'),
  failed: () => new AppError('tts_failed', 502, '语音播报暂时出了点问题，请看屏幕上的文字。'),
  empty: () => new AppError('bad_request', 400, '没有要播报的文字。'),
  tooLong: () => new AppError('tts_too_long', 413, `要播报的文字太长了（最多 ${MAX_TTS_CHARS} 字）。`),
};

/** What is read aloud: no markup brackets, collapsed whitespace. */
export function speakableText(text: string): string {
  return text
    .replace(/[「」『』【】<>]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function wavAudio(buf: Buffer): SpeechAudio {
  const wav = normaliseWav(buf);
  return { audio: wav, mime: 'audio/wav', durationSec: parseWav(wav)?.durationSec ?? null };
}

export interface OpenAiTtsOptions {
  baseUrl: string;
  apiKey?: string;
  model: string;
  voice?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The OpenAI-compatible `POST {base}/audio/speech` `{model, input, voice, response_format:"wav"}`. */
export class OpenAiCompatibleTts implements TtsProvider {
  readonly name = 'openai-compatible';
  constructor(private readonly opts: OpenAiTtsOptions) {}

  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<SpeechAudio> {
    const res = await postSpeech(this.opts, 'audio/speech', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: this.opts.model, input: text, voice: this.opts.voice ?? 'alloy', response_format: 'wav' }),
      signal: opts.signal,
    }, ttsErrors.failed);
    const audio = Buffer.from(await res.arrayBuffer());
    if (audio.length === 0 || audio.length > MAX_TTS_BYTES) throw ttsErrors.failed();
    if (parseWav(audio)) return wavAudio(audio);
    return { audio, mime: res.headers.get('content-type') ?? 'application/octet-stream', durationSec: null };
  }
}

export interface EspeakOptions {
  /** Executable (default `espeak-ng`). */
  command?: string;
  /** Voice (default `cmn`, Mandarin). */
  voice?: string;
  /** Words per minute; a little slower than espeak's 175 for older listeners. */
  speed?: number;
  timeoutMs?: number;
  /** At most this many synthesiser processes at once. */
  concurrency?: number;
}

/** Local Mandarin speech with `espeak-ng -v cmn`, as WAV. Text goes in on stdin, never as an argument. */
export class EspeakTts implements TtsProvider {
  readonly name = 'espeak-ng';
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly opts: EspeakOptions = {}) {}

  static available(command = 'espeak-ng'): boolean {
    try {
      return spawnSync(command, ['--version'], { stdio: 'ignore', timeout: 5000 }).status === 0;
    } catch {
      return false;
    }
  }

  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<SpeechAudio> {
    await this.acquire();
    try {
      return wavAudio(await this.run(text, opts.signal));
    } finally {
      this.release();
    }
  }

  private run(text: string, signal?: AbortSignal): Promise<Buffer> {
    const args = ['-v', this.opts.voice ?? 'cmn', '-s', String(this.opts.speed ?? 150), '--stdout', '--stdin'];
    return new Promise((resolve, reject) => {
      const child = spawn(this.opts.command ?? 'espeak-ng', args, { stdio: ['pipe', 'pipe', 'ignore'] });
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const finish = (err: AppError | null, buf?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          child.kill('SIGKILL');
          reject(err);
        } else resolve(buf as Buffer);
      };
      const onAbort = () => finish(ttsErrors.failed());
      const timer = setTimeout(onAbort, this.opts.timeoutMs ?? 20_000);
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', () => finish(ttsErrors.unavailable()));
      child.stdout.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_TTS_BYTES) return finish(ttsErrors.tooLong());
        chunks.push(c);
      });
      child.on('close', (code) => {
        if (code !== 0) return finish(ttsErrors.failed());
        const buf = Buffer.concat(chunks);
        if (!parseWav(buf)) return finish(ttsErrors.failed());
        finish(null, buf);
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(text, 'utf8');
    });
  }

  private acquire(): Promise<void> {
    const limit = this.opts.concurrency ?? 2;
    if (this.running < limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => { this.running++; resolve(); }));
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}

export interface TtsConfig {
  TTS_BASE_URL?: string | undefined;
  TTS_API_KEY?: string | undefined;
  TTS_MODEL: string;
}

/** OpenAI-compatible when configured, else local espeak-ng when installed, else none. */
export function createTts(config: TtsConfig, espeak: EspeakOptions = {}): TtsProvider | null {
  if (config.TTS_BASE_URL) {
    return new OpenAiCompatibleTts({
      baseUrl: config.TTS_BASE_URL,
      model: config.TTS_MODEL,
      ...(config.TTS_API_KEY ? { apiKey: config.TTS_API_KEY } : {}),
    });
  }
  return EspeakTts.available(espeak.command) ? new EspeakTts(espeak) : null;
}
