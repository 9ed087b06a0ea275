/** The gateway asks the analytics service for a user's productivity (docs/api.md, the summary RPC and the Summary). */
export const ANALYTICS_SUMMARY_PATTERN = 'analytics.summary';

export const SUMMARY_RANGES = ['1h', '24h', '7d', '30d'] as const;
export type SummaryRange = (typeof SUMMARY_RANGES)[number];

export interface SummaryRequest {
  userId: string;
  range: SummaryRange;
}

export interface SummaryCounts {
  created: number;
  completed: number;
  uncompleted: number;
  deleted: number;
  updated: number;
}

export interface SummaryBucket extends SummaryCounts {
  /** ISO-8601 start of the bucket. */
  t: string;
}

export interface Summary {
  range: SummaryRange;
  totals: SummaryCounts;
  series: SummaryBucket[];
}

export function isSummaryRange(value: unknown): value is SummaryRange {
  return typeof value === 'string' && (SUMMARY_RANGES as readonly string[]).includes(value);
}
