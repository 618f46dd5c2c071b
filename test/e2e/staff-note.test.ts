import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../knowledge/catalogue.js';
import { browserEnv, certificateByTyping, hasChromium, newPage, screenshot, signInStaff, visibleText } from './harness.js';

/**
 * Issue #14: a review's reason reads once on the staff console, with the catalogue's note of
 * what to check, for staff only; 赵磊's own chat shows neither the note nor why.
 */
describe.skipIf(!hasChromium)('staff-only review note', () => {
  const env = browserEnv();
  const NOTE = loadCatalogue().services.find((s) => s.id === 'criminal_record_certificate')!.outcome!.review[0]!.check;

  it('staff see the reason once and what to check; 赵磊 sees neither', async () => {
    const citizen = await newPage(env.browser, { mobile: true });
    const chat = citizen.page;
    await chat.goto(`${env.server.baseUrl}/`);
    await chat.getByRole('button', { name: /赵磊/ }).click();
    const input = chat.getByLabel('输入消息');
    await certificateByTyping(chat);
    await chat.locator('.card-handoff').last().waitFor();
    await input.fill('为什么要人工审核？');
    await input.press('Enter');
    await chat.getByText('为什么要人工审核？').first().waitFor();
    await chat.waitForTimeout(500);

    const staff = await newPage(env.browser);
    const desk = staff.page;
    await desk.goto(`${env.server.baseUrl}/staff`);
    await signInStaff(desk, env.server);
    const row = desk.locator('#queue-body tr', { hasText: '赵磊' }).first();
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain('需人工审核');
    // The queue row says the reason once.
    expect(((await row.textContent()) ?? '').split('需人工审核').length - 1).toBe(1);
    await row.click();

    const note = desk.locator('#staff-note');
    await note.waitFor();
    expect(await note.getByRole('heading').textContent()).toContain('核查要点（仅工作人员可见）');
    expect(await note.textContent()).toContain(NOTE);
    const deskText = await visibleText(desk);
    expect(deskText.split(NOTE).length - 1).toBe(1); // shown once
    expect(deskText).not.toContain('需人工审核（申请需人工审核）');
    expect(deskText).not.toContain('申请需人工审核');
    await screenshot(desk, 'staff-note-detail');

    // 赵磊's chat: none of the note, and no hint of why.
    const chatText = await visibleText(chat);
    const chatHtml = await chat.content();
    expect(chatText).toContain('需要工作人员进一步审核');
    for (const f of [NOTE, '人工核查', '封存', '犯罪人员信息系统', '在案', '核查要点']) {
      expect(chatText, f).not.toContain(f);
      expect(chatHtml, f).not.toContain(f);
    }
    expect([...citizen.errors, ...staff.errors]).toEqual([]);
    await citizen.context.close();
    await staff.context.close();
  }, 120_000);
});
