import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { idNumberCheckChar } from '../tools/sandbox/id-number.js';
import { CITIZENS_PATH, loadSeedCitizens } from '../tools/sandbox/seed.js';

/**
 * The bench's sandbox citizens: the project's own, and `n` generated Shanghai residents like
 * 孙明 (no record on file), each with a valid ID number, so load clients spread over many people
 * (the same certificate twice in one day is reported, not made again).
 */
export function writeBenchCitizens(file: string, n = 120): string {
  const base = loadSeedCitizens(CITIZENS_PATH);
  const model = base.find((c) => c.id === 'c-sun-ming')!;
  const extra = Array.from({ length: n }, (_, i) => {
    const seq = String(i + 1).padStart(3, '0');
    const first17 = `31010119880312${seq}`;
    return {
      ...model,
      id: `c-bench-${seq}`,
      name: `测试${seq}`,
      id_number: `${first17}${idNumberCheckChar(first17)}`,
      phone: `139${String(10_000_000 + i).slice(-8)}`,
      story: 'bench load citizen',
    };
  });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ citizens: [...base, ...extra] }, null, 2));
  return file;
}
