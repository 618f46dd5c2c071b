import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWav } from '../../channels/voice/audio.js';
import { OpenAiAsrStandIn } from '../../channels/voice/testing/openai-asr-stand-in.js';
import { EspeakTts } from '../../channels/voice/tts.js';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium, newPage, screenshot, startServer, type RunningServer } from './harness.js';

/**
 * The voice path end to end: speech synthesised by espeak-ng is sent by the app page over its
 * session socket, transcribed by the OpenAI-compatible ASR client talking to a local stand-in
 * server (which parses the multipart upload and maps the audio's hash to its transcript
 * sidecar), and drives the agent to a submitted application. Replies come back as playable
 * WAV from /api/tts. Push-to-talk itself is exercised with chromium's fake microphone.
 */
// In CI (.ci/run installs espeak-ng) these run, and fail if it is missing; elsewhere they need it installed.
const hasEspeak = EspeakTts.available() || process.env.CI === 'true';
const hasSox = spawnSync('soxi', ['--help'], { stdio: 'ignore' }).error === undefined;

describe.skipIf(!hasChromium || !hasEspeak)('voice end to end', () => {
  let server: RunningServer;
  let browser: Browser;
  let dir: string;
  const standIn = new OpenAiAsrStandIn({
    apiKey: 'stand-in-key',
    // The browser's own recording (fake microphone) cannot be known by hash in advance.
    fallback: (u) => (u.contentType?.startsWith('audio/webm') || u.contentType?.startsWith('audio/ogg') ? '我要办社保卡' : undefined),
  });
  const clips = new Map<string, Buffer>();

  /** espeak-ng speech for `text`, with a transcript sidecar registered at the stand-in. */
  function speak(text: string): Buffer {
    const file = join(dir, `utt-${clips.size}.wav`);
    execFileSync('espeak-ng', ['-v', 'cmn', '-w', file, text]);
    writeFileSync(`${file}.txt`, text);
    standIn.addSidecar(file);
    const audio = readFileSync(file);
    clips.set(text, audio);
    return audio;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'voice-e2e-'));
    for (const t of ['我要开无犯罪记录证明', '出国留学用，去英国', '确认']) speak(t);
    // A longer clip for chromium's fake microphone.
    execFileSync('espeak-ng', ['-v', 'cmn', '-w', join(dir, 'mic.wav'), '我要办社保卡，我要办社保卡，我要办社保卡']);
    await standIn.start();
    [server, browser] = await Promise.all([
      startServer({ ASR_BASE_URL: standIn.baseUrl, ASR_API_KEY: 'stand-in-key', ASR_MODEL: 'whisper-large-v3' }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${join(dir, 'mic.wav')}`],
        timeout: 60_000,
      }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await standIn.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function loginAs(page: Page, name: RegExp): Promise<void> {
    await page.goto(`${server.baseUrl}/`);
    await page.getByRole('button', { name }).click();
    await page.getByText(/已登录：/).waitFor();
  }

  async function say(page: Page, text: string): Promise<void> {
    const b64 = clips.get(text)!.toString('base64');
    await page.evaluate((data) => {
      const bin = atob(data);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      (window as unknown as { xiaoshen: { sendAudio(b: Uint8Array, f: string): void } }).xiaoshen.sendAudio(bytes, 'wav');
    }, b64);
    await page.locator('.msg.citizen', { hasText: text }).filter({ hasText: '语音' }).last().waitFor();
  }

  it('espeak audio over the app socket -> ASR stand-in -> agent -> submitted application; TTS is playable WAV', async () => {
    const { page, errors, context } = await newPage(browser, { mobile: true });
    await loginAs(page, /孙明/);
    const before = standIn.received.length;

    await say(page, '我要开无犯罪记录证明');
    await page.locator('.card-choices').last().waitFor();
    await say(page, '出国留学用，去英国');
    const confirm = page.locator('.card-confirm').last();
    await confirm.getByText('英国', { exact: true }).waitFor();
    await say(page, '确认');
    const receipt = page.locator('.card-receipt').last();
    await receipt.waitFor();
    await receipt.getByText('已办结').waitFor();
    const applicationId = (await receipt.locator('.application-id').textContent())?.trim() ?? '';
    expect(applicationId).toMatch(/^SA\d+/);
    await screenshot(page, 'voice-1-receipt');

    // The stand-in really received three multipart uploads of exactly those clips.
    const uploads = standIn.received.slice(before);
    expect(uploads).toHaveLength(3);
    for (const [i, text] of ['我要开无犯罪记录证明', '出国留学用，去英国', '确认'].entries()) {
      expect(uploads[i]).toMatchObject({
        model: 'whisper-large-v3', language: 'zh', contentType: 'audio/wav', filename: 'speech.wav',
        sha256: OpenAiAsrStandIn.sha256(clips.get(text)!), authorization: 'Bearer stand-in-key',
      });
    }
    const { rows } = await server.ctx.db.pool.query<{ status: string }>('SELECT status FROM applications WHERE id = $1', [applicationId]);
    expect(rows[0]?.status).toBe('issued');

    // The reply, spoken: a WAV with a positive duration.
    const reply = (await page.locator('.msg.agent .bubble').last().textContent()) ?? '';
    const res = await fetch(`${server.baseUrl}/api/tts`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: reply }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await res.arrayBuffer());
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wav.toString('latin1', 8, 12)).toBe('WAVE');
    const seconds = parseWav(wav)?.durationSec ?? 0;
    expect(seconds).toBeGreaterThan(1);
    if (hasSox) {
      const file = join(dir, 'reply.wav');
      writeFileSync(file, wav);
      expect(Number(execFileSync('soxi', ['-D', file]).toString().trim())).toBeGreaterThan(1);
    }
    // Too long a text is refused with a Chinese message.
    const tooLong = await fetch(`${server.baseUrl}/api/tts`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: '长'.repeat(700) }),
    });
    expect(tooLong.status).toBe(413);
    expect(((await tooLong.json()) as { error: { message: string } }).error.message).toMatch(/太长/);

    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('push-to-talk records with MediaRecorder and the recording reaches the ASR stand-in', async () => {
    const { page, errors, context } = await newPage(browser);
    await context.grantPermissions(['microphone'], { origin: server.baseUrl });
    await loginAs(page, /林晓/);
    const before = standIn.received.length;
    const mic = page.locator('#mic');
    const box = (await mic.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.locator('#mic[aria-pressed="true"]').waitFor();
    await page.waitForTimeout(2500);
    await page.mouse.up();
    await page.locator('.msg.citizen', { hasText: '我要办社保卡' }).filter({ hasText: '语音' }).waitFor();
    await page.locator('.card-choices').last().waitFor();
    const upload = standIn.received.slice(before)[0]!;
    expect(upload.contentType).toMatch(/^audio\/(webm|ogg)/);
    expect(upload.bytes).toBeGreaterThan(1000);
    await screenshot(page, 'voice-2-push-to-talk');
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('bad and oversized audio get clear Chinese errors', async () => {
    const { page, context } = await newPage(browser);
    await loginAs(page, /王强/);
    const send = (size: number, fill: number) => page.evaluate(([n, v]) => {
      (window as unknown as { xiaoshen: { sendAudio(b: Uint8Array): void } }).xiaoshen.sendAudio(new Uint8Array(n!).fill(v!));
    }, [size, fill]);
    await send(5000, 7);
    await page.locator('#chat-alert', { hasText: '无法识别这段录音的格式' }).waitFor();
    await send(2.5 * 1024 * 1024, 0);
    await page.locator('#chat-alert', { hasText: '录音太大了' }).waitFor();
    await context.close();
  }, 120_000);
});
