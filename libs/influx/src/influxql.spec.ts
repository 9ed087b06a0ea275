import { duration, identifier, influxql, literal, rowsOf } from './influxql';

describe('InfluxQL quoting', () => {
  it('quotes strings, identifiers and times so that no value can end its literal', () => {
    const hostile = `x' OR "type" = 'task.created`;
    expect(
      influxql`SELECT * FROM ${identifier('task "events"')} WHERE "user_id" = ${hostile}`,
    ).toBe(
      `SELECT * FROM "task \\"events\\"" WHERE "user_id" = 'x\\' OR "type" = \\'task.created'`,
    );
    expect(literal('back\\slash')).toBe(`'back\\\\slash'`);
    expect(literal(new Date(Date.UTC(2026, 0, 2)))).toBe(`'2026-01-02T00:00:00.000Z'`);
    expect(literal(42)).toBe('42');
    expect(literal(duration('5m'))).toBe('5m');
  });

  it('refuses what is not a duration or a finite number', () => {
    expect(() => duration('1h; DROP DATABASE taskit')).toThrow('not a duration');
    expect(() => literal(Number.NaN)).toThrow('not a finite number');
  });

  it('turns series into rows carrying their tags', () => {
    expect(
      rowsOf([
        {
          name: 'task_events',
          tags: { source: 'worker' },
          columns: ['time', 'count'],
          values: [[0, 4]],
        },
      ]),
    ).toEqual([{ source: 'worker', time: 0, count: 4 }]);
  });
});
