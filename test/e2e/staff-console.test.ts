import { describe, expect, it } from 'vitest';
import { browserEnv, certificateByTyping, hasChromium, newPage, screenshot, signInStaff, visibleText } from './harness.js';

/**
 * 赵磊 has a record on file, so his certificate request goes to staff review. It appears in
 * the staff console (identifiers masked); a staff member claims it and replies, and the reply
 * appears live in his chat; approving it shows him the new status; every action is audited.
 */
describe.skipIf(!hasChromium)('staff console', () => {
  const env = browserEnv();

  /** A staff member signed in to the console. */
  async function staffDesk() {
    const staff = await newPage(env.browser);
    await staff.page.goto(`${env.server.baseUrl}/staff`);
    await signInStaff(staff.page, env.server);
    return staff;
  }

  it('a staff reply to 赵磊 appears live in his chat, and so does the decision', async () => {
    // --- 赵磊 in the app ---
    const citizen = await newPage(env.browser, { mobile: true });
    const chat = citizen.page;
    await chat.goto(`${env.server.baseUrl}/`);
    await chat.getByRole('button', { name: /赵磊/ }).click();
    const input = chat.getByLabel('输入消息');
    await certificateByTyping(chat);
    const handoffCard = chat.locator('.card-handoff').last();
    await handoffCard.waitFor();
    const applicationId = (await handoffCard.locator('.application-id').textContent())?.trim() ?? '';
    expect(applicationId).toMatch(/^SA\d+/);
    // The record itself is never mentioned to the citizen.
    expect(await visibleText(chat)).not.toMatch(/犯罪记录在案|有记录/);
    await screenshot(chat, 'staff-1-citizen-handoff');

    // --- the staff console ---
    const staff = await staffDesk();
    const desk = staff.page;
    const row = desk.locator('#queue-body tr', { hasText: '赵磊' }).first();
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain('有无犯罪记录证明');
    await expect.poll(() => row.textContent()).toContain('需人工审核');
    await expect.poll(() => row.textContent()).toMatch(/\d+ 秒|分/);
    await row.click();

    const detail = desk.locator('#detail');
    await detail.getByText('310107********0514', { exact: true }).first().waitFor();
    await detail.getByText('138****0005', { exact: true }).first().waitFor();
    const deskText = await visibleText(desk);
    expect(deskText).not.toContain('310107198501010514');
    expect(deskText).not.toContain('13800000005');
    // Transcript, what the agent understood, the pre-filled form.
    await detail.getByText('我要开无犯罪记录证明').first().waitFor();
    await detail.getByText('小申的理解').waitFor();
    await detail.getByRole('table', { name: '预填表单' }).getByText('英国', { exact: true }).first().waitFor();
    await detail.getByText(applicationId, { exact: true }).first().waitFor();

    // --- a live conversation: what he says now goes to staff, and the bot stays silent ---
    const agentBefore = await chat.locator('.msg.agent').count();
    await input.fill('为什么要人工审核？');
    await input.press('Enter');
    await chat.locator('.msg.agent', { hasText: '已转给工作人员' }).waitFor();
    await input.fill('大概要等多久？');
    await input.press('Enter');
    await detail.locator('#messages', { hasText: '大概要等多久？' }).waitFor({ timeout: 15_000 });
    await detail.locator('#messages', { hasText: '为什么要人工审核？' }).waitFor();
    // One acknowledgement, no answer in staff's place, no guide text hinting at the reason.
    expect(await chat.locator('.msg.agent').count()).toBe(agentBefore + 1);
    expect(await visibleText(chat)).not.toMatch(/有记录的情形|犯罪记录在案/);
    // Approval needs the claim first.
    expect(await detail.getByRole('button', { name: '审核通过' }).isDisabled()).toBe(true);

    await expect.poll(() => handoffCard.locator('.handoff-status').textContent()).toBe('等待接单');
    await detail.getByRole('button', { name: '认领' }).click();
    await detail.getByRole('button', { name: '已认领' }).waitFor();
    // The citizen's handoff card follows the claim.
    await expect.poll(() => handoffCard.locator('.handoff-status').textContent(), { timeout: 15_000 }).toBe('处理中');
    const reply = '赵先生您好，您的申请已收到，正在为您人工审核，请稍候。';
    await detail.getByLabel('回复市民的内容').fill(reply);
    await detail.getByRole('button', { name: '发送回复' }).click();
    await screenshot(desk, 'staff-2-console');

    // --- the reply appears in his chat ---
    await chat.locator('.msg.staff', { hasText: reply }).waitFor({ timeout: 15_000 });
    await screenshot(chat, 'staff-3-citizen-reply');

    // --- approve: he sees the new status ---
    await detail.getByRole('button', { name: '审核通过' }).click();
    await detail.locator('#application-status', { hasText: '已办结' }).waitFor();
    await chat.locator('.msg.system', { hasText: '已办结' }).first().waitFor({ timeout: 15_000 });
    await detail.getByRole('button', { name: '结束工单' }).click();
    await desk.locator('#detail-body').getByText('工单已结束。').waitFor();
    await chat.locator('.msg.system', { hasText: '人工服务已结束' }).waitFor({ timeout: 15_000 });
    await chat.getByRole('tab', { name: '卡包' }).click();
    await chat.locator('#licences').getByText(applicationId).waitFor();
    await screenshot(chat, 'staff-4-citizen-issued');

    // The unmasked view needs a reason, which is audited.
    await detail.getByRole('button', { name: '查看完整信息' }).click();
    await desk.locator('#detail-alert', { hasText: '须填写理由' }).waitFor();
    await detail.getByLabel('查看完整信息的理由').fill('核对申请人身份');
    await detail.getByRole('button', { name: '查看完整信息' }).click();
    await detail.getByText('310107198501010514', { exact: true }).first().waitFor();

    // Every staff action was audited by the staff API.
    const { rows } = await env.server.ctx.db.pool.query<{ action: string }>(
      "SELECT action FROM audit_log WHERE actor_kind = 'staff' ORDER BY id",
    );
    const actions = rows.map((r) => r.action);
    for (const a of ['handoff.queue', 'handoff.view', 'handoff.claim', 'handoff.reply', 'application.approve', 'handoff.close', 'handoff.view_full']) {
      expect(actions).toContain(a);
    }
    expect(citizen.errors).toEqual([]);
    expect(staff.errors).toEqual([]);
    await citizen.context.close();
    await staff.context.close();
  }, 120_000);

  it("a citizen's token is refused on the staff routes, and the console says so", async () => {
    const login = await fetch(`${env.server.baseUrl}/api/auth/sandbox-login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ citizenId: 'c-zhao-lei' }),
    });
    const { token } = (await login.json()) as { token: string };
    for (const [method, path] of [['GET', '/api/staff/handoffs'], ['POST', '/api/staff/handoffs/HO1/claim'], ['POST', '/api/staff/applications/SA1/approve']] as const) {
      const res = await fetch(`${env.server.baseUrl}${path}`, {
        method, headers: { authorization: `Bearer ${token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    const { page, context } = await newPage(env.browser);
    await page.goto(`${env.server.baseUrl}/staff`);
    await page.evaluate((t) => sessionStorage.setItem('xiaoshen.staff', JSON.stringify({ token: t, name: '赵磊' })), token);
    await page.reload();
    await page.getByText('该账号不是工作人员账号').waitFor();
    expect(await page.locator('#console').isHidden()).toBe(true);
    await context.close();
  }, 120_000);

  it("刘芳's 出生“一件事”: one card grouped by department in her chat, and the part sent to review shows the whole bundle to staff", async () => {
    await env.server.ctx.db.pool.query("DELETE FROM offer_answers WHERE citizen_id = 'c-liu-fang'");
    const citizen = await newPage(env.browser, { mobile: true });
    const chat = citizen.page;
    await chat.goto(`${env.server.baseUrl}/`);
    await chat.getByRole('button', { name: /刘芳/ }).click();
    const input = chat.getByLabel('输入消息');
    for (const text of ['我要办出生一件事', '王小宝', '随父亲落户', '网点自取']) {
      await input.fill(text);
      await input.press('Enter');
      await chat.locator('#thinking').waitFor({ state: 'hidden' });
    }
    const card = chat.locator('.card-confirm').last();
    await card.waitFor();
    for (const dept of ['市公安局', '市医疗保障局', '市人力资源社会保障局']) await card.locator('.card-group h4', { hasText: dept }).first().waitFor();
    await screenshot(chat, 'bundle-1-card');
    await card.getByRole('button', { name: '立即办理' }).click();
    const receipt = chat.locator('.card-receipt').last();
    await receipt.waitFor();
    await expect.poll(async () => receipt.locator('.bundle-parts li').count()).toBeGreaterThanOrEqual(3);

    const staff = await staffDesk();
    const desk = staff.page;
    const row = desk.locator('#queue-body tr', { hasText: '刘芳' }).first();
    await row.waitFor();
    await row.click();
    const parts = desk.locator('#detail').getByRole('table', { name: '一件事各部门办件' });
    await parts.waitFor();
    await parts.getByText('新生儿出生登记（报户口）').waitFor();
    await parts.getByText('新生儿社会保障卡申领').waitFor();
    expect(await visibleText(desk)).not.toContain('310114199207154021');
    await screenshot(desk, 'bundle-2-staff');
    await citizen.context.close();
    await staff.context.close();
  });
});
