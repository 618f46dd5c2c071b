import { describe, expect, it, beforeAll } from 'vitest';
import type { Page } from 'playwright-core';
import { axeViolations, browserEnv, describeViolations, hasChromium, newPage, screenshot, signInStaff } from './harness.js';

/**
 * The app, the kiosk and the staff console as people see them, at a phone (390×844), a
 * landscape 1080p screen and a portrait 1080p kiosk screen: axe-core finds nothing critical or
 * serious, nothing scrolls sideways or sits past the screen's edge, no control is covered by
 * another, and the newest message with its card's buttons is above the sticky input bar.
 */

interface Size { name: string; mobile?: boolean; viewport: { width: number; height: number } }
const SIZES: Size[] = [
  { name: 'phone', mobile: true, viewport: { width: 390, height: 844 } },
  { name: 'landscape', viewport: { width: 1920, height: 1080 } },
  { name: 'portrait', viewport: { width: 1080, height: 1920 } },
];

/** Fails with every critical and serious axe violation: rule, help text and the elements. */
async function expectAccessible(page: Page, where: string): Promise<void> {
  const violations = await axeViolations(page);
  expect(violations.map((v) => v.id), `${where}:\n${describeViolations(violations)}`).toEqual([]);
}

/**
 * What a person would find clipped or covered: the page scrolling sideways, a control, message
 * or card past the left or right edge, a button whose label does not fit it, and a control
 * whose centre is under another element. The page's own sticky bars (`chrome`) may cover
 * what is scrolled under them; that the newest message is clear of them is checked apart.
 */
async function layoutProblems(page: Page, chrome = ''): Promise<string[]> {
  const width = page.viewportSize()?.width ?? Infinity;
  return page.evaluate(([chromeSelector, screenWidth]) => {
    const problems: string[] = [];
    // The screen's width, not innerWidth: a phone browser zooms out to fit a page that is
    // too wide, so there innerWidth grows with the overflow it should reveal.
    const W = Math.min(window.innerWidth, document.documentElement.clientWidth, screenWidth);
    const H = window.innerHeight;
    const root = document.documentElement;
    if (root.scrollWidth > W || window.innerWidth > W) problems.push(`the page is wider than the screen: ${Math.max(root.scrollWidth, window.innerWidth)}px in ${W}px`);
    const name = (e: Element) => {
      const cls = typeof e.className === 'string' && e.className.trim() ? `.${e.className.trim().split(/\s+/).join('.')}` : '';
      return `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${cls}「${(e.textContent ?? '').trim().slice(0, 16)}」`;
    };
    const shown = (e: Element) => {
      const r = e.getBoundingClientRect();
      return r.width > 1 && r.height > 1 && getComputedStyle(e).visibility !== 'hidden'
        && !e.closest('.visually-hidden, .skip-link, dialog:not([open])');
    };
    const dialog = document.querySelector('dialog[open]');
    const scope = dialog ?? document;
    const items = Array.from(scope.querySelectorAll('button, a[href], input, select, textarea, [role="tab"], .msg, .card, h1, h2, h3, .reply, .staff-msg')).filter(shown);
    for (const e of items) {
      const r = e.getBoundingClientRect();
      if (r.left < -0.5 || r.right > W + 0.5) problems.push(`${name(e)} is past the screen's edge: x ${Math.round(r.left)}..${Math.round(r.right)} of ${W}`);
      if (e.matches('button') && e.scrollWidth > e.clientWidth + 1) problems.push(`${name(e)}: its label is cut off (${e.scrollWidth}px in ${e.clientWidth}px)`);
    }
    for (const e of items.filter((x) => x.matches('button, a[href], input, select, textarea, [role="tab"]'))) {
      const r = e.getBoundingClientRect();
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      if (x < 0 || x > W || y < 0 || y > H) continue;
      const hit = document.elementFromPoint(x, y);
      if (!hit || e.contains(hit) || hit.contains(e) || hit.closest('label')?.control === e) continue;
      if (chromeSelector && hit.closest(chromeSelector) && !e.closest(chromeSelector)) continue;
      problems.push(`${name(e)} is covered by ${name(hit)}`);
    }
    return problems;
  }, [chrome, width] as const);
}

