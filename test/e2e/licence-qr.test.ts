import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { browserEnv, certificateByTyping, hasChromium, newPage, screenshot } from './harness.js';

// jsqr is CommonJS with an ES-style default export in its types: the function is the module's default.
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as unknown as typeof jsQRModule.default;

/**
 * 卡包 出示 and verification in the browser (issue #14): 孙明 gets his certificate, opens 卡包,
 * presses 出示; the QR code on the screen is photographed (an element screenshot) and decoded
 * here with jsQR, as a verifier's phone would; the decoded URL opens, with no login, a page
 * that says 有效 with the certificate and his masked name and no ID number; a forged URL is
 * refused; and 下载 saves the certificate card under its Chinese name.
 */
const SUN_ID = '310101198803122038';

describe.skipIf(!hasChromium)('licence QR: show, scan, verify, download', () => {
  const env = browserEnv();

  it('孙明 shows his new certificate; the scanned QR verifies as 有效 without login; a forged one is refused', async () => {
    const { page, errors, context } = await newPage(env.browser, { mobile: true });
    await page.goto(`${env.server.baseUrl}/`);
    await page.getByRole('button', { name: /孙明/ }).click();
    await page.getByText('已登录：孙明').waitFor();

    await certificateByTyping(page);
    const receipt = page.locator('.card-receipt').last();
    await receipt.getByText('已办结').waitFor();
    const applicationId = (await receipt.locator('.application-id').textContent())?.trim() ?? '';
    expect(applicationId).toMatch(/^SA\d+/);

    // 卡包: the new certificate is first; 出示 opens its QR code.
    await page.getByRole('tab', { name: '卡包' }).click();
    const card = page.locator('#licences article', { hasText: applicationId });
    await card.waitFor();
    await card.getByRole('button', { name: '出示' }).click();
    const qr = card.locator('img.licence-qr');
    await qr.waitFor();
    await expect.poll(() => qr.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0)).toBe(true);
    expect(await qr.isVisible()).toBe(true);
    const box = (await qr.boundingBox())!;
    expect(box.width).toBeGreaterThanOrEqual(200);
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await card.getByText('孙*').waitFor();
    expect(await card.getByRole('button', { name: '收起' }).getAttribute('aria-expanded')).toBe('true');
    await screenshot(page, 'licence-1-show');

    // A verifier's phone: photograph the QR code and decode it.
    const png = PNG.sync.read(await qr.screenshot({ type: 'png' }));
    const decoded = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
    expect(decoded, 'the QR code on screen decodes').not.toBeNull();
    const url = decoded!.data;
    expect(url).toMatch(new RegExp(`^${env.server.baseUrl.replace(/[.]/g, '\\.')}/verify\\?c=1\\.[A-Za-z0-9_-]+\\.[0-9a-z]+\\.[A-Za-z0-9_-]{22}$`));
    expect(url).not.toMatch(/token|Bearer|eyJ/);

    // Another device, nobody logged in, opens the decoded URL.
    const verifier = await newPage(env.browser, { mobile: true });
    await verifier.page.goto(url);
    const result = verifier.page.locator('#result');
    await result.locator('.verdict').waitFor();
    expect((await result.locator('.verdict').textContent())?.trim()).toContain('有效');
    expect(await result.locator('.verdict').getAttribute('class')).toContain('verdict-ok');
    await result.getByText('有无犯罪记录证明').waitFor();
    await result.getByText('孙*').waitFor();
    const shown = (await verifier.page.locator('body').textContent()) ?? '';
    expect(shown).not.toContain(SUN_ID);
    expect(shown).not.toContain(SUN_ID.slice(6, 14));
    expect(shown).not.toContain('孙明');
    expect(shown).not.toContain(applicationId);
    // Large and clear on a phone: the verdict is big and nothing runs off the screen.
    expect(await result.locator('.verdict').evaluate((e) => parseFloat(getComputedStyle(e).fontSize))).toBeGreaterThanOrEqual(32);
    expect(await verifier.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await verifier.page.evaluate(() => localStorage.length + document.cookie.length)).toBe(0);
    await screenshot(verifier.page, 'licence-2-verified');

    // A forged URL: one character of the signature changed.
    const forged = url.slice(0, -3) + (url.at(-3) === 'A' ? 'B' : 'A') + url.slice(-2);
    await verifier.page.goto(forged);
    await result.locator('.verdict').waitFor();
    expect((await result.locator('.verdict').textContent())?.trim()).toContain('无效');
    expect(await result.locator('.verdict').getAttribute('class')).toContain('verdict-bad');
    await result.getByText(/无法验证/).waitFor();
    expect(await result.textContent()).not.toContain('有无犯罪记录证明');
    await screenshot(verifier.page, 'licence-3-forged');
    // And a truncated one.
    await verifier.page.goto(url.slice(0, url.length - 10));
    await result.getByText(/无法验证/).waitFor();
    expect(verifier.errors).toEqual([]);
    await verifier.context.close();

    // 下载: the certificate card, saved under its Chinese name.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByRole('button', { name: '下载' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^有无犯罪记录证明-\d{4}-\d{2}-\d{2}\.svg$/);
    const saved = readFileSync((await download.path())!, 'utf8');
    expect(saved).toContain('<svg');
    expect(saved).toContain('有无犯罪记录证明');
    expect(saved).toContain('孙*');
    expect(saved).not.toContain(SUN_ID);
    await card.getByText(/已下载/).waitFor();

    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
