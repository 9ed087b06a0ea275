import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ANALYTICS_RPC_QUEUE, ANALYTICS_SUMMARY_PATTERN } from '@taskit/contracts';
import { connect, type ChannelModel } from 'amqplib';
import { registeredClient } from '../../../test/support/api-client';
import { eventually } from '../../../test/support/eventually';
import type { IsolatedStack } from '../../../test/support/isolated-stack';
import { metricValue } from '../../../test/support/pipeline';
import { createPrivateStack, PrivateInfluxDb } from '../../../test/support/private-servers';
import { startService, type RunningProcess } from '../../../test/support/processes';

const execFileAsync = promisify(execFile);
const PREFETCH = 2;
const REQUESTS = 10;

/** Ready and unacknowledged messages of a queue, as the broker counts them. */
async function queueCounts(vhost: string, queue: string) {
  const { stdout } = await execFileAsync(
    'rabbitmqctl',
    ['-q', 'list_queues', '-p', vhost, 'name', 'messages_ready', 'messages_unacknowledged'],
    { timeout: 30_000 },
  );
  const [, ready, unacked] = stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .find((fields) => fields[0] === queue) ?? [queue, 'NaN', 'NaN'];
  return { ready: Number(ready), unacked: Number(unacked) };
}

/**
 * The analytics RPC under load (docs/limits.md): the service works on at most its prefetch of
 * summary requests at once, and the gateway asks once per (user, range) however many of that
 * user's requests arrive together.
 */
describe('analytics RPC: bounded by its prefetch, single-flight on the gateway', () => {
  let influxdb: PrivateInfluxDb;
  let stack: IsolatedStack;
  let analytics: RunningProcess;
  let gateway: RunningProcess;
  let connection: ChannelModel;

  beforeAll(async () => {
    influxdb = await PrivateInfluxDb.start('rpc');
    stack = await createPrivateStack('rpcbound', { influxdb });
    analytics = await startService('analytics', stack, {
      ANALYTICS_RPC_PREFETCH: String(PREFETCH),
    });
    gateway = await startService('gateway', stack);
    connection = await connect(stack.rabbitmqUrl);
  }, 120_000);

  afterAll(async () => {
    influxdb?.thaw();
    await connection?.close();
    await gateway?.stop();
    await analytics?.stop();
    await stack?.cleanup();
    await influxdb?.stop();
  });

  it('holds at most the prefetch of requests unacked while InfluxDB hangs; the rest wait ready', async () => {
    const channel = await connection.createChannel();
    const replies = await channel.assertQueue('', { exclusive: true });
    const answered = new Set<string>();
    await channel.consume(
      replies.queue,
      (message) => {
        if (message) answered.add(String(message.properties.correlationId));
      },
      { noAck: true },
    );

    influxdb.freeze();
    try {
      for (let i = 0; i < REQUESTS; i++) {
        const id = `summary-${i}`;
        const request = {
          pattern: ANALYTICS_SUMMARY_PATTERN,
          data: { userId: `user${i}`, range: '30d' },
          id,
        };
        channel.sendToQueue(ANALYTICS_RPC_QUEUE, Buffer.from(JSON.stringify(request)), {
          replyTo: replies.queue,
          correlationId: id,
        });
      }
      // InfluxDB's client gives up after 10 s: the picture must show before that.
      await eventually(async () => {
        expect(await queueCounts(stack.vhost, ANALYTICS_RPC_QUEUE)).toEqual({
          ready: REQUESTS - PREFETCH,
          unacked: PREFETCH,
        });
      }, 8_000);
      expect(await metricValue(analytics.url, 'taskit_analytics_summary_requests_in_flight')).toBe(
        PREFETCH,
      );
    } finally {
      influxdb.thaw();
    }

    // Every request is answered and acked once InfluxDB answers again.
    await eventually(async () => {
      expect(answered.size).toBe(REQUESTS);
      expect(await queueCounts(stack.vhost, ANALYTICS_RPC_QUEUE)).toEqual({ ready: 0, unacked: 0 });
    }, 60_000);
    await channel.close();
  }, 120_000);

  it('asks analytics once per (user, range) for concurrent summary requests of one user', async () => {
    const api = await registeredClient(gateway.url, 'flight');
    const asked = () =>
      metricValue(analytics.url, 'taskit_analytics_summary_requests_total{outcome="ok"}');
    const before = await asked();

    const sameRange = await Promise.all(
      Array.from({ length: 20 }, () => api.get('/api/analytics/summary', { query: 'range=7d' })),
    );
    expect(sameRange.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(sameRange.map((r) => r.text)).size).toBe(1);
    expect((await asked()) - before).toBe(1);

    const everyRange = await Promise.all(
      ['1h', '24h', '7d', '30d'].flatMap((range) =>
        Array.from({ length: 5 }, () =>
          api.get('/api/analytics/summary', { query: `range=${range}` }),
        ),
      ),
    );
    expect(everyRange.every((r) => r.status === 200)).toBe(true);
    // 7d is still in the gateway's cache; the other three are one request each.
    expect((await asked()) - before).toBe(4);
  });
});
