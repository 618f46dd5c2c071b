/**
 * report.html renders in headless Chromium (the Debian package at /usr/bin/chromium, driven
 * by playwright-core; no browser is ever downloaded): headline figures visible, dataset text
 * escaped (no injected markup runs), no request leaves the page. A screenshot is saved to
 * evals/out/report.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { esc, renderHtml } from './html.js';
import { formatSummary } from './report.js';
import { fixtureReport } from './test-fixtures.js';
import { evaluateGate } from './gate.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT_DIR = fileURLToPath(new URL('./out', import.meta.url));
// Skips without Debian's chromium on a developer machine; in CI a missing browser fails.
const hasChromium = existsSync(CHROMIUM) || process.env.CI === 'true';
if (!hasChromium) {
  console.warn(`report.html browser test skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);
}

const dir = mkdtempSync(join(tmpdir(), 'evals-html-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeReport(): string {
  const report = fixtureReport();
  report.gate = evaluateGate(report);
  const file = join(dir, 'report.html');
  writeFileSync(file, renderHtml(report));
  return file;
}

describe('report.html (static checks)', () => {
  it('is self-contained and escapes dataset text', () => {
    const html = renderHtml(fixtureReport());
    expect(html).not.toMatch(/<script|<link|@import|url\(|https?:\/\//i);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>加粗</b>');
    expect(html).toContain(esc('<img src=x onerror="window.__pwned=2">护照<b>加粗</b>'));
    expect(esc(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    for (const raw of ['<script>window.__pwned=4</script>', '先别提交<b>x</b>', '要带什么<u>材料</u>', 'cv2<i>']) {
      expect(html).not.toContain(raw);
      expect(html).toContain(esc(raw));
    }
  });

  it('has the conversation, consent and retrieval-section figures and the database', () => {
    const html = renderHtml(fixtureReport());
    for (const text of ['多轮对话 Conversations', '确认同意 Consent', '回答章节准确率', 'section@1', 'in-memory embedded database (PGlite)']) {
      expect(html).toContain(text);
    }
  });
});

describe('the printed table', () => {
  it('names the database and prints every section', () => {
    const text = formatSummary(fixtureReport());
    expect(text).toMatch(/^Database: in-memory embedded database \(PGlite\)/);
    for (const line of [
      'NLU  (200 items', 'Scenarios  (2 items', 'Conversations  (40 items', 'turn pass rate  98.8%', 'Consent  (30 items',
      'wrongful submissions       0 of 25 attempts', 'controls submitted         5 of 5', 'Retrieval  (40 items, 30 with sections',
      'section@1 (first search hit)    83.3%', 'answer section accuracy (chat)  93.3%',
    ]) expect(text).toContain(line);
    expect(text).toContain('cv2<i>: turn 2 "先别提交": outcome is "submitted", must not be "submitted"');
  });
});

describe.skipIf(!hasChromium)('report.html in headless Chromium', () => {
  it('renders the headline figures and saves a screenshot', async () => {
    const { chromium } = await import('playwright-core');
    const file = writeReport();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const external: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) external.push(req.url());
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

      const text = await page.innerText('body');
      // Headline figures of the fixture report.
      for (const figure of ['97.1%', '98.5%', '99.0%', '93.3%', '1.37 ms', '50.0%', '2.50', '97.5%', '0.902', '98.8%', '83.3%']) {
        expect(text).toContain(figure);
      }
      expect(text).toContain('81.2%'); // NLP.js joint accuracy
      expect(text).toContain('联合准确率');
      expect(text).toContain('joint accuracy');
      // Dataset text shows as text, and none of the injected markup ran.
      const all = (await page.textContent('body')) ?? ''; // includes closed <details>
      expect(all).toContain('<img src=x onerror="window.__pwned=2">护照<b>加粗</b>');
      expect(all).toContain('<script>window.__pwned=3</script>');
      expect(all).toContain('<script>window.__pwned=4</script>');
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.locator('img').count()).toBe(0);
      // Charts are inline SVG.
      expect(await page.locator('svg.chart').count()).toBeGreaterThan(0);
      expect(external).toEqual([]);
      expect(errors).toEqual([]);

      mkdirSync(OUT_DIR, { recursive: true });
      await page.screenshot({ path: join(OUT_DIR, 'report.png'), fullPage: true });
      expect(existsSync(join(OUT_DIR, 'report.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
