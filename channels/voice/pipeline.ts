import { createHash } from 'node:crypto';
import { asrErrors, createAsr, type AsrConfig, type AsrProvider } from './asr.js';
import { DEFAULT_AUDIO_LIMITS, prepareClip, type AudioLimits, type ClipHints } from './audio.js';
import { createTts, MAX_TTS_CHARS, speakableText, ttsErrors, type SpeechAudio, type TtsConfig, type TtsProvider } from './tts.js';

export interface VoiceStatus {
  /** Voice input is possible (an ASR provider is configured). */
  asr: boolean;
  asrProvider: string | null;
  /** Spoken replies are possible. */
  tts: boolean;
  ttsProvider: string | null;
  maxAudioBytes: number;
  maxAudioSeconds: number;
  /** Shown when `asr` is false. */
  message: string | null;
}

/**
 * Audio in -> text, text -> audio: the one place channels (the session socket, the TTS route)
 * go through, so limits and Chinese error messages are the same everywhere.
 */
export class VoicePipeline {
  private readonly cache = new Map<string, SpeechAudio>();

  constructor(
    readonly asr: AsrProvider | null,
    readonly tts: TtsProvider | null,
    readonly limits: AudioLimits = DEFAULT_AUDIO_LIMITS,
  ) {}

  static fromConfig(config: AsrConfig & TtsConfig, limits?: AudioLimits): VoicePipeline {
    return new VoicePipeline(createAsr(config), createTts(config), limits);
  }

  status(): VoiceStatus {
    return {
      asr: this.asr !== null,
      asrProvider: this.asr?.name ?? null,
      tts: this.tts !== null,
      ttsProvider: this.tts?.name ?? null,
      maxAudioBytes: this.limits.maxBytes,
      maxAudioSeconds: this.limits.maxSeconds,
      message: this.asr ? null : asrErrors.unavailable().message,
    };
  }

  /** Checks the clip and returns what was said. AppError (Chinese) on every failure. */
  async transcribe(data: Buffer, hints: ClipHints = {}, signal?: AbortSignal): Promise<string> {
    if (!this.asr) throw asrErrors.unavailable();
    const clip = prepareClip(data, this.limits, hints);
    const text = await this.asr.transcribe(clip, signal ? { signal } : {});
    if (!text) throw asrErrors.empty();
    return text;
  }

  /** Speech for a reply. Identical texts (greetings, prompts) are served from a small cache. */
  async speak(text: string, signal?: AbortSignal): Promise<SpeechAudio> {
    // What was asked is checked first: empty text is the caller's error (400) on any server,
    // whether or not it can speak.
    const clean = speakableText(text);
    if (!clean) throw ttsErrors.empty();
    if (clean.length > MAX_TTS_CHARS) throw ttsErrors.tooLong();
    if (!this.tts) throw ttsErrors.unavailable();
    const key = createHash('sha256').update(clean).digest('hex');
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const audio = await this.tts.synthesize(clean, signal ? { signal } : {});
    this.cache.set(key, audio);
    while (this.cache.size > 64) this.cache.delete(this.cache.keys().next().value as string);
    return audio;
  }
}