/** Each of these elements whole on the screen as it is, without scrolling. */
async function expectOnScreen(page: Page, selectors: readonly string[], where: string): Promise<void> {
  for (const sel of selectors) {
    const r = await page.locator(sel).evaluate((e) => {
      const b = e.getBoundingClientRect();
      return { top: b.top, bottom: b.bottom, left: b.left, right: b.right, W: document.documentElement.clientWidth, H: document.documentElement.clientHeight };
    });
    expect(r.left, `${sel} left, ${where}`).toBeGreaterThanOrEqual(0);
    expect(r.right, `${sel} right, ${where}`).toBeLessThanOrEqual(r.W);
    expect(r.top, `${sel} top, ${where}`).toBeGreaterThanOrEqual(0);
    expect(r.bottom, `${sel} bottom, ${where}`).toBeLessThanOrEqual(r.H);
  }
}

async function expectLaidOut(page: Page, where: string, chrome = ''): Promise<void> {
  expect(await layoutProblems(page, chrome), where).toEqual([]);
}

/** The app's newest message and its card's buttons: between the sticky header and the input bar. */
async function newestHidden(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const dock = document.querySelector('#composer')!.closest('.dock') ?? document.querySelector('#composer')!;
    const dockTop = dock.getBoundingClientRect().top;
    const tabs = document.querySelector('.tabs')!.getBoundingClientRect();
    const top = Math.max(tabs.bottom, document.querySelector('.topbar')!.getBoundingClientRect().bottom);
    if (dockTop > window.innerHeight + 0.5) problems.push(`the input bar is below the screen (${dockTop} > ${window.innerHeight})`);
    const last = document.querySelector('#log')!.lastElementChild;
    if (!last) return ['no message'];
    const box = last.getBoundingClientRect();
    if (box.bottom > dockTop + 0.5) problems.push(`the newest message ends at ${Math.round(box.bottom)}, under the input bar at ${Math.round(dockTop)}`);
    for (const b of Array.from(last.querySelectorAll('.card button'))) {
      const r = b.getBoundingClientRect();
      if (r.bottom > dockTop + 0.5 || r.top < top - 0.5) {
        problems.push(`「${b.textContent}」 at y ${Math.round(r.top)}..${Math.round(r.bottom)} is not between the header (${Math.round(top)}) and the input bar (${Math.round(dockTop)})`);
      }
    }
    return problems;
  });
}

/** Waits (a smooth scroll takes a moment) for the newest message to be clear of the bars, else fails saying what is hidden. */
async function expectNewestInView(page: Page): Promise<void> {
  const deadline = Date.now() + 5_000;
  let problems = await newestHidden(page);
  while (problems.length && Date.now() < deadline) {
    await page.waitForTimeout(100);
    problems = await newestHidden(page);
  }
  expect(problems).toEqual([]);
}

/** A session socket the test can cut: every WebSocket the page opens is kept, and new ones can be refused. */
const SOCKET_SPY = `(() => {
  const Real = window.WebSocket;
  window.__sockets = [];
  window.__refuseSockets = false;
  window.WebSocket = class extends Real {
    constructor(url, protocols) {
      super(window.__refuseSockets ? 'ws://127.0.0.1:9/' : url, protocols);
      window.__sockets.push(this);
    }
  };
})();`;

