import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configuredCache, FileCache } from './file-cache.js';

const root = mkdtempSync(join(tmpdir(), 'xiaoshen-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('FileCache', () => {
  it('returns what was kept under the same key and nothing under another', () => {
    const c = new FileCache(join(root, 'a'));
    const key = FileCache.key('data', 'v1');
    expect(c.get('model', key)).toBeUndefined();
    c.set('model', key, Buffer.from('weights'));
    expect(c.get('model', key)?.toString()).toBe('weights');
    expect(c.get('model', FileCache.key('data', 'v2'))).toBeUndefined();
    expect(FileCache.key('a', 'b')).not.toBe(FileCache.key('ab'));
  });

  it('keeps only the newest few entries of a name and leaves no temporary files', () => {
    const dir = join(root, 'b');
    const c = new FileCache(dir);
    for (let i = 0; i < 6; i++) {
      c.set('m', FileCache.key(String(i)), Buffer.from(String(i)));
      const f = readdirSync(dir).find((x) => x.includes(FileCache.key(String(i)).slice(0, 24)))!;
      utimesSync(join(dir, f), new Date(), new Date(Date.now() + i * 1000));
    }
    c.set('other', FileCache.key('x'), Buffer.from('x'));
    const files = readdirSync(dir);
    expect(files.filter((f) => f.startsWith('m-'))).toHaveLength(3);
    expect(c.get('m', FileCache.key('5'))?.toString()).toBe('5');
    expect(c.get('m', FileCache.key('0'))).toBeUndefined();
    expect(files.some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('never fails its caller: an unwritable folder only reports why', () => {
    const ro = join(root, 'ro');
    writeFileSync(ro, 'a file where the folder should be');
    const errors: string[] = [];
    const c = new FileCache(join(ro, 'sub'), (m) => errors.push(m));
    expect(() => c.set('m', 'k', Buffer.from('x'))).not.toThrow();
    expect(c.get('m', 'k')).toBeUndefined();
    expect(errors.join('\n')).toMatch(/not written/);
  });

  it('is off with CACHE_DIR=off', () => {
    expect(configuredCache({ CACHE_DIR: 'off' })).toBeUndefined();
    expect(configuredCache({ CACHE_DIR: join(root, 'c') })?.dir).toBe(join(root, 'c'));
  });
});
