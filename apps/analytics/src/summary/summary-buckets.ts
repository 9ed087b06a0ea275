import type { SummaryBucket, SummaryCounts, SummaryRange } from '@taskit/contracts';

/** Bucket width per range: a continuous axis of 12 to 30 buckets. */
export const RANGE_BUCKETS: Record<
  SummaryRange,
  { every: string; everyMs: number; buckets: number }
> = {
  '1h': { every: '5m', everyMs: 5 * 60_000, buckets: 12 },
  '24h': { every: '1h', everyMs: 3_600_000, buckets: 24 },
  '7d': { every: '6h', everyMs: 6 * 3_600_000, buckets: 28 },
  '30d': { every: '1d', everyMs: 86_400_000, buckets: 30 },
};

/**
 * The buckets of a range at `nowMs`, aligned to multiples of the width since the epoch (as
 * InfluxQL's GROUP BY time() aligns them; 1d buckets start at midnight UTC). The last one holds now.
 */
export function bucketStarts(range: SummaryRange, nowMs: number): number[] {
  const { everyMs, buckets } = RANGE_BUCKETS[range];
  const last = Math.floor(nowMs / everyMs) * everyMs;
  return Array.from({ length: buckets }, (_, i) => last - (buckets - 1 - i) * everyMs);
}

export function emptyCounts(): SummaryCounts {
  return { created: 0, completed: 0, uncompleted: 0, deleted: 0, updated: 0 };
}

/** `task.completed` → `completed`. */
export function countKey(type: string): keyof SummaryCounts | undefined {
  const key = type.replace(/^task\./, '');
  return key in emptyCounts() ? (key as keyof SummaryCounts) : undefined;
}

export interface WindowRow {
  start: string;
  type: string;
  value: number;
}

/** Every bucket of the range, empty ones included, and totals equal to the series' sums. */
export function assembleSummary(range: SummaryRange, starts: number[], rows: WindowRow[]) {
  const series: SummaryBucket[] = starts.map((t) => ({
    t: new Date(t).toISOString(),
    ...emptyCounts(),
  }));
  const index = new Map(starts.map((t, i) => [t, i]));
  const totals = emptyCounts();
  for (const row of rows) {
    const key = countKey(row.type);
    const i = index.get(Date.parse(row.start));
    if (!key || i === undefined || !Number.isFinite(row.value)) continue;
    series[i][key] += row.value;
    totals[key] += row.value;
  }
  return { range, totals, series };
}
