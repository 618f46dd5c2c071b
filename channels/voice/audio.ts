import { AppError } from '../../core/errors.js';

/**
 * Audio a browser or kiosk sends: recognised by its bytes (never by what the client claims),
 * checked against size and duration limits, and described for the ASR provider. Raw 16-bit
 * PCM has no header, so it is wrapped into a WAV first.
 */
export type AudioFormat = 'wav' | 'webm' | 'ogg' | 'mp4' | 'mp3';

export interface AudioLimits {
  /** Largest clip accepted, in bytes (default 2 MB). */
  maxBytes: number;
  /** Longest clip accepted, in seconds (default 60). */
  maxSeconds: number;
}

export const DEFAULT_AUDIO_LIMITS: AudioLimits = { maxBytes: 2 * 1024 * 1024, maxSeconds: 60 };

export interface AudioClip {
  data: Buffer;
  format: AudioFormat;
  mime: string;
  /** File name with the right extension (OpenAI-compatible servers look at it). */
  filename: string;
  /** Seconds, when it can be read from the container; null when the container does not say. */
  durationSec: number | null;
}

const MIME: Record<AudioFormat, string> = {
  wav: 'audio/wav',
  webm: 'audio/webm',
  ogg: 'audio/ogg',
  mp4: 'audio/mp4',
  mp3: 'audio/mpeg',
};

const EXT: Record<AudioFormat, string> = { wav: 'wav', webm: 'webm', ogg: 'ogg', mp4: 'm4a', mp3: 'mp3' };

export const audioErrors = {
  empty: () => new AppError('audio_empty', 400, '没有收到声音，请按住按钮说话后再松开。'),
  tooLarge: (limits: AudioLimits) =>
    new AppError('audio_too_large', 413, `录音太大了（最多 ${Math.round(limits.maxBytes / 1024 / 1024)} MB），请说短一点再试。`),
  tooLong: (limits: AudioLimits) =>
    new AppError('audio_too_long', 413, `录音太长了（最多 ${limits.maxSeconds} 秒），请分几次说。`),
  tooShort: () => new AppError('audio_too_short', 400, '录音太短了，请按住按钮说完整的一句话。'),
  badFormat: () =>
    new AppError('bad_audio', 400, '无法识别这段录音的格式（支持 WebM/Opus、Ogg、MP4、MP3、WAV 或 16 位 PCM），请重新录音，或改为打字。'),
};

/** Recognises the container from its first bytes. */
export function detectAudioFormat(buf: Buffer): AudioFormat | null {
  if (buf.length < 12) return null;
  if (buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WAVE') return 'wav';
  if (buf.readUInt32BE(0) === 0x1a45dfa3) return 'webm';
  if (buf.toString('latin1', 0, 4) === 'OggS') return 'ogg';
  if (buf.toString('latin1', 4, 8) === 'ftyp') return 'mp4';
  if (buf.toString('latin1', 0, 3) === 'ID3') return 'mp3';
  if (buf[0] === 0xff && ((buf[1] ?? 0) & 0xe0) === 0xe0) return 'mp3';
  return null;
}

export interface WavInfo {
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  byteRate: number;
  /** Offset of the sample data. */
  dataOffset: number;
  /** Bytes of sample data actually present (a streamed WAV's header may claim more). */
  dataBytes: number;
  durationSec: number;
}

/** Reads a RIFF/WAVE header; tolerates the placeholder sizes a streaming writer leaves. */
export function parseWav(buf: Buffer): WavInfo | null {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') return null;
  let off = 12;
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes' | 'durationSec'> | null = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ' && body + 16 <= buf.length) {
      fmt = {
        audioFormat: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        byteRate: buf.readUInt32LE(body + 8),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt || fmt.byteRate === 0) return null;
      const dataBytes = Math.min(size, buf.length - body);
      return { ...fmt, dataOffset: body, dataBytes, durationSec: dataBytes / fmt.byteRate };
    }
    off = body + size + (size % 2);
  }
  return null;
}

/** A WAV whose RIFF and data sizes match the bytes present (espeak-ng --stdout leaves placeholders). */
export function normaliseWav(buf: Buffer): Buffer {
  const info = parseWav(buf);
  if (!info) throw new Error('not a WAV file');
  const out = Buffer.from(buf.subarray(0, info.dataOffset + info.dataBytes));
  out.writeUInt32LE(out.length - 8, 4);
  out.writeUInt32LE(info.dataBytes, info.dataOffset - 4);
  return out;
}

/** Wraps raw little-endian 16-bit PCM into a WAV container. */
export function pcm16ToWav(pcm: Buffer, sampleRate: number, channels = 1): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

// ---- durations from the container ---------------------------------------------------------

/** EBML variable-length integer at `off`: its length and value (value null = "unknown size"). */
function readVint(buf: Buffer, off: number, keepMarker: boolean): { len: number; value: number | null } | null {
  const first = buf[off];
  if (first === undefined || first === 0) return null;
  let len = 1;
  while (len <= 8 && !(first & (0x80 >> (len - 1)))) len++;
  if (len > 8 || off + len > buf.length) return null;
  let value = keepMarker ? first : first & (0xff >> len);
  let allOnes = value === 0xff >> len;
  for (let i = 1; i < len; i++) {
    const b = buf[off + i] as number;
    if (b !== 0xff) allOnes = false;
    value = value * 256 + b;
  }
  return { len, value: !keepMarker && allOnes ? null : value };
}

