import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE_PATH, CatalogueSchema, loadCatalogue } from '../knowledge/catalogue.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { TOOL } from '../tools/contract.js';
import { createMcpServer } from '../tools/mcp/server.js';
import type { Turn } from './turn.js';

/**
 * Issue #14 at the agent's HTTP API: every question can be answered by touch (a free-text
 * field offers its catalogue suggestions, typing another still works); the kiosk speaks the
 * point, not the whole reply; a review's what-to-check note is for staff only.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** Presses a button of the card (its text, with the card's token), as the app and kiosk do. */
async function press(session: string, token: string, turn: Turn, label: string): Promise<Turn> {
  const card = turn.card;
  if (!card || (card.type !== 'choices' && card.type !== 'confirm')) throw new Error(`no card with buttons: ${turn.reply}`);
  const buttons = card.type === 'choices' ? card.options.map((o) => ({ label: o.label, text: o.text ?? o.label, input: o.input })) : card.actions;
  const b = buttons.find((x) => x.label === label);
  if (!b) throw new Error(`no button 「${label}」 among ${buttons.map((x) => x.label).join('、')}`);
  const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${session}/messages`, headers: auth(token), payload: { text: b.text, cardToken: card.token } });
  expect(r.statusCode, r.body).toBe(200);
  return r.json<Turn>();
}

async function opening(session: string, token: string): Promise<Turn> {
  const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${session}/opening`, headers: auth(token) });
  expect(r.statusCode, r.body).toBe(200);
  return r.json<Turn>();
}

const SUGGESTED = ['美国', '英国', '日本', '澳大利亚', '加拿大', '新加坡', '韩国', '德国', '法国', '新西兰'];

describe('a touch option for the destination (a free-text field)', () => {
  it('asks the destination with the common countries to touch and a way to type another; a touch fills it', async () => {
    await t.reset('c-sun-ming');
    const token = await t.login('c-sun-ming');
    const s = await t.session(token, 'kiosk');
    const first = await t.say(s, token, '我要开无犯罪记录证明');
    expect(first.awaiting).toBe('purpose');
    const asked = await press(s, token, first, '出国(境)');
    expect(asked.awaiting).toBe('destination');
    expect(asked.reply).toContain('请问前往国家或地区是？');
    expect(asked.card?.type).toBe('choices');
    if (asked.card?.type !== 'choices') return;
    expect(asked.card.field).toBe('destination');
    expect(asked.card.options.filter((o) => !o.input).map((o) => o.label)).toEqual(SUGGESTED);
    // The last button types another: it is not an answer, and says so.
    const last = asked.card.options.at(-1)!;
    expect(last).toMatchObject({ label: '其他（手动输入）', input: true });

    const filled = await press(s, token, asked, '新西兰');
    expect(filled.awaiting).toBe('confirm');
    expect(filled.card?.type).toBe('confirm');
    if (filled.card?.type !== 'confirm') return;
    expect(filled.card.fields.find((f) => f.key === 'destination')?.value).toBe('新西兰');
    expect(filled.card.fields.find((f) => f.key === 'purpose')?.value).toBe('出国(境)');
  });

  it('still takes a typed country that is not suggested, and "第二个" picks the second suggestion', async () => {
    await t.reset('c-sun-ming');
    const token = await t.login('c-sun-ming');
    const typed = await t.session(token, 'kiosk');
    await t.say(typed, token, '我要开无犯罪记录证明');
    const asked = await t.say(typed, token, '出国');
    expect(asked.awaiting).toBe('destination');
    const other = await t.say(typed, token, '葡萄牙');
    expect(other.awaiting).toBe('confirm');
    if (other.card?.type !== 'confirm') throw new Error(other.reply);
    expect(other.card.fields.find((f) => f.key === 'destination')?.value).toBe('葡萄牙');

    const picked = await t.session(token, 'kiosk');
    await t.say(picked, token, '我要开无犯罪记录证明');
    await t.say(picked, token, '出国');
    const second = await t.say(picked, token, '第二个');
    if (second.card?.type !== 'confirm') throw new Error(second.reply);
    expect(second.card.fields.find((f) => f.key === 'destination')?.value).toBe('英国');
  });

  it('refuses suggestions on a field that has options, and suggestions its own validation would refuse', () => {
    const raw = JSON.parse(readFileSync(CATALOGUE_PATH, 'utf8')) as { services: { id: string; fields: Record<string, unknown>[] }[] };
    const svc = raw.services.find((x) => x.id === 'criminal_record_certificate')!;
    const purpose = svc.fields.find((f) => f.key === 'purpose')!;
    const destination = svc.fields.find((f) => f.key === 'destination')!;
    const parses = (fields: Record<string, unknown>[]) => CatalogueSchema.safeParse({ ...raw, services: raw.services.map((x) => (x === svc ? { ...x, fields } : x)) });
    expect(parses(svc.fields).success).toBe(true);
    const onOptions = parses(svc.fields.map((f) => (f === purpose ? { ...f, suggestions: ['就业'] } : f)));
    expect(onOptions.success).toBe(false);
    expect(JSON.stringify(onOptions.error?.issues)).toMatch(/free-text ask fields/);
    const tooShort = parses(svc.fields.map((f) => (f === destination ? { ...f, suggestions: ['美'] } : f)));
    expect(tooShort.success).toBe(false);
    expect(JSON.stringify(tooShort.error?.issues)).toMatch(/validation/);
  });
});

