import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../core/config.js';
import { notFound } from '../../core/errors.js';
import { DEMO_KIOSK_DEVICE_KEY } from '../../tools/identity/identity-provider.js';
import type { VoicePipeline } from '../voice/pipeline.js';

/** The pages' static files (plain HTML/CSS/JS, no build step, no external assets). */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const CITIZENS_FILE = fileURLToPath(new URL('../../tools/citizens.json', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Short hints for the sandbox login picker (the citizens are fictional). */
const HINTS: Record<string, string> = {
  'c-sun-ming': '无犯罪记录证明',
  'c-liu-fang': '生育津贴',
  'c-wang-qiang': '居住证 · 公积金',
  'c-chen-guiying': '老年综合津贴',
  'c-zhao-lei': '证明（需人工审核）',
  'c-lin-xiao': '社保卡 · 公积金',
};

export interface WebPagesOptions {
  config: Pick<Config, 'NODE_ENV' | 'KIOSK_IDLE_SECONDS' | 'KIOSK_DEVICE_KEY'>;
  voice?: VoicePipeline;
}

interface SandboxCitizen {
  id: string;
  name: string;
  id_number: string;
}

/**
 * The three pages — the citizen app `/`, the in-hall kiosk `/kiosk`, the staff console
 * `/staff` — and the no-login licence verification page `/verify`, their assets under
 * `/static/`, and `GET /api/web/config`, which tells a page what this deployment offers
 * (sandbox login, kiosk idle timeout, voice).
 */
export const webPages: FastifyPluginAsync<WebPagesOptions> = async (app, opts) => {
  const { config, voice } = opts;
  const sandbox = config.NODE_ENV !== 'production';
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(PUBLIC_DIR)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(PUBLIC_DIR, name)), type });
  }
  const citizens: SandboxCitizen[] = sandbox
    ? (JSON.parse(readFileSync(CITIZENS_FILE, 'utf8')) as { citizens: SandboxCitizen[] }).citizens
    : [];

  const send = (req: FastifyRequest, reply: FastifyReply, name: string) => {
    const file = files.get(name);
    if (!file) throw notFound('页面');
    void reply
      .header('content-type', file.type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (name.endsWith('.html')) {
      const host = String(req.headers.host ?? '').replace(/[^A-Za-z0-9.:\-[\]]/g, '');
      void reply
        .header('content-security-policy', [
          "default-src 'self'",
          "script-src 'self'",
          "style-src 'self'",
          "img-src 'self' data:",
          "media-src 'self' blob: data:",
          `connect-src 'self'${host ? ` ws://${host} wss://${host}` : ''}`,
          "frame-ancestors 'none'",
          "base-uri 'none'",
          "form-action 'self'",
        ].join('; '))
        .header('permissions-policy', 'microphone=(self), camera=(), geolocation=()')
        .header('x-frame-options', 'DENY');
    }
    return reply.send(file.body);
  };

  const page = { schema: { hide: true } };
  app.get('/', page, (req, reply) => send(req, reply, 'app.html'));
  app.get('/kiosk', page, (req, reply) => send(req, reply, 'kiosk.html'));
  app.get('/staff', page, (req, reply) => send(req, reply, 'staff.html'));
  // No login: a verifier opens it by scanning a licence's 出示 QR code (the signed code is in ?c=).
  app.get('/verify', page, (req, reply) => send(req, reply, 'verify.html'));
  app.get('/static/:file', page, (req, reply) => {
    const name = (req.params as { file: string }).file;
    if (!/^[a-z0-9-]+\.(js|css|svg|png)$/.test(name)) throw notFound('文件');
    return send(req, reply, name);
  });

  app.get('/api/web/config', {
    schema: { tags: ['pages'], summary: '页面配置：沙箱登录、一体机空闲超时、语音能力' },
  }, async () => {
    // The demo device key is handed to the sandbox kiosk page only where the server accepts
    // it anyway (not production, no KIOSK_DEVICE_KEY); a real kiosk is provisioned with its key.
    const demoKey = sandbox && !config.KIOSK_DEVICE_KEY;
    return {
      sandbox,
      citizens: citizens.map((c) => ({ id: c.id, name: c.name, hint: HINTS[c.id] ?? '' })),
      kiosk: {
        idleSeconds: config.KIOSK_IDLE_SECONDS,
        deviceKey: demoKey ? DEMO_KIOSK_DEVICE_KEY : null,
        // What the sandbox "模拟刷身份证" control can present (fictional people).
        sandboxCards: sandbox ? citizens.map((c) => ({ id: c.id, name: c.name, idNumber: c.id_number })) : [],
      },
      voice: voice?.status() ?? { asr: false, tts: false, message: '语音输入暂不可用，请打字或点按。' },
    };
  });
};
