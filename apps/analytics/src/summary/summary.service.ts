import {
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  type Summary,
  type SummaryRange,
} from '@taskit/contracts';
import {
  duration,
  identifier,
  influxql,
  queryInfluxQl,
  rowsOf,
  type InfluxQlTarget,
} from '@taskit/influx';
import { assembleSummary, bucketStarts, RANGE_BUCKETS, type WindowRow } from './summary-buckets';

/** Answers `analytics.summary` from the worker's points of one user (docs/api.md), in InfluxQL. */
export class SummaryService {
  constructor(private readonly influx: InfluxQlTarget) {}

  query(userId: string, range: SummaryRange, starts: number[]): string {
    const { every, everyMs } = RANGE_BUCKETS[range];
    const start = new Date(starts[0]);
    const stop = new Date(starts[starts.length - 1] + everyMs);
    const tag = (name: string) => identifier(name);
    // `probe = ''` matches the points without the probe tag (the doctor's probes have it).
    return influxql`SELECT sum(${identifier(TaskEventFields.count)}) FROM ${identifier(TASK_EVENTS_MEASUREMENT)} WHERE ${tag(TaskEventTags.source)} = ${'worker'} AND ${tag(TaskEventTags.userId)} = ${userId} AND ${tag(TaskEventTags.probe)} = ${''} AND time >= ${start} AND time < ${stop} GROUP BY time(${duration(every)}), ${tag(TaskEventTags.type)} fill(none)`;
  }

  async summary(userId: string, range: SummaryRange, nowMs = Date.now()): Promise<Summary> {
    const starts = bucketStarts(range, nowMs);
    const series = await queryInfluxQl(this.influx, this.query(userId, range, starts));
    const rows: WindowRow[] = rowsOf(series).map((row) => ({
      start: new Date(Number(row.time)).toISOString(),
      type: String(row[TaskEventTags.type]),
      value: Number(row.sum),
    }));
    return assembleSummary(range, starts, rows);
  }
}
