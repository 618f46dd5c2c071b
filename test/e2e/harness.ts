import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page, type WebSocket as PwWebSocket } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../core/config.js';
import { createAppContext, type AppContext } from '../../app/context.js';
import { buildServer, type AppServer } from '../../app/server.js';

/**
 * Browser tests: the real server (createAppContext + buildServer, in-memory database) on
 * 127.0.0.1:0, driven by the Debian chromium through playwright-core. No browser is ever
 * downloaded; without /usr/bin/chromium the browser tests are skipped (and say so).
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/**
 * Browser tests skip on a developer machine without Debian's chromium, but never in CI:
 * there `.ci/run` installs it, and a missing browser must fail the run, not hide the tests.
 */
export const hasChromium = existsSync(CHROMIUM) || process.env.CI === 'true';
export const RESULTS_DIR = resolve('test-results');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  // A kiosk plays spoken replies without waiting for a tap.
  '--autoplay-policy=no-user-gesture-required',
];

export interface RunningServer {
  ctx: AppContext;
  app: AppServer;
  baseUrl: string;
  close(): Promise<void>;
}

export async function startServer(overrides: Partial<Config> = {}): Promise<RunningServer> {
  const config = loadConfig(
    { ...process.env, NODE_ENV: 'test' },
    {
      DATA_DIR: 'memory://',
      LOG_LEVEL: 'silent',
      // Voice is off unless a test turns it on.
      ASR_BASE_URL: undefined,
      ASR_API_KEY: undefined,
      TTS_BASE_URL: undefined,
      TTS_API_KEY: undefined,
      ...overrides,
    },
  );
  const ctx = await createAppContext(config);
  let app: AppServer;
  try {
    app = await buildServer(ctx);
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await ctx.close();
    throw err;
  }
  const { port } = app.server.address() as AddressInfo;
  return {
    ctx,
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      await ctx.close();
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
}

/** A fresh, isolated browser profile (separate storage, like a different device). */
export async function newPage(
  browser: Browser,
  opts: { mobile?: boolean; viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext(opts.mobile
    ? { viewport: opts.viewport ?? { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' }
    : { viewport: opts.viewport ?? { width: 1366, height: 900 }, locale: 'zh-CN' });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: join(RESULTS_DIR, `${name}.png`), fullPage: true });
}

let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/**
 * Runs axe-core (the npm package's own build, injected into the page) and returns the
 * violations of the given impacts (critical and serious unless told), each with its rule id,
 * help text and the elements it found.
 */
export async function axeViolations(page: Page, impacts: readonly string[] = ['critical', 'serious']): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol rather than an inline <script>: the pages' CSP
  // (helmet) refuses inline scripts, and the test must not loosen it.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe.run();
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.map(String), failureSummary: n.failureSummary })),
    }));
  });
  return violations.filter((v) => impacts.includes(v.impact ?? ''));
}

/** Violations as readable lines for a failure message: rule, impact, help, targets. */
export function describeViolations(violations: readonly AxeViolation[]): string {
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n')}`).join('\n');
}

/** Records the JSON frames the page receives on its session sockets. */
export function recordFrames(page: Page): Array<Record<string, unknown> & { type: string }> {
  const frames: Array<Record<string, unknown> & { type: string }> = [];
  page.on('websocket', (ws: PwWebSocket) => {
    ws.on('framereceived', (f) => {
      if (typeof f.payload !== 'string') return;
      try {
        const frame = JSON.parse(f.payload) as Record<string, unknown> & { type: string };
        frames.push(frame.type === 'speech' ? { ...frame, data: `<${String(frame.data).length} base64 chars>` } : frame);
      } catch {
        /* not JSON */
      }
    });
  });
  return frames;
}

/** Signs the sandbox staff member in on the console's login form, already open on `page`. */
export async function signInStaff(page: Page, server: RunningServer): Promise<void> {
  await page.getByLabel('用户名').fill(server.ctx.config.STAFF_USERNAME);
  await page.getByLabel('密码').fill(server.ctx.config.STAFF_PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
}

/**
 * In the app chat of a logged-in citizen: the criminal-record certificate by typing (the
 * request, then 用途 and destination in words), up to pressing 立即办理 on its card.
 */
export async function certificateByTyping(page: Page): Promise<void> {
  const input = page.getByLabel('输入消息');
  await input.fill('我要开无犯罪记录证明');
  await input.press('Enter');
  await page.locator('.card-choices').last().waitFor();
  await input.fill('出国留学用，去英国');
  await input.press('Enter');
  const confirm = page.locator('.card-confirm').last();
  await confirm.getByText('英国').waitFor();
  await confirm.getByRole('button', { name: '立即办理' }).click();
}

/** Every URL the page opens: documents, fetches, and WebSocket connections. */
export function recordUrls(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  page.on('websocket', (ws: PwWebSocket) => urls.push(ws.url()));
  return urls;
}

/** URLs that carry a credential: a token parameter or anything shaped like a JWT. */
export function urlsWithCredentials(urls: readonly string[]): string[] {
  return urls.filter((u) => /[?&](token|access_token|jwt)=/i.test(u) || /eyJ[\w-]{8,}\.[\w-]{8,}/.test(u));
}

/** The visible text of the page (what a person sees; hidden elements excluded). */
export async function visibleText(page: Page): Promise<string> {
  return page.evaluate(() => document.body.innerText);
}

/**
 * The shared set-up of a browser test file: the server and Debian chromium started before the
 * tests, both closed after. Read `env.server` / `env.browser` inside the tests.
 */
export function browserEnv(overrides: Partial<Config> = {}): { readonly server: RunningServer; readonly browser: Browser } {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(overrides), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('browserEnv: the server is not started (used outside a test?)');
      return server;
    },
    get browser() {
      if (!browser) throw new Error('browserEnv: the browser is not started (used outside a test?)');
      return browser;
    },
  };
}
