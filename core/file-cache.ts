import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The install's cache folder (beside the sources, git-ignored) unless CACHE_DIR says otherwise. */
export const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../.cache/', import.meta.url));

/** Entries kept per name. */
const KEEP = 3;

/**
 * A folder of derived artefacts that are costly to rebuild and a pure function of their key
 * (a trained model, an initialised empty database). A file per name and key; writing keeps a
 * name's few newest keys (see set). Reads and writes never fail the caller: a missing, unreadable,
 * corrupt or read-only cache only means the work is done again (`onError` is told why).
 */
export class FileCache {
  readonly dir: string;

  constructor(dir: string, private readonly onError: (message: string) => void = () => undefined) {
    this.dir = resolve(dir);
  }

  /** The key of some content: a hex SHA-256 of the parts, in order. */
  static key(...parts: (string | Uint8Array)[]): string {
    const h = createHash('sha256');
    for (const p of parts) h.update(p).update('\u0000');
    return h.digest('hex');
  }

  private file(name: string, key: string): string {
    return join(this.dir, `${name}-${key.slice(0, 24)}.bin`);
  }

  get(name: string, key: string): Buffer | undefined {
    try {
      return readFileSync(this.file(name, key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(`cache ${name} unreadable: ${(err as Error).message}`);
      return undefined;
    }
  }

  /**
   * Writes atomically (temporary file, then rename) and keeps only this name's few most
   * recent entries (two builds of the same code, e.g. bundled and from source, differ in key).
   */
  set(name: string, key: string, data: Uint8Array): void {
    const target = this.file(name, key);
    const tmp = `${target}.${process.pid}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, data);
      renameSync(tmp, target);
      const older = readdirSync(this.dir)
        .filter((f) => f.startsWith(`${name}-`) && f.endsWith('.bin') && join(this.dir, f) !== target)
        .map((f) => ({ f, t: statSync(join(this.dir, f)).mtimeMs }))
        .sort((a, b) => b.t - a.t);
      for (const { f } of older.slice(KEEP - 1)) rmSync(join(this.dir, f), { force: true });
    } catch (err) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // Nothing was written there either.
      }
      this.onError(`cache ${name} not written: ${(err as Error).message}`);
    }
  }
}

/** The cache a configuration asks for (CACHE_DIR, default the install's `.cache/`; `off`: none). */
export function configuredCache(config: { CACHE_DIR?: string | undefined }, onError?: (message: string) => void): FileCache | undefined {
  if (config.CACHE_DIR === 'off') return undefined;
  return new FileCache(config.CACHE_DIR || DEFAULT_CACHE_DIR, onError);
}
