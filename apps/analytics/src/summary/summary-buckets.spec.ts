import { assembleSummary, bucketStarts, RANGE_BUCKETS } from './summary-buckets';

describe('bucketStarts', () => {
  const now = Date.parse('2026-11-26T06:46:21.123Z');

  it.each(Object.entries(RANGE_BUCKETS))(
    '%s: aligned, continuous, ending at now',
    (range, spec) => {
      const starts = bucketStarts(range as keyof typeof RANGE_BUCKETS, now);
      expect(starts).toHaveLength(spec.buckets);
      for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBe(spec.everyMs);
      expect(starts.every((t) => t % spec.everyMs === 0)).toBe(true);
      expect(
        starts[starts.length - 1] <= now && now < starts[starts.length - 1] + spec.everyMs,
      ).toBe(true);
    },
  );

  it('starts 1d buckets at midnight UTC', () => {
    expect(new Date(bucketStarts('30d', now).at(-1)!).toISOString()).toBe(
      '2026-11-26T00:00:00.000Z',
    );
  });
});

describe('assembleSummary', () => {
  it('fills empty buckets and totals the series', () => {
    const starts = bucketStarts('1h', Date.parse('2026-11-26T06:46:21Z'));
    const summary = assembleSummary('1h', starts, [
      { start: '2026-11-26T06:45:00Z', type: 'task.created', value: 3 },
      { start: '2026-11-26T06:45:00Z', type: 'task.completed', value: 1 },
      { start: '2026-11-26T06:00:00Z', type: 'task.created', value: 2 },
      { start: '2026-11-26T06:00:00Z', type: 'task.unknown', value: 7 },
    ]);
    expect(summary.series).toHaveLength(12);
    expect(summary.series[0].t).toBe('2026-11-26T05:50:00.000Z');
    expect(summary.series[11]).toEqual({
      t: '2026-11-26T06:45:00.000Z',
      created: 3,
      completed: 1,
      uncompleted: 0,
      deleted: 0,
      updated: 0,
    });
    expect(summary.totals).toEqual({
      created: 5,
      completed: 1,
      uncompleted: 0,
      deleted: 0,
      updated: 0,
    });
    expect(summary.series.filter((b) => b.created + b.completed === 0)).toHaveLength(10);
  });
});
