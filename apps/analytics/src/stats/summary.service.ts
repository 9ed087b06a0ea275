import type { InfluxDB } from '@influxdata/influxdb-client';
import {
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  type Summary,
  type SummaryRange,
} from '@taskit/contracts';
import { assembleSummary, bucketStarts, RANGE_BUCKETS, type WindowRow } from './summary-buckets';

/** A Flux string literal. */
function fluxString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Answers `analytics.summary` from the worker's points of one user (docs/api.md). */
export class SummaryService {
  constructor(
    private readonly influx: InfluxDB,
    private readonly org: string,
    private readonly bucket: string,
  ) {}

  query(userId: string, range: SummaryRange, starts: number[]): string {
    const { every, everyMs } = RANGE_BUCKETS[range];
    const start = new Date(starts[0]).toISOString();
    const stop = new Date(starts[starts.length - 1] + everyMs).toISOString();
    return `from(bucket: ${fluxString(this.bucket)})
  |> range(start: ${start}, stop: ${stop})
  |> filter(fn: (r) => r._measurement == ${fluxString(TASK_EVENTS_MEASUREMENT)} and r._field == ${fluxString(TaskEventFields.count)})
  |> filter(fn: (r) => r.${TaskEventTags.source} == "worker" and r.${TaskEventTags.userId} == ${fluxString(userId)})
  |> filter(fn: (r) => not exists r.${TaskEventTags.probe})
  |> group(columns: [${fluxString(TaskEventTags.type)}])
  |> window(every: ${every})
  |> sum()
  |> keep(columns: ["_start", ${fluxString(TaskEventTags.type)}, "_value"])`;
  }

  async summary(userId: string, range: SummaryRange, nowMs = Date.now()): Promise<Summary> {
    const starts = bucketStarts(range, nowMs);
    const rows = await this.influx
      .getQueryApi(this.org)
      .collectRows<WindowRow>(this.query(userId, range, starts), (values, meta) => ({
        start: String(values[meta.column('_start').index]),
        type: String(values[meta.column(TaskEventTags.type).index]),
        value: Number(values[meta.column('_value').index]),
      }));
    return assembleSummary(range, starts, rows);
  }
}
