import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('configuration', () => {
  it('takes a variable set empty as unset (compose passes `${X:-}` as an empty string)', () => {
    const c = loadConfig({ METRICS_TOKEN: '', DATABASE_URL: ' ', PORT: '', CACHE_DIR: '' });
    expect(c.METRICS_TOKEN).toBeUndefined();
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.PORT).toBe(3000);
    expect(c.CACHE_DIR).toBeUndefined();
  });

  it('still refuses a value that is set but wrong, naming the variable', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  });
});
