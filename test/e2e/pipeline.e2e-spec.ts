import { randomUUID } from 'node:crypto';
import { ANALYTICS_EVENTS_DLQ, TELEGRAF_EVENTS_DLQ } from '@taskit/contracts';
import { ApiClient, registeredClient } from '../support/api-client';
import { eventually } from '../support/eventually';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import {
  drainQueue,
  expectBothSources,
  influxCounts,
  metricValue,
  outboxState,
  publishRaw,
  queueDepth,
  scriptedChanges,
  total,
} from '../support/pipeline';
import { startService, startTelegraf, type RunningProcess } from '../support/processes';

describe('event pipeline: gateway outbox → RabbitMQ → worker and Telegraf → InfluxDB', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let analytics: RunningProcess;
  let telegraf: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('pipeline');
    analytics = await startService('analytics', stack);
    gateway = await startService('gateway', stack);
    telegraf = startTelegraf(stack);
  });

  afterAll(async () => {
    await telegraf?.stop();
    await gateway?.stop();
    await analytics?.stop();
    await stack?.cleanup();
  });

  const diagnostics = () =>
    `--- gateway ---\n${gateway.output.slice(-3000)}\n--- analytics ---\n${analytics.output.slice(-3000)}\n--- telegraf ---\n${telegraf.output.slice(-3000)}`;

  it('counts every event of a scripted session once per source, and the summary agrees', async () => {
    const api = await registeredClient(gateway.url, 'pipeline');
    const me = await api.get('/api/auth/me');
    const userId = me.body.user.id as string;
    const expected = await scriptedChanges(api);

    await expectBothSources(stack, userId, expected).catch((error: Error) => {
      throw new Error(`${error.message}\n${diagnostics()}`);
    });
    // Every event left the outbox; tombstones are gone once their task.deleted was published.
    await eventually(async () => {
      expect(await outboxState(stack.mongodbUri, userId)).toEqual({
        documents: 1,
        tombstones: 0,
        pending: 0,
      });
    });

    const summary = await api.get('/api/analytics/summary', { query: 'range=1h' });
    expect(summary.status).toBe(200);
    expect(summary.body.range).toBe('1h');
    expect(summary.body.totals).toEqual({
      created: expected['task.created'],
      updated: expected['task.updated'],
      completed: expected['task.completed'],
      uncompleted: expected['task.uncompleted'],
      deleted: expected['task.deleted'],
    });
    expect(summary.body.series).toHaveLength(12);
    const seriesCreated = (summary.body.series as { created: number }[]).reduce(
      (sum, bucket) => sum + bucket.created,
      0,
    );
    expect(seriesCreated).toBe(expected['task.created']);

    for (const range of ['24h', '7d', '30d']) {
      const other = await api.get('/api/analytics/summary', { query: `range=${range}` });
      expect(other.status).toBe(200);
      expect(other.body.totals.created).toBe(expected['task.created']);
    }

    const published = await metricValue(gateway.url, 'taskit_outbox_events_published_total');
    expect(published).toBeGreaterThanOrEqual(total(expected));
    expect(await metricValue(gateway.url, 'taskit_outbox_backlog_events')).toBe(0);
    const acked = await metricValue(analytics.url, 'taskit_worker_events_acked_total');
    expect(acked).toBeGreaterThanOrEqual(total(expected));
    // Every acked event has its lag from the change, and on a quiet stack within the
    // freshness objective's 30 s.
    expect(await metricValue(analytics.url, 'taskit_worker_event_lag_seconds_count')).toBe(acked);
    expect(
      await metricValue(analytics.url, 'taskit_worker_event_lag_seconds_bucket{le="30"}'),
    ).toBe(acked);
  });

  it('validates range (400) and requires a login (401)', async () => {
    const api = await registeredClient(gateway.url, 'range');
    expect((await api.get('/api/analytics/summary', { query: 'range=2h' })).status).toBe(400);
    expect((await api.get('/api/analytics/summary')).status).toBe(400);
    expect(
      (await new ApiClient(gateway.url).get('/api/analytics/summary', { query: 'range=1h' }))
        .status,
    ).toBe(401);
  });

  it('dead-letters poison messages at once and keeps consuming', async () => {
    const userId = `poison-${randomUUID().slice(0, 8)}`;
    const valid = (type: string) => ({
      eventId: randomUUID(),
      type,
      taskId: 'task-1',
      userId,
      occurredAt: new Date().toISOString().replace('Z', '123456Z'),
      version: 1,
    });
    const before = await metricValue(
      analytics.url,
      'taskit_worker_events_dead_lettered_total{reason="wrong_shape"}',
    );
    await publishRaw(stack.rabbitmqUrl, 'task.created', '{"pattern": "task.created", "data": ');
    await publishRaw(
      stack.rabbitmqUrl,
      'task.created',
      JSON.stringify({ pattern: 'task.created', data: { taskId: 1 } }),
    );
    await publishRaw(
      stack.rabbitmqUrl,
      'task.exploded',
      JSON.stringify({ pattern: 'task.exploded', data: valid('task.exploded') }),
    );
    const good = valid('task.completed');
    await publishRaw(
      stack.rabbitmqUrl,
      'task.completed',
      JSON.stringify({ pattern: 'task.completed', data: good }),
    );

    await eventually(async () => {
      expect(await queueDepth(stack.rabbitmqUrl, ANALYTICS_EVENTS_DLQ)).toBe(3);
    }, 20_000);
    await expectBothSources(stack, userId, { 'task.completed': 1 });
    const dead = await drainQueue(stack.rabbitmqUrl, ANALYTICS_EVENTS_DLQ);
    expect(dead).toHaveLength(3);
    expect(dead).toContain('{"pattern": "task.created", "data": ');
    expect(dead).toContain(JSON.stringify({ pattern: 'task.created', data: { taskId: 1 } }));
    expect(dead.filter((body) => body.includes('"task.exploded"'))).toHaveLength(1);
    expect(
      await metricValue(
        analytics.url,
        'taskit_worker_events_dead_lettered_total{reason="invalid_json"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metricValue(
        analytics.url,
        'taskit_worker_events_dead_lettered_total{reason="wrong_shape"}',
      ),
    ).toBe(before + 1);
    expect(
      await metricValue(
        analytics.url,
        'taskit_worker_events_dead_lettered_total{reason="unknown_pattern"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    // Telegraf cannot parse the malformed ones either: they end in its own DLQ, and the
    // unknown type is filtered out, so its counts stay equal to the worker's.
    await eventually(async () => {
      expect(await queueDepth(stack.rabbitmqUrl, TELEGRAF_EVENTS_DLQ)).toBe(2);
    }, 20_000);
    expect((await influxCounts(stack, userId)).telegraf).toEqual({ 'task.completed': 1 });
    expect(gateway.isRunning && analytics.isRunning && telegraf.isRunning).toBe(true);
  });
});

describe('GET /api/analytics/summary without an analytics service', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('norpc');
    gateway = await startService('gateway', stack, { ANALYTICS_RPC_TIMEOUT_MS: '500' });
  });

  afterAll(async () => {
    await gateway?.stop();
    await stack?.cleanup();
  });

  it('answers 503 with a clear message instead of hanging', async () => {
    const api = await registeredClient(gateway.url, 'norpc');
    const response = await api.get('/api/analytics/summary', { query: 'range=24h' });
    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      statusCode: 503,
      message: expect.stringMatching(/analytics/i),
      error: 'Service Unavailable',
    });
  });
});
