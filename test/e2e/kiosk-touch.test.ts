import { describe, expect, it } from 'vitest';
import { EspeakTts, speakableText } from '../../channels/voice/tts.js';
import { browserEnv, hasChromium, newPage, recordFrames, screenshot } from './harness.js';

/**
 * Issue #14 at the kiosk: 孙明 gets his criminal-record certificate by touch alone — the
 * service tile, 用途 on its card, the destination on a card of common countries (a button to
 * type another puts the keyboard in focus), 立即办理 — and the kiosk speaks the point of each
 * reply, not the whole text on the screen.
 */
describe.skipIf(!hasChromium)('kiosk by touch only', () => {
  const env = browserEnv();

  it('孙明 completes the certificate by touch: 用途, destination and confirmation, with short spoken replies', async () => {
    const { page, errors, context } = await newPage(env.browser);
    const frames = recordFrames(page);
    const spokenByPage: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/tts') && r.method() === 'POST') spokenByPage.push((JSON.parse(r.postData() ?? '{}') as { text?: string }).text ?? '');
    });
    await page.goto(`${env.server.baseUrl}/kiosk`);
    await page.getByLabel('选择一张沙箱身份证').selectOption('c-sun-ming');
    await page.getByRole('button', { name: '模拟刷身份证' }).click();
    await page.locator('#reply', { hasText: '您好，我是小申' }).waitFor();

    // Touch 1: the service tile.
    await page.locator('#tiles').getByRole('button', { name: /无犯罪记录证明/ }).click();
    const card = page.locator('#card-area .card-choices');
    await card.getByRole('button', { name: '出国(境)' }).waitFor();
    await screenshot(page, 'kiosk-touch-1-purpose');

    // Touch 2: 用途.
    await card.getByRole('button', { name: '出国(境)' }).click();
    await page.locator('#reply', { hasText: '请问前往国家或地区是？' }).waitFor();
    const destinations = page.locator('#card-area .card-choices');
    await destinations.getByRole('button', { name: '日本' }).waitFor();
    const labels = (await destinations.getByRole('button').allTextContents()).map((x) => x.trim());
    expect(labels).toEqual(['美国', '英国', '日本', '澳大利亚', '加拿大', '新加坡', '韩国', '德国', '法国', '新西兰', '其他（手动输入）']);
    const box = await destinations.getByRole('button', { name: '新西兰' }).boundingBox();
    expect(box?.height ?? 0).toBeGreaterThanOrEqual(60); // big touch targets
    await screenshot(page, 'kiosk-touch-2-destination');

    // 其他（手动输入）: nothing is sent; the keyboard input has the focus, asking for the destination.
    const turnsBefore = frames.filter((f) => f.type === 'turn').length;
    await destinations.getByRole('button', { name: '其他（手动输入）' }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('kiosk-input');
    expect(await page.locator('#kiosk-input').getAttribute('placeholder')).toContain('前往国家或地区');
    // The card stays usable: a country can still be touched.
    expect(await destinations.getByRole('button', { name: '日本' }).isEnabled()).toBe(true);
    await page.waitForTimeout(300);
    expect(frames.filter((f) => f.type === 'turn').length).toBe(turnsBefore);

    // Touch 3: the destination.
    await destinations.getByRole('button', { name: '日本' }).click();
    await page.locator('#heard', { hasText: '您选择：日本' }).waitFor();
    const confirm = page.locator('#card-area .card-confirm');
    await confirm.waitFor();
    await expect.poll(() => confirm.textContent()).toContain('日本');
    expect(await confirm.textContent()).toContain('出国(境)');
    await screenshot(page, 'kiosk-touch-3-confirm');

    // Touch 4: 立即办理.
    await confirm.getByRole('button', { name: '立即办理' }).click();
    const receipt = page.locator('#card-area .card-receipt');
    await receipt.waitFor();
    const applicationId = (await receipt.locator('.application-id').textContent())?.trim() ?? '';
    expect(applicationId).toMatch(/^SA\d+/);
    const { rows } = await env.server.ctx.db.pool.query<{ status: string; fields: Record<string, string> }>(
      "SELECT status, fields FROM applications WHERE id = $1 AND citizen_id = 'c-sun-ming'", [applicationId],
    );
    expect(rows[0]?.status).toBe('issued');
    expect(rows[0]?.fields).toMatchObject({ purpose: '出国(境)', destination: '日本' });
    // Nothing was typed: every message was a touch.
    expect(await page.locator('#kiosk-input').inputValue()).toBe('');

    // Spoken: the greeting's point, not the whole greeting on the screen.
    const reply = (await page.locator('#reply').textContent()) ?? '';
    expect(reply.length).toBeGreaterThan(0);
    if (EspeakTts.available()) {
      await expect.poll(() => spokenByPage.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(spokenByPage[0]).toContain('请说出您要办的事');
      expect(spokenByPage[0]).not.toContain('多久能办好');
      // The first question, after pre-filling: spoken far shorter than its reply read out in full,
      // without the pre-filled values (they are on the screen).
      const heard = () => frames.filter((f) => f.type === 'turn' || f.type === 'speech');
      const at = heard().findIndex((f) => f.type === 'turn' && String((f.turn as { reply: string }).reply).includes('预填'));
      expect(at).toBeGreaterThanOrEqual(0);
      await expect.poll(() => heard().slice(at + 1).some((f) => f.type === 'speech'), { timeout: 10_000 }).toBe(true);
      const spoken = heard().slice(at + 1).find((f) => f.type === 'speech') as unknown as { durationSec: number };
      const prefilled = heard()[at]!.turn as { reply: string; speech?: string };
      expect(prefilled.speech).toContain('请问用途是哪一种');
      expect(prefilled.speech).not.toContain('南京东路');
      const full = await new EspeakTts().synthesize(speakableText(prefilled.reply));
      expect(spoken.durationSec).toBeGreaterThan(1);
      expect(spoken.durationSec).toBeLessThan((full.durationSec ?? 0) * 0.6);
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
