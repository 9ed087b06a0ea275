import { formatNanoseconds, TaskEventFactory, UniqueNanosecondClock } from './task-event.factory';

describe('UniqueNanosecondClock', () => {
  it('never repeats and never goes back, even within one millisecond', () => {
    const clock = new UniqueNanosecondClock();
    const values = Array.from({ length: 10_000 }, () => clock.now());
    for (let i = 1; i < values.length; i++) expect(values[i] > values[i - 1]).toBe(true);
  });
});

describe('formatNanoseconds', () => {
  it('prints RFC 3339 in UTC with nine fractional digits', () => {
    expect(formatNanoseconds(1795675581123456789n)).toBe('2026-11-26T06:46:21.123456789Z');
    expect(formatNanoseconds(1795675581000000001n)).toBe('2026-11-26T06:46:21.000000001Z');
  });
});

describe('TaskEventFactory', () => {
  it('makes contract-shaped events with distinct ids and timestamps', () => {
    const factory = new TaskEventFactory();
    const a = factory.create('task.created', 't1', 'u1');
    const b = factory.create('task.completed', 't1', 'u1');
    expect(a).toMatchObject({ type: 'task.created', taskId: 't1', userId: 'u1', version: 1 });
    expect(a.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(a.eventId).not.toBe(b.eventId);
    expect(a.occurredAt < b.occurredAt).toBe(true);
  });
});
