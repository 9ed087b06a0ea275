import { ANALYTICS_EVENTS_QUEUE } from '@taskit/contracts';
import { randomBytes } from 'node:crypto';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import {
  brokerQueueDepth,
  expectBothSources,
  influxCounts,
  metricValue,
  publishBacklog,
} from '../support/pipeline';
import { startService, startTelegraf, waitFor, type RunningProcess } from '../support/processes';

const BACKLOG = 3_000;
/** Small batches make the drain long enough to kill the worker in the middle of it. */
const WORKER = { INGEST_BATCH_SIZE: '10', INGEST_PREFETCH: '20', INGEST_BATCH_WAIT_MS: '0' };

describe('fault: the worker is SIGKILLed in the middle of a backlog', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let telegraf: RunningProcess;
  let analytics: RunningProcess | undefined;

  beforeAll(async () => {
    stack = await createIsolatedStack('workerkill');
    gateway = await startService('gateway', stack);
    telegraf = startTelegraf(stack);
  });

  afterAll(async () => {
    await analytics?.stop();
    await telegraf?.stop();
    await gateway?.stop();
    await stack?.cleanup();
  });

  it('loses no event and counts none twice after a restart', async () => {
    const userId = randomBytes(12).toString('hex');
    // The worker's queue holds the whole backlog before the worker exists (published directly:
    // this test is about the consumer; the gateway's relay declares the topology).
    await publishBacklog(stack.rabbitmqUrl, userId, BACKLOG);
    await waitFor(
      'the backlog in analytics.task-events',
      async () => (await brokerQueueDepth(stack.vhost, ANALYTICS_EVENTS_QUEUE)) === BACKLOG,
      60_000,
      500,
    );

    analytics = await startService('analytics', stack, WORKER);
    const running = analytics;
    await waitFor(
      'the worker to ack part of the backlog',
      async () => (await metricValue(running.url, 'taskit_worker_events_acked_total')) >= 100,
      60_000,
      20,
    );
    await running.stop('SIGKILL');
    const pointsAtKill = (await influxCounts(stack, userId)).worker['task.created'] ?? 0;
    expect(pointsAtKill).toBeGreaterThan(0);
    expect(pointsAtKill).toBeLessThan(BACKLOG);
    // Unacked deliveries (written or not) are back in the queue.
    expect(await brokerQueueDepth(stack.vhost, ANALYTICS_EVENTS_QUEUE)).toBeGreaterThan(0);

    analytics = await startService('analytics', stack, WORKER);
    await expectBothSources(stack, userId, { 'task.created': BACKLOG }, 120_000);
    await waitFor(
      'an empty worker queue',
      async () => (await brokerQueueDepth(stack.vhost, ANALYTICS_EVENTS_QUEUE)) === 0,
      30_000,
      500,
    );
  }, 300_000);
});
