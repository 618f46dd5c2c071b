import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { OpenAiCompatibleAsr, createAsr, VOICE_UNAVAILABLE_MESSAGE } from './asr.js';
import { detectAudioFormat, normaliseWav, parseWav, pcm16ToWav, prepareClip, webmDurationSec } from './audio.js';
import { VoicePipeline } from './pipeline.js';
import { EspeakTts, createTts } from './tts.js';
import { OpenAiAsrStandIn, parseMultipart } from './testing/openai-asr-stand-in.js';

// In CI (.ci/run installs espeak-ng) these run, and fail if it is missing; elsewhere they need it installed.
const hasEspeak = EspeakTts.available() || process.env.CI === 'true';
const hasSox = spawnSync('soxi', ['-V0', '--help'], { stdio: 'ignore' }).error === undefined;

function tone(seconds: number, rate = 16_000): Buffer {
  const pcm = Buffer.alloc(Math.round(seconds * rate) * 2);
  for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  return pcm;
}

async function rejects(p: Promise<unknown> | (() => unknown)): Promise<AppError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

describe('audio checks', () => {
  it('recognises WAV, wraps raw PCM, and reads the duration', () => {
    const wav = pcm16ToWav(tone(1.5), 16_000);
    expect(detectAudioFormat(wav)).toBe('wav');
    expect(parseWav(wav)?.durationSec).toBeCloseTo(1.5, 3);
    const clip = prepareClip(tone(2), undefined, { format: 'pcm16', sampleRate: 16_000 });
    expect(clip.format).toBe('wav');
    expect(clip.mime).toBe('audio/wav');
    expect(clip.durationSec).toBeCloseTo(2, 3);
  });

  it('refuses empty, oversized, overlong and unknown audio with Chinese messages', async () => {
    expect((await rejects(() => prepareClip(Buffer.alloc(0)))).code).toBe('audio_empty');
    const big = await rejects(() => prepareClip(Buffer.alloc(3 * 1024 * 1024, 1)));
    expect(big.code).toBe('audio_too_large');
    expect(big.message).toContain('2 MB');
    const long = await rejects(() => prepareClip(pcm16ToWav(tone(61, 8000), 8000)));
    expect(long.code).toBe('audio_too_long');
    expect(long.message).toContain('60 秒');
    const junk = await rejects(() => prepareClip(Buffer.from('这不是音频，只是一些文字而已，长度足够')));
    expect(junk.code).toBe('bad_audio');
    expect(junk.message).toMatch(/录音/);
  });

  it('fixes the placeholder sizes a streaming WAV writer leaves', () => {
    const wav = pcm16ToWav(tone(0.5), 16_000);
    const streamed = Buffer.from(wav);
    streamed.writeUInt32LE(0x7ffff000, 4);
    streamed.writeUInt32LE(0x7ffff000, 40);
    const fixed = normaliseWav(streamed);
    expect(fixed.readUInt32LE(4)).toBe(fixed.length - 8);
    expect(fixed.readUInt32LE(40)).toBe(fixed.length - 44);
    expect(parseWav(fixed)?.durationSec).toBeCloseTo(0.5, 3);
  });

  it('reads the duration of a MediaRecorder-style WebM (no Duration, unknown-size clusters)', () => {
    const ebml = (id: number[], body: Buffer) => {
      const size = body.length;
      return Buffer.concat([Buffer.from(id), Buffer.from([0x40 | (size >> 8), size & 0xff]), body]);
    };
    const unknownSize = (id: number[], body: Buffer) => Buffer.concat([Buffer.from(id), Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), body]);
    const block = (rel: number) => ebml([0xa3], Buffer.from([0x81, (rel >> 8) & 0xff, rel & 0xff, 0x80, 1, 2, 3]));
    const cluster = (tc: number, rels: number[]) =>
      unknownSize([0x1f, 0x43, 0xb6, 0x75], Buffer.concat([ebml([0xe7], Buffer.from([(tc >> 8) & 0xff, tc & 0xff])), ...rels.map(block)]));
    const header = ebml([0x1a, 0x45, 0xdf, 0xa3], Buffer.from([0x42, 0x82, 0x84, 0x77, 0x65, 0x62, 0x6d]));
    const info = ebml([0x15, 0x49, 0xa9, 0x66], ebml([0x2a, 0xd7, 0xb1], Buffer.from([0x0f, 0x42, 0x40])));
    const webm = Buffer.concat([header, unknownSize([0x18, 0x53, 0x80, 0x67], Buffer.concat([info, cluster(0, [0, 20, 40]), cluster(5000, [0, 1200])]))]);
    expect(detectAudioFormat(webm)).toBe('webm');
    expect(webmDurationSec(webm)).toBeCloseTo(6.2, 2);
  });
});

