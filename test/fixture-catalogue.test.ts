import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkData } from '../app/data-check.js';
import { CATALOGUE_PATH } from '../knowledge/catalogue.js';
import { GUIDES_DIR } from '../knowledge/guides.js';
import { startTestApp, type TestApp } from './app.js';

/**
 * Service behaviour is data: a 31st transactable service, added as data only (a catalogue
 * entry with an eligibility rule, a review outcome and an editable field, its guide and its
 * phrasings: test/fixtures/catalogue), is completed end to end by the unchanged product.
 * Its field label 犬只类别 holds 别, a negation word: the change hint still reads as a change.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/catalogue/', import.meta.url));
let dir: string;
let t: TestApp;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xs-catalogue-'));
  const services = JSON.parse(readFileSync(CATALOGUE_PATH, 'utf8')) as { services: unknown[]; bundles: unknown[] };
  services.services.push(JSON.parse(readFileSync(join(FIXTURE, 'service.json'), 'utf8')));
  // A 一件事 bundle added as data: its part service, its own service (for its guide) and the bundle entry.
  const extra = JSON.parse(readFileSync(join(FIXTURE, 'bundle', 'catalogue.json'), 'utf8')) as { services: unknown[]; bundles: unknown[] };
  services.services.push(...extra.services);
  services.bundles.push(...extra.bundles);
  writeFileSync(join(dir, 'services.json'), JSON.stringify(services));
  cpSync(GUIDES_DIR, join(dir, 'guides'), { recursive: true });
  mkdirSync(join(dir, 'guides', 'dog_licence'));
  for (const f of ['guide.md', 'phrasings.yaml']) copyFileSync(join(FIXTURE, f), join(dir, 'guides', 'dog_licence', f));
  cpSync(join(FIXTURE, 'bundle', 'dog_vaccination'), join(dir, 'guides', 'dog_vaccination'), { recursive: true });
  cpSync(join(FIXTURE, 'bundle', 'dog_one_thing'), join(dir, 'guides', 'dog_one_thing'), { recursive: true });
  t = await startTestApp({}, {}, { cataloguePath: join(dir, 'services.json'), guidesDir: join(dir, 'guides') });
});
afterAll(async () => {
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a service added as data only', () => {
  it('passes the data check', () => {
    expect(checkData({ catalogue: join(dir, 'services.json'), guidesDir: join(dir, 'guides'), spec: null })).toEqual([]);
  });

  it('is completed end to end, with its editable field changed, and goes to review by its rule', async () => {
    const token = await t.login('c-lin-xiao');
    const s = await t.session(token);
    const first = await t.say(s, token, '我要办养犬登记');
    expect(first).toMatchObject({ service: 'dog_licence', awaiting: 'dog_size' });
    expect((await t.say(s, token, '大型犬')).awaiting).toBe('dog_name');
    expect((await t.say(s, token, '旺财')).awaiting).toBe('confirm');
    const edited = await t.say(s, token, '犬牌邮寄地址改成上海市徐汇区宜山路700号');
    expect(edited.awaiting).toBe('confirm');
    expect(JSON.stringify(edited.card)).toContain('宜山路700号');
    const hint = await t.say(s, token, '犬只类别改成中型犬');
    expect(hint.awaiting).toBe('confirm');
    expect(JSON.stringify(hint.card)).toContain('中型犬');
    expect((await t.say(s, token, '犬只类别改成大型犬')).awaiting).toBe('confirm');
    const done = await t.say(s, token, '确认');
    expect(done.outcome).toBe('handoff');
    const app = await t.app.inject({ method: 'GET', url: `/api/applications/${done.application!.id}`, headers: { authorization: `Bearer ${token}` } });
    expect(app.json()).toMatchObject({ serviceId: 'dog_licence', status: 'under_review', fields: { dog_size: '大型犬', dog_name: '旺财', mailing_address: '上海市徐汇区宜山路700号' } });
  });

  it('declines an ineligible citizen with the rule\'s reason', async () => {
    const token = await t.login('c-wang-qiang');
    const s = await t.session(token);
    const r = await t.say(s, token, '帮我办个犬证');
    expect(r.outcome).toBe('declined');
    expect(r.reply).toContain('仅限本市户籍居民');
  });
});

describe('a 一件事 bundle added as data only', () => {
  it('is completed in one conversation: parts said, shared field asked once, one application per part', async () => {
    await t.reset('c-lin-xiao');
    const token = await t.login('c-lin-xiao');
    const s = await t.session(token);
    const first = await t.say(s, token, '我要办养犬一件事');
    expect(first).toMatchObject({ service: 'dog_one_thing', awaiting: 'dog_name' });
    expect(first.reply).toContain('犬只狂犬病免疫登记');
    expect(first.reply).toContain('区农业农村委');
    expect((await t.say(s, token, '旺财')).awaiting).toBe('vaccine_site');
    expect((await t.say(s, token, '社区集中免疫点')).awaiting).toBe('dog_size');
    const card = await t.say(s, token, '小型犬');
    expect(card.awaiting).toBe('confirm');
    expect(card.card?.type === 'confirm' && card.card.groups?.map((g) => g.department)).toEqual(['区农业农村委', '区公安分局']);
    const done = await t.say(s, token, '确认');
    expect(done.outcome).toBe('submitted');
    const apps = (await t.app.inject({ method: 'GET', url: '/api/me/applications', headers: { authorization: `Bearer ${token}` } })).json<{ serviceId: string; fields: Record<string, string> }[]>();
    expect(apps.map((a) => a.serviceId).sort()).toEqual(['dog_licence', 'dog_vaccination']);
    expect(apps.every((a) => a.fields.dog_name === '旺财')).toBe(true);
    // A replayed confirmation files nothing new.
    await t.say(s, token, '确认');
    expect((await t.app.inject({ method: 'GET', url: '/api/me/applications', headers: { authorization: `Bearer ${token}` } })).json<unknown[]>()).toHaveLength(2);
  });

  it('declines by the bundle\'s own rule', async () => {
    const token = await t.login('c-wang-qiang');
    const s = await t.session(token);
    const r = await t.say(s, token, '我要办养犬一件事');
    expect(r.outcome).toBe('declined');
    expect(r.reply).toContain('仅限本市户籍居民');
  });
});
