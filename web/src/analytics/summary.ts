/** The Summary of docs/api.md, The Summary and what the page derives from it. */

export type Range = '1h' | '24h' | '7d' | '30d';

export const RANGES: readonly Range[] = ['24h', '7d', '30d'];

export interface Totals {
  created: number;
  completed: number;
  uncompleted: number;
  deleted: number;
  updated: number;
}

export interface Bucket extends Partial<Totals> {
  t: string;
}

export interface Summary {
  range: Range;
  totals: Totals;
  series: Bucket[];
}

export function isRange(value: string | null): value is Range {
  return value !== null && (RANGES as readonly string[]).includes(value);
}

/**
 * Net completions (completed minus reopened) per task created in the period, between 0 and 1;
 * null when nothing was created, as a rate of nothing means nothing.
 */
export function completionRate(totals: Totals): number | null {
  if (totals.created <= 0) return null;
  const net = totals.completed - totals.uncompleted;
  return Math.min(1, Math.max(0, net / totals.created));
}

export function formatRate(rate: number | null): string {
  return rate === null ? '–' : `${Math.round(rate * 100)}%`;
}

/** Chart columns: bucket start in Unix seconds, then created and completed per bucket. */
export function seriesColumns(series: Bucket[]): [number[], number[], number[]] {
  const sorted = [...series].sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
  return [
    sorted.map((bucket) => Date.parse(bucket.t) / 1000),
    sorted.map((bucket) => bucket.created ?? 0),
    sorted.map((bucket) => bucket.completed ?? 0),
  ];
}
