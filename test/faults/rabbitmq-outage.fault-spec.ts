import { registeredClient } from '../support/api-client';
import { eventually } from '../support/eventually';
import type { IsolatedStack } from '../support/isolated-stack';
import {
  addCounts,
  bulkChanges,
  expectBothSources,
  metricValue,
  outboxState,
} from '../support/pipeline';
import { createPrivateStack, PrivateRabbitMq } from '../support/private-servers';
import { startService, startTelegraf, type RunningProcess } from '../support/processes';

const RABBITMQ_UP = 'taskit_dependency_up{dependency="rabbitmq",required="false"}';

describe('fault: RabbitMQ stopped (rabbitmqctl stop_app) while tasks are written', () => {
  let rabbitmq: PrivateRabbitMq;
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let analytics: RunningProcess;
  let telegraf: RunningProcess;

  beforeAll(async () => {
    rabbitmq = await PrivateRabbitMq.start('outage');
    stack = await createPrivateStack('rmqoutage', { rabbitmq });
    analytics = await startService('analytics', stack);
    gateway = await startService('gateway', stack);
    telegraf = startTelegraf(stack);
  }, 180_000);

  afterAll(async () => {
    await telegraf?.stop();
    await gateway?.stop();
    await analytics?.stop();
    await stack?.cleanup();
    await rabbitmq?.stop();
  }, 120_000);

  it('accepts every write while the broker is away, then delivers each event once per source', async () => {
    const api = await registeredClient(gateway.url, 'rmqoutage');
    const userId = (await api.get('/api/auth/me')).body.user.id as string;
    const before = await bulkChanges(api, 3, 'before');
    await expectBothSources(stack, userId, before);

    await rabbitmq.stopApp();
    // The gateway notices within 10 s (the heartbeat) and stays ready, degraded: the outbox
    // holds the events (docs/operations.md, Readiness); the metrics name the broker.
    await eventually(async () => {
      expect(await metricValue(gateway.url, RABBITMQ_UP)).toBe(0);
      const ready = await fetch(`${gateway.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'degraded' });
    }, 10_000);
    // Every write still succeeds: the events wait in the task documents' outbox.
    const during = await bulkChanges(api, 5, 'during');
    await eventually(async () => {
      expect(await metricValue(gateway.url, 'taskit_outbox_backlog_events')).toBe(15);
    });
    expect((await outboxState(stack.mongodbUri, userId)).pending).toBe(15);

    await rabbitmq.startApp();
    await eventually(async () => {
      expect(await (await fetch(`${gateway.url}/health/ready`)).json()).toEqual({ status: 'ok' });
    }, 30_000);
    await expectBothSources(stack, userId, addCounts(before, during), 90_000).catch(
      (error: Error) => {
        throw new Error(
          `${error.message}\n--- gateway ---\n${gateway.output.slice(-4000)}\n--- telegraf ---\n${telegraf.output.slice(-4000)}`,
        );
      },
    );
    await eventually(async () => {
      expect(await outboxState(stack.mongodbUri, userId)).toEqual({
        documents: 0,
        tombstones: 0,
        pending: 0,
      });
    });
  }, 240_000);
});
