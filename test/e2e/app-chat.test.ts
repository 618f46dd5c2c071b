import { describe, expect, it } from 'vitest';
import { browserEnv, hasChromium, newPage, recordFrames, recordUrls, screenshot, urlsWithCredentials } from './harness.js';

/**
 * The citizen app page (`/`): 孙明 logs in with the sandbox picker, types his request, picks
 * nothing by hand but answers in words, clicks 立即办理 on the confirmation card and gets a
 * receipt; the certificate then shows in 我的办件 and 卡包.
 */
describe.skipIf(!hasChromium)('app chat page', () => {
  const env = browserEnv();

  it('孙明 completes the criminal-record certificate by typing and clicking 立即办理', async () => {
    const { page, errors, context } = await newPage(env.browser, { mobile: true });
    const frames = recordFrames(page);
    const urls = recordUrls(page);
    await page.goto(`${env.server.baseUrl}/`);

    // Sandbox login: a picker of the sandbox citizens.
    const picker = page.locator('#citizen-list button');
    await expect.poll(() => picker.count()).toBe(8); // the six spec citizens and two more sandbox citizens
    await page.getByRole('button', { name: /孙明/ }).click();
    await page.getByText('已登录：孙明').waitFor();

    const input = page.getByLabel('输入消息');
    await input.fill('我要开无犯罪记录证明');
    await input.press('Enter');
    // The agent asks 用途 with a choices card.
    const choices = page.locator('.card-choices').last();
    await choices.waitFor();
    await expect.poll(() => choices.getByRole('button').allTextContents()).toContain('出国(境)');
    await screenshot(page, 'app-1-choices');

    await input.fill('出国留学用，去英国');
    await input.press('Enter');
    const confirm = page.locator('.card-confirm').last();
    await confirm.waitFor();
    await confirm.getByText('英国').waitFor();
    // The 用途 card answered in words is stale now: none of its buttons can change the form.
    const stale = page.locator('.card-choices').first();
    await expect.poll(() => stale.evaluate((c) => c.classList.contains('card-stale'))).toBe(true);
    expect(await stale.getByRole('button').evaluateAll((bs) => bs.every((b) => (b as HTMLButtonElement).disabled))).toBe(true);
    // Values are kept whole on the card: the ID number on one line at the phone's width.
    const idValue = confirm.getByText('310101********2038');
    const idBox = await idValue.boundingBox();
    const lineHeight = await idValue.evaluate((e) => parseFloat(getComputedStyle(e).lineHeight) || 24);
    expect(idBox!.height).toBeLessThan(lineHeight * 1.5);
    // Identifiers are masked on the card.
    await confirm.getByText('310101********2038').waitFor();
    await screenshot(page, 'app-2-confirm');

    await confirm.getByRole('button', { name: '立即办理' }).click();
    const receipt = page.locator('.card-receipt').last();
    await receipt.waitFor();
    const applicationId = (await receipt.locator('.application-id').textContent())?.trim() ?? '';
    expect(applicationId).toMatch(/^SA\d+/);
    await receipt.getByText('已办结').waitFor();
    // The receipt's sentence is said once: in the reply, not again on the card.
    const said = await page.locator('#log li.agent').last().textContent();
    expect(said?.split('电子证明已发送').length).toBe(2);
    await screenshot(page, 'app-3-receipt');
    // The session socket was opened, and no URL the page opened carries his token.
    expect(urls.some((u) => /\/api\/sessions\/[^/]+\/ws$/.test(u))).toBe(true);
    expect(urlsWithCredentials(urls)).toEqual([]);

    // The reply was streamed over the socket before the full turn arrived.
    const types = frames.map((f) => f.type);
    const lastTurn = types.lastIndexOf('turn');
    const deltasBefore = types.slice(types.lastIndexOf('turn', lastTurn - 1) + 1, lastTurn).filter((t) => t === 'delta');
    expect(deltasBefore.length).toBeGreaterThan(1);
    // The reply log is announced to screen readers.
    expect(await page.locator('#log').getAttribute('aria-live')).toBe('polite');

    // 我的办件 and 卡包.
    await page.getByRole('tab', { name: '我的办件' }).click();
    await page.locator('#applications').getByText(applicationId).waitFor();
    await page.locator('#applications').getByText('有无犯罪记录证明').first().waitFor();
    await screenshot(page, 'app-4-applications');
    await page.getByRole('tab', { name: '卡包' }).click();
    await page.locator('#licences').getByText(applicationId).waitFor();
    await page.locator('#licences').getByText('居民身份证').first().waitFor();
    await screenshot(page, 'app-5-licences');

    // Keyboard: arrow keys move between tabs.
    await page.getByRole('tab', { name: '卡包' }).press('ArrowLeft');
    expect(await page.getByRole('tab', { name: '我的办件' }).getAttribute('aria-selected')).toBe('true');

    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('a guide answer links to the guide, which opens from GET /api/services/:id', async () => {
    const { page, errors, context } = await newPage(env.browser);
    await page.goto(`${env.server.baseUrl}/`);
    await page.getByRole('button', { name: /林晓/ }).click();
    const input = page.getByLabel('输入消息');
    await input.fill('办无犯罪记录证明需要带什么材料？');
    await input.press('Enter');
    const link = page.locator('a.citation').first();
    await link.waitFor();
    expect(await link.getAttribute('href')).toMatch(/^#guide\/criminal_record_certificate\//);
    await link.click();
    const dialog = page.locator('#guide-dialog');
    await dialog.getByText('办事指南').first().waitFor();
    await dialog.getByText('有无犯罪记录证明').first().waitFor();
    await screenshot(page, 'app-6-guide');
    await dialog.getByRole('button', { name: '关闭' }).click();
    expect(await dialog.isVisible()).toBe(false);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
