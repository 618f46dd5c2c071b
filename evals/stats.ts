/** Small numeric helpers shared by the scorers. */

/** Nearest-rank percentile (p in 0..100) of `values`; null for an empty list. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** `num / den`, or null when there is nothing to divide by. */
export function ratio(num: number, den: number): number | null {
  return den === 0 ? null : num / den;
}

/** Rounds to `digits` decimals (keeps report.json readable); null stays null. */
export function round(value: number | null, digits = 4): number | null {
  if (value === null || !Number.isFinite(value)) return value === null ? null : value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
