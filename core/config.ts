import { z } from 'zod';

/**
 * Process configuration, read once from the environment and validated with zod.
 * Everything has an offline default: no key, no network, embedded database under ./data.
 */
const bool = z.preprocess((v) => (typeof v === 'string' ? ['1', 'true', 'yes'].includes(v.toLowerCase()) : v), z.boolean());

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Embedded PGlite data directory; `memory://` keeps everything in memory (tests). */
  DATA_DIR: z.string().default('./data'),
  /**
   * Where costly derived artefacts are kept between starts (the trained NLU models, an
   * initialised empty embedded database): default `.cache/` beside the sources; `off` for none.
   */
  CACHE_DIR: z.string().optional(),
  /** When set, a Postgres server with pgvector is used instead of the embedded PGlite. */
  DATABASE_URL: z.string().url().optional(),
  /** HMAC secret for signed tokens. When unset, one is generated and kept in DATA_DIR. */
  TOKEN_SECRET: z.string().min(32).optional(),
  TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(8 * 3600),
  /** An ID-card token at a kiosk lives for one visit at most; ending the visit revokes it sooner. */
  KIOSK_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(1800),
  /** Staff login: failures (per username, and per client address) before a lockout, and its length. */
  STAFF_LOGIN_MAX_FAILURES: z.coerce.number().int().positive().default(5),
  STAFF_LOCKOUT_SECONDS: z.coerce.number().int().positive().default(900),
  /** Sandbox staff account (stands in for the service centre's staff directory). */
  /** Another sandbox citizens file (same format as tools/citizens.json), e.g. many citizens for load tests. */
  SANDBOX_CITIZENS_FILE: z.string().optional(),
  STAFF_USERNAME: z.string().default('staff01'),
  STAFF_PASSWORD: z.string().min(8).default('shanghai-staff-demo'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_MODEL: z.string().default('qwen-plus'),
  OPENAI_EMBEDDING_MODEL: z.string().optional(),
  OPENAI_TIMEOUT_MS: z.coerce.number().int().positive().default(8000),
  ASR_BASE_URL: z.string().url().optional(),
  ASR_API_KEY: z.string().optional(),
  ASR_MODEL: z.string().default('whisper-1'),
  TTS_BASE_URL: z.string().url().optional(),
  TTS_API_KEY: z.string().optional(),
  TTS_MODEL: z.string().default('tts-1'),
  /** Device key an in-hall kiosk presents with an ID-card login; a demo key is used outside production when unset. */
  KIOSK_DEVICE_KEY: z.string().min(16).optional(),
  /** Seconds of inactivity after which a kiosk session is ended and its screen cleared. */
  KIOSK_IDLE_SECONDS: z.coerce.number().int().positive().default(90),
  /** Rate-limit window and limits (0 turns a limit off); unset limits are off under NODE_ENV=test. */
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().positive().default(60_000),
  RATE_LIMIT_IP_MAX: z.coerce.number().int().min(0).optional(),
  RATE_LIMIT_IDENTITY_MAX: z.coerce.number().int().min(0).optional(),
  /** Behind a reverse proxy: the client IP is the last X-Forwarded-For entry. */
  RATE_LIMIT_TRUST_PROXY: bool.default(false),
  /** Bearer token a /metrics scrape must present (required in production). */
  METRICS_TOKEN: z.string().min(16).optional(),
});

export type Config = z.infer<typeof EnvSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  // A variable set empty (`METRICS_TOKEN=`, compose's `${X:-}`) counts as unset.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = EnvSchema.safeParse(given);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${issues}`);
  }
  return { ...parsed.data, ...overrides };
}
