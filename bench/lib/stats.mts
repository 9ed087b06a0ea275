export { sleep } from '../../libs/testing/src/ports.ts';

/** Nearest-rank percentile of unsorted samples (NaN when there are none). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return 0;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

/** Wall-clock milliseconds with sub-millisecond resolution (same clock in every process). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