const EBML_MASTERS = new Set([
  0x18538067, // Segment
  0x1f43b675, // Cluster
  0x1549a966, // Info
  0xa0, // BlockGroup
]);

/**
 * Duration of a WebM/Matroska clip. MediaRecorder writes no Duration element and clusters of
 * unknown size, so the walk flattens the element tree and takes the latest block timecode.
 */
export function webmDurationSec(buf: Buffer): number | null {
  let off = 0;
  let scale = 1_000_000; // ns per timecode unit
  let declared: number | null = null;
  let cluster = 0;
  let latest = -1;
  let guard = 0;
  while (off < buf.length && guard++ < 1_000_000) {
    const id = readVint(buf, off, true);
    if (!id) break;
    const size = readVint(buf, off + id.len, false);
    if (!size) break;
    const body = off + id.len + size.len;
    if (EBML_MASTERS.has(id.value as number)) {
      off = body; // descend: children follow in the byte stream
      continue;
    }
    if (size.value === null) break; // unknown-size non-master: cannot continue safely
    const end = body + size.value;
    if (end > buf.length) {
      if (id.value === 0xa3 || id.value === 0xa1) readBlock(body);
      break;
    }
    switch (id.value) {
      case 0x2ad7b1: scale = readUint(body, size.value); break; // TimecodeScale
      case 0x4489: declared = size.value === 4 ? buf.readFloatBE(body) : size.value === 8 ? buf.readDoubleBE(body) : null; break; // Duration
      case 0xe7: cluster = readUint(body, size.value); break; // Cluster Timecode
      case 0xa3: case 0xa1: readBlock(body); break; // SimpleBlock, Block
      default: break;
    }
    off = end;
  }
  function readUint(at: number, len: number): number {
    let v = 0;
    for (let i = 0; i < len && i < 8; i++) v = v * 256 + (buf[at + i] as number);
    return v;
  }
  function readBlock(at: number): void {
    const track = readVint(buf, at, false);
    if (!track || at + track.len + 2 > buf.length) return;
    const rel = buf.readInt16BE(at + track.len);
    latest = Math.max(latest, cluster + rel);
  }
  if (declared !== null && declared > 0) return (declared * scale) / 1e9;
  if (latest < 0) return null;
  return (latest * scale) / 1e9;
}

/** Duration of an Ogg Opus clip from the last page's granule position (48 kHz). */
export function oggOpusDurationSec(buf: Buffer): number | null {
  if (buf.indexOf('OpusHead', 0, 'latin1') < 0) return null;
  const last = buf.lastIndexOf('OggS', buf.length - 1, 'latin1');
  if (last < 0 || last + 14 > buf.length) return null;
  const granule = Number(buf.readBigUInt64LE(last + 6));
  if (!Number.isFinite(granule) || granule <= 0) return null;
  return granule / 48_000;
}

/** Duration from an MP4 movie header (`mvhd`), when the recorder filled it in. */
export function mp4DurationSec(buf: Buffer): number | null {
  const at = buf.indexOf('mvhd', 0, 'latin1');
  if (at < 0) return null;
  const body = at + 4;
  const version = buf[body];
  try {
    if (version === 1) {
      const timescale = buf.readUInt32BE(body + 20);
      const duration = Number(buf.readBigUInt64BE(body + 24));
      return timescale > 0 && duration > 0 ? duration / timescale : null;
    }
    const timescale = buf.readUInt32BE(body + 12);
    const duration = buf.readUInt32BE(body + 16);
    return timescale > 0 && duration > 0 && duration !== 0xffffffff ? duration / timescale : null;
  } catch {
    return null;
  }
}

export interface ClipHints {
  /** `pcm16` declares headerless 16-bit little-endian PCM; anything else is sniffed. */
  format?: string;
  sampleRate?: number;
  channels?: number;
}

/**
 * Turns received bytes into a clip the ASR provider can take, or throws an AppError with a
 * Chinese message: empty, too large, unknown format, too long.
 */
export function prepareClip(data: Buffer, limits: AudioLimits = DEFAULT_AUDIO_LIMITS, hints: ClipHints = {}): AudioClip {
  if (data.length === 0) throw audioErrors.empty();
  if (data.length > limits.maxBytes) throw audioErrors.tooLarge(limits);
  let bytes = data;
  if (hints.format === 'pcm16' || hints.format === 'pcm') {
    const rate = hints.sampleRate ?? 16_000;
    if (!Number.isInteger(rate) || rate < 8000 || rate > 48_000) throw audioErrors.badFormat();
    bytes = pcm16ToWav(data, rate, hints.channels ?? 1);
  }
  const format = detectAudioFormat(bytes);
  if (!format) throw audioErrors.badFormat();
  let durationSec: number | null = null;
  switch (format) {
    case 'wav': {
      const info = parseWav(bytes);
      if (!info || info.dataBytes === 0) throw info ? audioErrors.empty() : audioErrors.badFormat();
      durationSec = info.durationSec;
      break;
    }
    case 'webm': durationSec = webmDurationSec(bytes); break;
    case 'ogg': durationSec = oggOpusDurationSec(bytes); break;
    case 'mp4': durationSec = mp4DurationSec(bytes); break;
    case 'mp3': durationSec = null; break;
  }
  if (durationSec !== null && durationSec > limits.maxSeconds) throw audioErrors.tooLong(limits);
  if (durationSec !== null && durationSec < 0.2) throw audioErrors.tooShort();
  return { data: bytes, format, mime: MIME[format], filename: `speech.${EXT[format]}`, durationSec };
}
