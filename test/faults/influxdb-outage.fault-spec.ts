import {
  ANALYTICS_EVENTS_DLQ,
  ANALYTICS_EVENTS_QUEUE,
  TELEGRAF_EVENTS_QUEUE,
} from '@taskit/contracts';
import { registeredClient } from '../support/api-client';
import { eventually } from '../support/eventually';
import type { IsolatedStack } from '../support/isolated-stack';
import {
  addCounts,
  brokerQueueDepth,
  bulkChanges,
  expectBothSources,
  metricValue,
  total,
} from '../support/pipeline';
import { createPrivateStack, PrivateInfluxDb } from '../support/private-servers';
import { startService, startTelegraf, type RunningProcess } from '../support/processes';

describe('fault: InfluxDB stopped while events flow', () => {
  let influxdb: PrivateInfluxDb;
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let analytics: RunningProcess;
  let telegraf: RunningProcess;

  beforeAll(async () => {
    influxdb = await PrivateInfluxDb.start('outage');
    stack = await createPrivateStack('influxoutage', { influxdb });
    // Short backoff so that the recovery is observed soon after InfluxDB returns.
    analytics = await startService('analytics', stack, { INGEST_MAX_BACKOFF_MS: '1000' });
    gateway = await startService('gateway', stack);
    telegraf = startTelegraf(stack);
  }, 120_000);

  afterAll(async () => {
    await telegraf?.stop();
    await gateway?.stop();
    await analytics?.stop();
    await stack?.cleanup();
    await influxdb?.stop();
  });

  it('acks nothing while InfluxDB is down and loses nothing once it is back', async () => {
    const api = await registeredClient(gateway.url, 'influxoutage');
    const userId = (await api.get('/api/auth/me')).body.user.id as string;
    const before = await bulkChanges(api, 2, 'before');
    await expectBothSources(stack, userId, before);
    const ackedBefore = await metricValue(analytics.url, 'taskit_worker_events_acked_total');

    await influxdb.pause();
    const during = await bulkChanges(api, 4, 'during');
    // The worker holds them unacked (ready + unacked = all of them) and retries.
    await eventually(async () => {
      expect(await brokerQueueDepth(stack.vhost, ANALYTICS_EVENTS_QUEUE)).toBe(total(during));
      expect(
        await metricValue(
          analytics.url,
          'taskit_worker_influx_write_duration_seconds_count{outcome="retry"}',
        ),
      ).toBeGreaterThanOrEqual(2);
    }, 30_000);
    expect(await metricValue(analytics.url, 'taskit_worker_events_acked_total')).toBe(ackedBefore);
    expect(await brokerQueueDepth(stack.vhost, ANALYTICS_EVENTS_DLQ)).toBe(0);

    await influxdb.resume();
    await expectBothSources(stack, userId, addCounts(before, during), 90_000);
    expect(await metricValue(analytics.url, 'taskit_worker_events_acked_total')).toBe(
      ackedBefore + total(during),
    );
    await eventually(async () => {
      expect(await brokerQueueDepth(stack.vhost, ANALYTICS_EVENTS_QUEUE)).toBe(0);
      expect(await brokerQueueDepth(stack.vhost, TELEGRAF_EVENTS_QUEUE)).toBe(0);
    });
  }, 240_000);
});
