import { randomUUID } from 'node:crypto';
import { InfluxDB } from '@influxdata/influxdb-client';
import { TASK_EVENTS_MEASUREMENT, type TaskEvent } from '@taskit/contracts';
import { rfc3339ToNanoseconds, toPoint } from '../../apps/analytics/src/ingest/task-event-message';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';

/** The worker's points (docs/api.md, The InfluxDB schema) on InfluxDB 1.8 through its 2.x-compatible API. */
describe('InfluxDB: the worker points', () => {
  let stack: IsolatedStack;
  let influx: InfluxDB;

  beforeAll(async () => {
    stack = await createIsolatedStack('influx');
    influx = new InfluxDB({ url: stack.influxUrl, token: '' });
  });

  afterAll(() => stack.cleanup());

  const event: TaskEvent = {
    eventId: randomUUID(),
    type: 'task.completed',
    taskId: '6b07e21e530b1a4d293d6cd8',
    userId: '6b07e21e530b1a4d293d6cd9',
    occurredAt: '2026-11-26T05:13:20.123456789Z',
    version: 1,
  };

  async function write(events: TaskEvent[]) {
    const writer = influx.getWriteApi('-', stack.influxBucket, 'ns', {
      flushInterval: 0,
      maxRetries: 0,
    });
    writer.writePoints(events.map((e) => toPoint(e, rfc3339ToNanoseconds(e.occurredAt)!)));
    await writer.close();
  }

  const rows = () =>
    influx.getQueryApi('-').collectRows<Record<string, string | number>>(
      `from(bucket: "${stack.influxBucket}")
         |> range(start: 2026-01-01T00:00:00Z, stop: 2027-01-01T00:00:00Z)
         |> filter(fn: (r) => r._measurement == "${TASK_EVENTS_MEASUREMENT}" and r._field == "count")`,
    );

  it('stores a point with the schema tags and the event time to the nanosecond', async () => {
    await write([event]);
    const found = await rows();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      _value: 1,
      source: 'worker',
      type: 'task.completed',
      user_id: event.userId,
      _time: '2026-11-26T05:13:20.123456789Z',
    });
  });

  it('overwrites a redelivered event instead of counting it twice', async () => {
    await write([event, event]);
    expect(await rows()).toHaveLength(1);
  });
});
