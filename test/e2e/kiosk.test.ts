import { describe, expect, it } from 'vitest';
import { EspeakTts } from '../../channels/voice/tts.js';
import { browserEnv, hasChromium, newPage, recordFrames, recordUrls, screenshot, urlsWithCredentials, visibleText } from './harness.js';

/**
 * The in-hall kiosk with no ASR provider configured: it says voice is unavailable, logs 陈桂英
 * in by a (simulated) ID-card read, completes her senior allowance by touch alone, speaks its
 * replies, streams avatar state, and after the idle timeout (?idle=3) ends the session and
 * shows nothing of her.
 */
describe.skipIf(!hasChromium)('kiosk page', () => {
  const env = browserEnv();

  it('card login, senior allowance by touch, then an idle reset that leaves nothing of her', async () => {
    const { page, errors, context } = await newPage(env.browser);
    const frames = recordFrames(page);
    const urls = recordUrls(page);
    await page.goto(`${env.server.baseUrl}/kiosk?idle=3`);

    // No ASR configured: the kiosk says so, and offers no microphone.
    await page.getByText('语音输入暂不可用，请打字或点按').first().waitFor();
    expect(await page.locator('#mic').isHidden()).toBe(true);
    await screenshot(page, 'kiosk-1-welcome');

    // The sandbox card reader: 陈桂英's card.
    await page.getByLabel('选择一张沙箱身份证').selectOption('c-chen-guiying');
    await page.getByRole('button', { name: '模拟刷身份证' }).click();
    // The agent speaks first: 免申即享, the senior allowance she is entitled to, with her own reasons.
    await page.locator('#reply', { hasText: '陈桂英您好' }).waitFor();
    await page.locator('#reply', { hasText: '老年综合津贴' }).waitFor();
    await page.locator('#reply', { hasText: '您今年71周岁' }).waitFor();
    await page.locator('#reply', { hasText: '语音输入暂不可用，请打字或点按' }).waitFor();

    // Touch only: 确认领取 on the offer's one-tap card.
    const confirm = page.locator('#card-area .card-confirm');
    await confirm.waitFor();
    const confirmButton = confirm.getByRole('button', { name: '确认领取' });
    const box = await confirmButton.boundingBox();
    expect(box?.height ?? 0).toBeGreaterThanOrEqual(80); // big touch targets
    await screenshot(page, 'kiosk-2-confirm');
    // Her card login opened the session socket; no URL the kiosk opened carries her token.
    expect(urls.some((u) => /\/api\/sessions\/[^/]+\/ws$/.test(u))).toBe(true);
    expect(urlsWithCredentials(urls)).toEqual([]);
    // Typed text is shown as typed, a touch as a choice.
    await page.locator('#kiosk-input').fill('发放账户是哪张卡');
    await page.locator('#kiosk-input').press('Enter');
    await page.locator('#heard', { hasText: '您输入：发放账户是哪张卡' }).waitFor();
    await confirm.waitFor();
    await confirmButton.click();
    await page.locator('#heard', { hasText: '您选择：' }).waitFor();
    const receipt = page.locator('#card-area .card-receipt');
    await receipt.waitFor();
    const applicationId = (await receipt.locator('.application-id').textContent())?.trim() ?? '';
    expect(applicationId).toMatch(/^SA\d+/);
    await screenshot(page, 'kiosk-3-receipt');

    const { rows: apps } = await env.server.ctx.db.pool.query<{ status: string }>(
      "SELECT status FROM applications WHERE id = $1 AND citizen_id = 'c-chen-guiying' AND service_id = 'senior_allowance'",
      [applicationId],
    );
    expect(apps[0]?.status).toBe('submitted');

    // The avatar stream a digital-human renderer follows, and spoken replies.
    const avatar = frames.filter((f) => f.type === 'avatar').map((f) => f.state);
    expect(avatar).toContain('thinking');
    if (EspeakTts.available()) {
      await expect.poll(() => frames.some((f) => f.type === 'speech'), { timeout: 10_000 }).toBe(true);
      expect(frames.filter((f) => f.type === 'avatar').map((f) => f.state)).toContain('speaking');
    }

    // Idle: back to the welcome screen with nothing of her left.
    await page.locator('#welcome').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.locator('body').getAttribute('data-last-reset')).toBe('idle');
    const text = await visibleText(page);
    const html = await page.content();
    for (const trace of ['陈桂英', applicationId, '310105195508184027', '老年综合津贴申领', '6222']) {
      expect(text).not.toContain(trace);
      expect(html).not.toContain(trace);
    }
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await page.locator('#card-select').inputValue()).toBe('');
    await screenshot(page, 'kiosk-4-after-idle');

    // The session was ended on the env.server.
    const { rows } = await env.server.ctx.db.pool.query<{ ended_at: Date | null }>(
      "SELECT ended_at FROM chat_sessions WHERE citizen_id = 'c-chen-guiying' AND channel = 'kiosk'",
    );
    expect(rows.length).toBe(1);
    expect(rows[0]!.ended_at).not.toBeNull();

    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
