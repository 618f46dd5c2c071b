import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileCache } from '../../core/file-cache.js';
import { createLocalEngine } from './engine.js';

/** The trained models kept between starts: a kept model answers exactly as a freshly trained one. */
const dir = mkdtempSync(join(tmpdir(), 'xiaoshen-nlu-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SMALL = { ensemble: 2, serviceEnsemble: 1, epochs: 2 };
const LINES = ['我要开无犯罪记录证明', '居住证怎么办', '帮我提取住房公积金，付房租', '退休手续要多久', '你好', '算了不办了', '我想辦張社會保障卡！'];

async function readings(engine: ReturnType<typeof createLocalEngine>) {
  return Promise.all(LINES.map(async (l) => {
    const r = await engine.understand(l);
    return { act: r.act, service: r.service, confidence: r.confidence, slots: r.slots };
  }));
}

describe('the NLU model cache', () => {
  it('keeps the trained models and, loaded again, gives the same readings', async () => {
    const trained = createLocalEngine({ ...SMALL, cache: new FileCache(dir) });
    const files = readdirSync(dir);
    expect(files.filter((f) => f.startsWith('nlu-act-') || f.startsWith('nlu-service-'))).toHaveLength(2);
    const loaded = createLocalEngine({ ...SMALL, cache: new FileCache(dir) });
    expect(await readings(loaded)).toEqual(await readings(trained));
    expect(await readings(loaded)).toEqual(await readings(createLocalEngine(SMALL)));
  });

  it('trains again when anything training depends on changes, or the kept file is damaged', async () => {
    const cache = new FileCache(dir);
    createLocalEngine({ ...SMALL, epochs: 3, cache });
    expect(readdirSync(dir).filter((f) => f.startsWith('nlu-act-'))).toHaveLength(2);
    for (const f of readdirSync(dir)) writeFileSync(join(dir, f), 'damaged');
    const again = createLocalEngine({ ...SMALL, cache });
    expect(await readings(again)).toEqual(await readings(createLocalEngine(SMALL)));
  });
});
