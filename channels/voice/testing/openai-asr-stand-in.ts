import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * TEST STAND-IN, not a speech recogniser. A local HTTP server speaking the OpenAI
 * transcription protocol (`POST /v1/audio/transcriptions`, multipart form with `file` and
 * `model` -> `{"text": "..."}`), so tests exercise the real OpenAI-compatible ASR client over
 * a real socket. It parses the multipart upload itself and answers with the transcript
 * registered for the sha256 of the uploaded file (or from a `<audio>.txt` sidecar).
 */
export interface ReceivedUpload {
  path: string;
  model: string;
  language: string | null;
  responseFormat: string | null;
  filename: string | null;
  contentType: string | null;
  bytes: number;
  sha256: string;
  authorization: string | null;
}

export interface MultipartPart {
  name: string;
  filename: string | null;
  contentType: string | null;
  data: Buffer;
}

/** A small, strict multipart/form-data parser (RFC 7578) for the stand-in. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new Error('multipart boundary missing');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new Error('multipart delimiter not found');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break; // closing delimiter
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') throw new Error('malformed multipart delimiter line');
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw new Error('multipart part without headers');
    const headers = body.subarray(pos, headerEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw new Error('multipart part not terminated');
    let name = '';
    let filename: string | null = null;
    let partType: string | null = null;
    for (const h of headers) {
      const [key, ...rest] = h.split(':');
      const value = rest.join(':').trim();
      if (key?.toLowerCase() === 'content-disposition') {
        name = /\bname="([^"]*)"/.exec(value)?.[1] ?? '';
        filename = /\bfilename="([^"]*)"/.exec(value)?.[1] ?? null;
      } else if (key?.toLowerCase() === 'content-type') partType = value;
    }
    if (!name) throw new Error('multipart part without a name');
    parts.push({ name, filename, contentType: partType, data: body.subarray(headerEnd + 4, next) });
    pos = next + 2;
  }
  return parts;
}

export interface AsrStandInOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Largest upload accepted (OpenAI's limit is 25 MB). */
  maxBytes?: number;
  /**
   * Transcript for uploads whose hash is not registered (e.g. a browser's own WebM recording,
   * whose bytes a test cannot know in advance). Unset: such uploads transcribe to "".
   */
  fallback?: (upload: ReceivedUpload) => string | undefined;
}

export class OpenAiAsrStandIn {
  readonly received: ReceivedUpload[] = [];
  private readonly transcripts = new Map<string, string>();
  private server: Server | null = null;
  private base = '';

  constructor(private readonly opts: AsrStandInOptions = {}) {}

  static sha256(data: Buffer): string {
    return createHash('sha256').update(data).digest('hex');
  }

  /** Answers uploads of exactly these bytes with `text`. */
  addTranscript(audio: Buffer, text: string): void {
    this.transcripts.set(OpenAiAsrStandIn.sha256(audio), text);
  }

  /** Registers `audioPath` with the transcript in its sidecar `audioPath + '.txt'`. */
  addSidecar(audioPath: string): void {
    const sidecar = `${audioPath}.txt`;
    if (!existsSync(sidecar)) throw new Error(`no transcript sidecar ${sidecar}`);
    this.addTranscript(readFileSync(audioPath), readFileSync(sidecar, 'utf8').trim());
  }

  /** e.g. `http://127.0.0.1:41234/v1`: what ASR_BASE_URL should be. */
  get baseUrl(): string {
    return this.base;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.base = `http://127.0.0.1:${port}/v1`;
    return this.base;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fail = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message, type: 'invalid_request_error' } }));
    };
    if (req.method !== 'POST' || !req.url?.endsWith('/audio/transcriptions')) return fail(404, 'not found');
    if (this.opts.apiKey && req.headers.authorization !== `Bearer ${this.opts.apiKey}`) return fail(401, 'bad api key');
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('multipart/form-data')) return fail(400, 'expected multipart/form-data');
    const chunks: Buffer[] = [];
    let size = 0;
    const max = this.opts.maxBytes ?? 25 * 1024 * 1024;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > max) return fail(413, 'file too large');
      chunks.push(chunk as Buffer);
    }
    let parts: MultipartPart[];
    try {
      parts = parseMultipart(Buffer.concat(chunks), type);
    } catch (err) {
      return fail(400, `bad multipart body: ${(err as Error).message}`);
    }
    const field = (name: string) => parts.find((p) => p.name === name && p.filename === null)?.data.toString('utf8') ?? null;
    const file = parts.find((p) => p.name === 'file' && p.filename !== null);
    const model = field('model');
    if (!file) return fail(400, "missing required parameter: 'file'");
    if (!model) return fail(400, "missing required parameter: 'model'");
    const sha256 = OpenAiAsrStandIn.sha256(file.data);
    const responseFormat = field('response_format');
    const upload: ReceivedUpload = {
      path: req.url,
      model,
      language: field('language'),
      responseFormat,
      filename: file.filename,
      contentType: file.contentType,
      bytes: file.data.length,
      sha256,
      authorization: req.headers.authorization ?? null,
    };
    this.received.push(upload);
    const text = this.transcripts.get(sha256) ?? this.opts.fallback?.(upload) ?? '';
    if (responseFormat === 'text') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ text }));
  }
}
