import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';

describe('InfluxDB 1.8 through its 2.x-compatible API', () => {
  let stack: IsolatedStack;

  beforeAll(async () => {
    stack = await createIsolatedStack('influx');
  });

  afterAll(() => stack.cleanup());

  it('writes a point with the client and reads it back with Flux', async () => {
    const influx = new InfluxDB({ url: stack.influxUrl, token: '' });
    const writer = influx.getWriteApi('-', stack.influxBucket, 'ns', {
      flushInterval: 0,
      maxRetries: 0,
    });
    writer.writePoint(
      new Point('probe')
        .tag('kind', 'integration')
        .intField('count', 1)
        .timestamp('1795670000123456789'),
    );
    await writer.close();

    const rows = await influx
      .getQueryApi('-')
      .collectRows<{ _value: number; kind: string; _time: string }>(
        `from(bucket: "${stack.influxBucket}")
           |> range(start: 2026-01-01T00:00:00Z, stop: 2027-01-01T00:00:00Z)
           |> filter(fn: (r) => r._measurement == "probe" and r._field == "count")`,
      );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ _value: 1, kind: 'integration' });
    expect(rows[0]._time).toBe('2026-11-26T05:13:20.123456789Z');
  });
});