describe('the kiosk speaks the point, the screen shows the details', () => {
  it('the greeting is spoken short, with its point', async () => {
    const token = await t.login('c-sun-ming');
    const s = await t.session(token, 'kiosk');
    const turn = await opening(s, token);
    expect(turn.speech).toBeDefined();
    expect([...turn.speech!].length).toBeLessThanOrEqual([...turn.reply].length / 2);
    expect(turn.speech).toContain('请说出您要办的事');
  });

  it('an offer at the greeting is spoken as what she can have, without the reasons and the amount', async () => {
    await t.reset('c-chen-guiying');
    const token = await t.login('c-chen-guiying');
    const s = await t.session(token, 'kiosk');
    const turn = await opening(s, token);
    expect(turn.reply).toContain('您今年71周岁');
    expect(turn.speech).toContain('老年综合津贴');
    expect(turn.speech).toContain('确认');
    expect(turn.speech).not.toContain('71周岁');
    expect(turn.speech).not.toMatch(/元/);
    expect([...turn.speech!].length).toBeLessThanOrEqual([...turn.reply].length / 2);
  });

  it('a pre-filled confirmation is spoken without the pre-filled values, and still asks to confirm', async () => {
    await t.reset('c-sun-ming');
    const token = await t.login('c-sun-ming');
    const s = await t.session(token, 'kiosk');
    const turn = await t.say(s, token, '我要开无犯罪记录证明，用于就业');
    expect(turn.awaiting).toBe('confirm');
    // The screen: what was pre-filled, from his records.
    expect(turn.reply).toContain('孙明');
    expect(turn.speech).toBeDefined();
    expect(turn.speech).toContain('有无犯罪记录证明');
    expect(turn.speech).toContain('确认');
    expect(turn.speech).not.toContain('孙明');
    expect(turn.speech).not.toMatch(/\d{4}/);
    expect([...turn.speech!].length).toBeLessThanOrEqual([...turn.reply].length / 2);
    // A question with options is spoken without reading the options out.
    const s2 = await t.session(token, 'kiosk');
    const q = await t.say(s2, token, '我要开无犯罪记录证明');
    expect(q.reply).toContain('收养');
    expect(q.speech).toContain('请问用途是哪一种');
    expect(q.speech).not.toContain('收养');
  });
});

describe('the staff-only review note', () => {
  const NOTE = loadCatalogue().services.find((s) => s.id === 'criminal_record_certificate')!.outcome!.review[0]!.check;

  it('staff see what to check; the citizen\'s chat, /api/me and MCP tools never carry it or hint at the reason', async () => {
    await t.reset('c-zhao-lei');
    const token = await t.login('c-zhao-lei');
    const s = await t.session(token, 'app');
    await t.say(s, token, '我要开无犯罪记录证明');
    await t.say(s, token, '出国留学用，去英国');
    const done = await t.say(s, token, '确认');
    expect(done.outcome).toBe('handoff');
    const handoffId = done.handoff!.id;
    const applicationId = done.application!.id;

    const staff = await t.staffToken();
    const detail = await t.app.inject({ method: 'GET', url: `/api/staff/handoffs/${handoffId}`, headers: auth(staff) });
    expect(detail.statusCode).toBe(200);
    expect(detail.json<{ staffNote: string }>().staffNote).toBe(NOTE);

    // The citizen's side: every reply, the session's transcript, their own API, their MCP tools.
    const forbidden = [NOTE, '人工核查', '封存', '犯罪人员信息系统', '在案', 'record_on_file', '核查结果'];
    const seen: string[] = [JSON.stringify(done)];
    seen.push((await t.app.inject({ method: 'GET', url: `/api/sessions/${s}`, headers: auth(token) })).body);
    for (const url of ['/api/me', '/api/me/applications', `/api/me/handoffs/${handoffId}`, '/api/me/licences', '/api/me/offers', '/api/me/bundles']) {
      const r = await t.app.inject({ method: 'GET', url, headers: auth(token) });
      expect(r.statusCode, url).toBe(200);
      seen.push(r.body);
    }
    const later = await t.say(s, token, '我的申请为什么要人工审核？');
    seen.push(JSON.stringify(later));
    const principal = await t.ctx.identity.verifyToken(token);
    const server = createMcpServer(t.ctx.gov, principal);
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'test', version: '1.0.0' });
    await server.connect(b);
    await client.connect(a);
    for (const [name, args] of [[TOOL.getApplicationStatus, { applicationId }], [TOOL.listMyApplications, {}], [TOOL.getMyProfile, {}]] as const) {
      seen.push(JSON.stringify(await client.callTool({ name, arguments: args })));
    }
    await client.close();
    const all = seen.join('\n');
    expect(all).toContain(applicationId); // the citizen's views were read, not empty
    for (const f of forbidden) expect(all, f).not.toContain(f);
  });
});