describe('OpenAI-compatible ASR against the local stand-in server', () => {
  const standIn = new OpenAiAsrStandIn({ apiKey: 'test-asr-key' });
  beforeAll(async () => { await standIn.start(); });
  afterAll(async () => { await standIn.stop(); });

  it('uploads a multipart form with file and model, and returns the transcript', async () => {
    const wav = pcm16ToWav(tone(1), 16_000);
    standIn.addTranscript(wav, '我要开无犯罪记录证明');
    const asr = createAsr({ ASR_BASE_URL: standIn.baseUrl, ASR_API_KEY: 'test-asr-key', ASR_MODEL: 'whisper-1' });
    expect(asr).toBeInstanceOf(OpenAiCompatibleAsr);
    const text = await asr!.transcribe(prepareClip(wav));
    expect(text).toBe('我要开无犯罪记录证明');
    const got = standIn.received.at(-1)!;
    expect(got).toMatchObject({ model: 'whisper-1', language: 'zh', filename: 'speech.wav', contentType: 'audio/wav', bytes: wav.length });
    expect(got.path).toBe('/v1/audio/transcriptions');
    expect(got.sha256).toBe(OpenAiAsrStandIn.sha256(wav));
  });

  it('turns a refused or unreachable server into a Chinese error', async () => {
    const wrongKey = new OpenAiCompatibleAsr({ baseUrl: standIn.baseUrl, apiKey: 'nope', model: 'whisper-1' });
    expect((await rejects(wrongKey.transcribe(prepareClip(pcm16ToWav(tone(1), 16_000))))).code).toBe('asr_failed');
    const down = new OpenAiCompatibleAsr({ baseUrl: 'http://127.0.0.1:9/v1', model: 'whisper-1', timeoutMs: 2000 });
    expect((await rejects(down.transcribe(prepareClip(pcm16ToWav(tone(1), 16_000))))).message).toMatch(/语音识别/);
  });

  it('the pipeline says voice is unavailable when no ASR is configured, and "没听清" for silence', async () => {
    const none = new VoicePipeline(null, null);
    const e = await rejects(none.transcribe(pcm16ToWav(tone(1), 16_000)));
    expect(e.code).toBe('voice_unavailable');
    expect(e.message).toBe(VOICE_UNAVAILABLE_MESSAGE);
    expect(none.status()).toMatchObject({ asr: false, message: '语音输入暂不可用，请打字或点按。' });
    const withAsr = new VoicePipeline(createAsr({ ASR_BASE_URL: standIn.baseUrl, ASR_API_KEY: 'test-asr-key', ASR_MODEL: 'm' }), null);
    expect((await rejects(withAsr.transcribe(pcm16ToWav(tone(0.7), 16_000))))).toMatchObject({ code: 'asr_empty' });
  });

  it('the stand-in rejects an upload without a model, like the real API', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array([1, 2, 3])], { type: 'audio/wav' }), 'a.wav');
    const res = await fetch(`${standIn.baseUrl}/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: 'Bearer test-asr-key' } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('model');
  });

  it('parses multipart bodies strictly', () => {
    const body = Buffer.from('--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="x.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--b--\r\n');
    const parts = parseMultipart(body, 'multipart/form-data; boundary=b');
    expect(parts.map((p) => [p.name, p.filename, p.data.toString()])).toEqual([['model', null, 'whisper-1'], ['file', 'x.wav', 'RIFF']]);
    expect(() => parseMultipart(Buffer.from('garbage'), 'multipart/form-data; boundary=b')).toThrow();
  });
});

describe.skipIf(!hasEspeak)('local espeak-ng TTS', () => {
  it('speaks Mandarin as a well-formed WAV with a positive duration', async () => {
    const tts = createTts({ TTS_MODEL: 'tts-1' });
    expect(tts?.name).toBe('espeak-ng');
    const speech = await tts!.synthesize('已为您提交老年综合津贴申请。');
    expect(speech.mime).toBe('audio/wav');
    expect(speech.audio.toString('latin1', 0, 4)).toBe('RIFF');
    expect(speech.audio.toString('latin1', 8, 12)).toBe('WAVE');
    expect(speech.audio.readUInt32LE(4)).toBe(speech.audio.length - 8);
    expect(speech.durationSec).toBeGreaterThan(0.5);
    if (hasSox) {
      const dir = mkdtempSync(join(tmpdir(), 'tts-'));
      try {
        writeFileSync(join(dir, 'a.wav'), speech.audio);
        const soxSeconds = Number(execFileSync('soxi', ['-D', join(dir, 'a.wav')]).toString().trim());
        expect(soxSeconds).toBeCloseTo(speech.durationSec!, 1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('takes text on stdin, so text that looks like an option is just spoken', async () => {
    const speech = await new EspeakTts().synthesize('--help 你好');
    expect(parseWav(speech.audio)?.durationSec).toBeGreaterThan(0.3);
  });

  it('the pipeline refuses empty and overlong text', async () => {
    const voice = new VoicePipeline(null, new EspeakTts());
    expect((await rejects(voice.speak('  '))).code).toBe('bad_request');
    expect((await rejects(voice.speak('字'.repeat(601)))).code).toBe('tts_too_long');
    // The same on a server that cannot speak: the caller's error first (never a 503 for empty text).
    const mute = new VoicePipeline(null, null);
    expect((await rejects(mute.speak(''))).code).toBe('bad_request');
    expect((await rejects(mute.speak('你好'))).code).toBe('tts_unavailable');
  });
});

// Keep the fixture helper honest: espeak output is what the e2e voice test sends.
describe.skipIf(!hasEspeak)('espeak fixture', () => {
  it('produces audio the app accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'espeak-'));
    try {
      const file = join(dir, 'q.wav');
      execFileSync('espeak-ng', ['-v', 'cmn', '-w', file, '我要开无犯罪记录证明']);
      const clip = prepareClip(readFileSync(file));
      expect(clip.format).toBe('wav');
      expect(clip.durationSec).toBeGreaterThan(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
