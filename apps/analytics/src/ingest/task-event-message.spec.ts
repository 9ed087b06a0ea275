import { randomUUID } from 'node:crypto';
import { parseTaskEventMessage, rfc3339ToNanoseconds, toPoint } from './task-event-message';

const event = {
  eventId: randomUUID(),
  type: 'task.completed',
  taskId: '6b07e21e530b1a4d293d6cd8',
  userId: '6b07e21e530b1a4d293d6cd9',
  occurredAt: '2026-11-26T06:46:21.123456789Z',
  version: 1,
};
const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('rfc3339ToNanoseconds', () => {
  it('keeps all nine digits exactly (beyond 2^53)', () => {
    expect(rfc3339ToNanoseconds('2026-11-26T06:46:21.123456789Z')).toBe('1795675581123456789');
    expect(rfc3339ToNanoseconds('2026-11-26T06:46:21Z')).toBe('1795675581000000000');
    expect(rfc3339ToNanoseconds('2026-11-26T07:46:21.5+01:00')).toBe('1795675581500000000');
  });

  it('refuses what is not RFC 3339', () => {
    expect(rfc3339ToNanoseconds('yesterday')).toBeUndefined();
    expect(rfc3339ToNanoseconds('2026-11-26 06:46:21Z')).toBeUndefined();
    expect(rfc3339ToNanoseconds('2026-11-26T06:46:21.1234567891Z')).toBeUndefined();
  });
});

describe('parseTaskEventMessage', () => {
  it('accepts a contract message', () => {
    const parsed = parseTaskEventMessage(body({ pattern: 'task.completed', data: event }));
    expect(parsed).toEqual({ ok: true, event, timestampNs: '1795675581123456789' });
  });

  it.each([
    ['invalid_json', Buffer.from('{"pattern": "task.created", ')],
    ['wrong_shape', body(['task.created'])],
    ['wrong_shape', body({ pattern: 'task.created' })],
    ['wrong_shape', body({ pattern: 'task.completed', data: { ...event, occurredAt: 'now' } })],
    ['wrong_shape', body({ pattern: 'task.completed', data: { ...event, userId: '' } })],
    ['wrong_shape', body({ pattern: 'task.completed', data: { ...event, version: 2 } })],
    ['wrong_shape', body({ pattern: 'task.created', data: event })],
    [
      'unknown_pattern',
      body({ pattern: 'task.exploded', data: { ...event, type: 'task.exploded' } }),
    ],
  ])('dead-letters %s', (reason, content) => {
    const parsed = parseTaskEventMessage(content);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok === false && parsed.reason).toBe(reason);
  });
});

describe('toPoint', () => {
  it('follows the InfluxDB schema with source=worker and the event time', () => {
    const line = toPoint(event as never, '1795675581123456789').toLineProtocol();
    expect(line).toBe(
      `task_events,source=worker,type=task.completed,user_id=${event.userId} ` +
        `count=1i,event_id="${event.eventId}",task_id="${event.taskId}" 1795675581123456789`,
    );
  });

  it('tags a probe event probe=true, as Telegraf does, and no other event', () => {
    const line = toPoint(
      { ...event, probe: true } as never,
      '1795675581123456789',
    ).toLineProtocol();
    expect(line).toMatch(/^task_events,probe=true,source=worker,type=task\.completed,/);
    expect(toPoint(event as never, '1').toLineProtocol()).not.toContain('probe');
  });
});
