import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The HMAC secret for tokens: TOKEN_SECRET when set; otherwise generated once and kept in
 * DATA_DIR/token-secret (so tokens survive a restart); in memory mode, random per process.
 */
export function loadTokenSecret(opts: { tokenSecret?: string; dataDir: string }): Uint8Array {
  if (opts.tokenSecret) return new TextEncoder().encode(opts.tokenSecret);
  if (opts.dataDir.startsWith('memory://')) return randomBytes(32);
  const dir = resolve(opts.dataDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'token-secret');
  try {
    writeFileSync(file, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file}: not a token secret (expected 64 hex characters)`);
  return Buffer.from(hex, 'hex');
}