describe.skipIf(!hasChromium)('accessibility and layout at phone, 1080p landscape and 1080p portrait sizes', () => {
  const env = browserEnv();

  /** A JSON POST to the server's API, as another program (or a staff member's desk) would send it. */
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${env.server.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    expect(res.status, path).toBeLessThan(300);
    return (await res.json()) as Record<string, string>;
  };

  beforeAll(async () => {
    // 王强 asks for a person, so the staff queue has a row.
    const { token } = await post('/api/auth/sandbox-login', { citizenId: 'c-wang-qiang' });
    const { sessionId } = await post('/api/sessions', { channel: 'app' }, token);
    await post(`/api/sessions/${sessionId}/messages`, { text: '转人工' }, token);
  });

  for (const size of SIZES) {
    it(`app at ${size.viewport.width}×${size.viewport.height}: picker, choices, confirmation, reload, lost connection`, async () => {
      const { page, errors, context } = await newPage(env.browser, size);
      await page.addInitScript(SOCKET_SPY);
      await page.goto(`${env.server.baseUrl}/`);
      await expect.poll(() => page.locator('#citizen-list button').count()).toBe(8);
      await expectAccessible(page, 'citizen picker');
      await expectLaidOut(page, 'citizen picker');
      await screenshot(page, `a11y-app-${size.name}-1-picker`);

      await page.getByRole('button', { name: /孙明/ }).click();
      await page.getByText('已登录：孙明').waitFor();
      const input = page.getByLabel('输入消息');
      await input.fill('我要开无犯罪记录证明');
      await input.press('Enter');
      await page.locator('#log li:last-child .card-choices button').first().waitFor();
      await expectNewestInView(page);
      await expectAccessible(page, 'chat with a choices card');
      await expectLaidOut(page, 'chat with a choices card', '.topbar, .tabs, .dock');
      await screenshot(page, `a11y-app-${size.name}-2-choices`);

      await input.fill('出国留学用，去英国');
      await input.press('Enter');
      const confirm = page.locator('#log li:last-child .card-confirm');
      await confirm.getByRole('button', { name: '立即办理' }).waitFor();
      await expectNewestInView(page);
      await expectAccessible(page, 'chat with a confirmation card');
      await expectLaidOut(page, 'chat with a confirmation card', '.topbar, .tabs, .dock');
      await screenshot(page, `a11y-app-${size.name}-3-confirm`);

      // After a reload the conversation opens at its newest message, not at the top.
      await page.reload();
      await confirm.getByRole('button', { name: '立即办理' }).waitFor();
      await expectNewestInView(page);
      await expect.poll(() => page.evaluate(() => window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2)).toBe(true);
      await screenshot(page, `a11y-app-${size.name}-4-reloaded`);

      // The connection drops: the notice shows on screen even when the conversation is scrolled up.
      await page.evaluate(() => {
        const w = window as unknown as { __refuseSockets: boolean; __sockets: WebSocket[] };
        w.__refuseSockets = true;
        for (const s of w.__sockets) s.close();
      });
      const notice = page.locator('#chat-alert', { hasText: '连接中断，正在重新连接…' });
      await notice.waitFor();
      // The notice grows the input bar: the confirmation's buttons stay above it.
      await expectNewestInView(page);
      await page.evaluate(() => window.scrollTo(0, 0));
      const box = await notice.evaluate((e) => {
        const r = e.getBoundingClientRect();
        return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, W: document.documentElement.clientWidth, H: document.documentElement.clientHeight };
      });
      expect(box.top, 'notice top').toBeGreaterThanOrEqual(0);
      expect(box.bottom, 'notice bottom').toBeLessThanOrEqual(box.H);
      expect(box.left, 'notice left').toBeGreaterThanOrEqual(0);
      expect(box.right, 'notice right').toBeLessThanOrEqual(box.W);
      await expectAccessible(page, 'chat with the connection notice');
      await expectLaidOut(page, 'chat with the connection notice', '.topbar, .tabs, .dock');
      await screenshot(page, `a11y-app-${size.name}-5-reconnecting`);
      await page.evaluate(() => { (window as unknown as { __refuseSockets: boolean }).__refuseSockets = false; });
      await expect.poll(() => page.locator('#chat-alert').textContent(), { timeout: 20_000 }).toBe('');

      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  }

  for (const size of SIZES) {
    it(`app at ${size.viewport.width}×${size.viewport.height}: a staff reply shows above the input bar`, async () => {
      const { page, errors, context } = await newPage(env.browser, size);
      await page.goto(`${env.server.baseUrl}/`);
      await page.getByRole('button', { name: /林晓/ }).click();
      const input = page.getByLabel('输入消息');
      await input.fill('转人工');
      await input.press('Enter');
      const card = page.locator('#log .card-handoff').last();
      await card.waitFor();
      const handoffId = await card.getAttribute('data-handoff-id');
      expect(handoffId).toMatch(/^HO/);
      const { token } = await post('/api/auth/staff-login', { username: env.server.ctx.config.STAFF_USERNAME, password: env.server.ctx.config.STAFF_PASSWORD });
      await post(`/api/staff/handoffs/${handoffId}/claim`, {}, token);
      const text = '您好，我是窗口工作人员。您要办理的事项需要核对几项信息，请您准备好身份证和户口簿，稍后我会在这里继续回复您，请不要关闭页面。';
      await post(`/api/staff/handoffs/${handoffId}/reply`, { text }, token);
      await page.locator('#log li:last-child.msg.staff', { hasText: '请不要关闭页面' }).waitFor();
      await expectNewestInView(page);
      await expectAccessible(page, 'chat with a staff reply');
      await expectLaidOut(page, 'chat with a staff reply', '.topbar, .tabs, .dock');
      await screenshot(page, `a11y-app-${size.name}-7-staff-reply`);
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  }

  for (const size of SIZES) {
    it(`guide dialog at ${size.viewport.width}×${size.viewport.height}: stays at the cited section, lists as lists`, async () => {
      const { page, errors, context } = await newPage(env.browser, size);
      await page.goto(`${env.server.baseUrl}/`);
      await page.getByRole('button', { name: /林晓/ }).click();
      const input = page.getByLabel('输入消息');
      await input.fill('办无犯罪记录证明需要带什么材料？');
      await input.press('Enter');
      const link = page.locator('#log li:last-child a.citation').first();
      await link.waitFor();
      await link.click();
      const dialog = page.locator('#guide-dialog');
      const cited = dialog.locator('.guide-section.highlight h3');
      await cited.waitFor();
      // Still at the cited section a moment later (it used to jump back to the top).
      await page.waitForTimeout(800);
      const inView = () => cited.evaluate((h) => {
        const body = document.getElementById('guide-body')!.getBoundingClientRect();
        const r = h.getBoundingClientRect();
        return r.top >= body.top - 0.5 && r.bottom <= body.bottom + 0.5;
      });
      expect(await inView()).toBe(true);
      // The cited section is further down than the dialog shows at first, so staying there means something.
      expect(await page.locator('#guide-body').evaluate((b) => b.scrollTop)).toBeGreaterThan(0);
      // Bulleted guide text is a real list: one item per line, not run together in a paragraph.
      expect(await dialog.locator('.guide-section ul > li').count()).toBeGreaterThan(3);
      expect(await dialog.locator('.guide-section p', { hasText: /^- / }).count()).toBe(0);
      await expectAccessible(page, 'guide dialog');
      await expectLaidOut(page, 'guide dialog');
      await screenshot(page, `a11y-app-${size.name}-6-guide`);
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  }

  const KIOSK_SIZES: Array<Size & { axe: boolean }> = [
    ...SIZES.map((s) => ({ ...s, axe: true })),
    { name: '4k-landscape', viewport: { width: 3840, height: 2160 }, axe: false },
    { name: '4k-portrait', viewport: { width: 2160, height: 3840 }, axe: false },
  ];
  for (const size of KIOSK_SIZES) {
    it(`kiosk at ${size.viewport.width}×${size.viewport.height}: welcome, then 陈桂英's offer card`, async () => {
      const { page, errors, context } = await newPage(env.browser, size);
      await page.goto(`${env.server.baseUrl}/kiosk`);
      await page.getByRole('button', { name: '模拟刷身份证' }).waitFor();
      if (size.axe) await expectAccessible(page, 'kiosk welcome');
      await expectLaidOut(page, 'kiosk welcome');
      await screenshot(page, `a11y-kiosk-${size.name}-1-welcome`);

      await page.getByLabel('选择一张沙箱身份证').selectOption('c-chen-guiying');
      await page.getByRole('button', { name: '模拟刷身份证' }).click();
      await page.locator('#card-area .card-confirm').getByRole('button', { name: '确认领取' }).waitFor();
      if (size.axe) await expectAccessible(page, 'kiosk with a card');
      await expectLaidOut(page, 'kiosk with a card', '.kcomposer');
      // 退出 and the text input are on the screen as it is, whole, without scrolling.
      await expectOnScreen(page, ['#finish', '#kiosk-input'], 'with a card');
      // The card's buttons are on screen as it is and not under the input row: on a kiosk
      // screen without scrolling; on a phone-sized window once scrolled to.
      const confirmButton = page.locator('#card-area .card-confirm button').first();
      if (size.mobile) await confirmButton.scrollIntoViewIfNeeded();
      expect(await confirmButton.evaluate((b) => {
        const r = b.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        const composer = document.getElementById('composer')!.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= Math.min(window.innerHeight, composer.top) && hit !== null && b.contains(hit);
      }), '确认领取 on screen, above the input row').toBe(true);
      // Big touch targets at every size: no button on the service screen under 88px tall.
      const heights = await page.locator('#service button:visible').evaluateAll((bs) => bs.map((b) => [b.textContent?.trim(), Math.round(b.getBoundingClientRect().height)] as const));
      expect(heights.filter(([, h]) => h < 88), 'buttons under 88px').toEqual([]);
      expect(heights.length).toBeGreaterThan(3);
      await screenshot(page, `a11y-kiosk-${size.name}-2-card`);
      await page.getByRole('button', { name: '退出' }).click();
      await page.getByRole('button', { name: '模拟刷身份证' }).waitFor();
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  }

  for (const size of SIZES) {
    it(`kiosk at ${size.viewport.width}×${size.viewport.height}: after a handoff, the card, the input and 退出 on screen`, async () => {
      const { page, errors, context } = await newPage(env.browser, size);
      await page.goto(`${env.server.baseUrl}/kiosk`);
      await page.getByLabel('选择一张沙箱身份证').selectOption('c-lin-xiao');
      await page.getByRole('button', { name: '模拟刷身份证' }).click();
      await page.locator('#reply', { hasText: '您好' }).waitFor();
      await page.locator('#kiosk-input').fill('我要转人工');
      await page.locator('#kiosk-input').press('Enter');
      const card = page.locator('#card-area .card-handoff');
      await card.waitFor();
      await expectAccessible(page, 'kiosk after a handoff');
      await expectLaidOut(page, 'kiosk after a handoff', '.kcomposer');
      await expectOnScreen(page, ['#finish', '#kiosk-input'], 'after the handoff');
      await screenshot(page, `a11y-kiosk-${size.name}-3-handoff`);
      await page.getByRole('button', { name: '退出' }).click();
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);

    it(`卡包 and the verify page at ${size.viewport.width}×${size.viewport.height}: a QR shown, its verification`, async () => {
      const { page, errors, context } = await newPage(env.browser, size);
      await page.goto(`${env.server.baseUrl}/`);
      await page.getByRole('button', { name: /孙明/ }).click();
      await page.getByText('已登录：孙明').waitFor();
      await page.getByRole('tab', { name: '卡包' }).click();
      const first = page.locator('#licences article').first();
      await first.getByRole('button', { name: '出示' }).click();
      await first.locator('img.licence-qr').waitFor();
      await expectAccessible(page, '卡包 with a QR shown');
      await expectLaidOut(page, '卡包 with a QR shown', '.topbar, .tabs');
      await screenshot(page, `a11y-app-${size.name}-8-licence-qr`);
      // The page a verifier's phone opens, logged out.
      const { token } = await post('/api/auth/sandbox-login', { citizenId: 'c-sun-ming' });
      const auth = { authorization: `Bearer ${token}` };
      const licences = (await (await fetch(`${env.server.baseUrl}/api/me/licences`, { headers: auth })).json()) as { id: string }[];
      const share = (await (await fetch(`${env.server.baseUrl}/api/me/licences/${licences[0]!.id}/share`, { headers: auth })).json()) as { url: string };
      const verifier = await newPage(env.browser, size);
      await verifier.page.goto(share.url);
      await verifier.page.locator('#result .verdict').waitFor();
      await expectAccessible(verifier.page, 'verify page');
      await expectLaidOut(verifier.page, 'verify page');
      await screenshot(verifier.page, `a11y-verify-${size.name}`);
      expect(errors).toEqual([]);
      expect(verifier.errors).toEqual([]);
      await verifier.context.close();
      await context.close();
    }, 120_000);
  }

  for (const size of SIZES) {
    it(`staff console at ${size.viewport.width}×${size.viewport.height}: login form, the queue, a ticket`, async () => {
      const { page, errors, context } = await newPage(env.browser, size);
      await page.goto(`${env.server.baseUrl}/staff`);
      await page.getByLabel('用户名').waitFor();
      await expectAccessible(page, 'staff login');
      await expectLaidOut(page, 'staff login');
      await screenshot(page, `a11y-staff-${size.name}-1-login`);
      await signInStaff(page, env.server);
      await page.locator('#queue-body tr', { hasText: '王强' }).first().waitFor();
      await expectAccessible(page, 'staff queue');
      await expectLaidOut(page, 'staff queue');
      await screenshot(page, `a11y-staff-${size.name}-2-queue`);
      // A ticket opened: transcript, what the agent understood, the actions.
      await page.locator('#queue-body tr', { hasText: '王强' }).first().click();
      await page.locator('#detail').getByRole('button', { name: '认领' }).waitFor();
      await expectAccessible(page, 'staff ticket');
      await expectLaidOut(page, 'staff ticket');
      await screenshot(page, `a11y-staff-${size.name}-3-ticket`);
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  }
});
