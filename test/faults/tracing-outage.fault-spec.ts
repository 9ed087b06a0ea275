import { registeredClient, type ApiClient } from '../support/api-client';
import { eventually } from '../support/eventually';
import type { IsolatedStack } from '../support/isolated-stack';
import {
  descendsFrom,
  onlySpan,
  parentOf,
  serviceOf,
  tag,
  tracedRequest,
  traceWhen,
  tracingSettings,
} from '../support/jaeger';
import { metricValue, outboxState } from '../support/pipeline';
import { createPrivateStack, PrivateRabbitMq } from '../support/private-servers';
import { startService, type RunningProcess } from '../support/processes';

describe('fault: RabbitMQ away between a change and its publish, traced', () => {
  let rabbitmq: PrivateRabbitMq;
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let analytics: RunningProcess;
  let api: ApiClient;

  beforeAll(async () => {
    rabbitmq = await PrivateRabbitMq.start('traceoutage');
    stack = await createPrivateStack('traceoutage', { rabbitmq });
    const settings = { ...tracingSettings(), LOG_LEVEL: 'info' };
    analytics = await startService('analytics', stack, settings);
    gateway = await startService('gateway', stack, settings);
    api = await registeredClient(gateway.url, 'traceoutage');
  }, 180_000);

  afterAll(async () => {
    await gateway?.stop();
    await analytics?.stop();
    await stack?.cleanup();
    await rabbitmq?.stop();
  }, 120_000);

  it('publishes after the outage, in the trace of the request (not an orphan)', async () => {
    const created = await api.post('/api/tasks', { title: 'outage' });
    expect(created.status).toBe(201);
    const userId = (await api.get('/api/auth/me')).body.user.id as string;
    await eventually(async () =>
      expect((await outboxState(stack.mongodbUri, userId)).pending).toBe(0),
    );

    await rabbitmq.stopApp();
    await eventually(async () => {
      expect(
        await metricValue(
          gateway.url,
          'taskit_dependency_up{dependency="rabbitmq",required="false"}',
        ),
      ).toBe(0);
    }, 15_000);
    const traceId = await tracedRequest(gateway, (headers) =>
      api.patch(`/api/tasks/${created.body.id}`, { done: true }, { headers }),
    );
    expect((await outboxState(stack.mongodbUri, userId)).pending).toBe(1);
    await rabbitmq.startApp();

    const trace = await traceWhen(
      traceId,
      (t) => expect(t.spans.some((s) => s.operationName === 'influxdb write')).toBe(true),
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- gateway ---\n${gateway.output.slice(-4000)}`);
    });
    const server = trace.spans.find(
      (s) => serviceOf(trace, s) === 'taskit-gateway' && tag(s, 'span.kind') === 'server',
    );
    expect(server?.operationName).toBe('PATCH /api/tasks/:id');
    const confirmed = trace.spans.filter(
      (s) =>
        s.operationName === 'publish taskit.events' &&
        tag(s, 'taskit.publish.outcome') === 'confirmed',
    );
    expect(confirmed).toHaveLength(1);
    // Published long after the response (the relay held it through the outage), yet a child
    // of the request's span.
    expect(descendsFrom(trace, confirmed[0], server!)).toBe(true);
    expect(confirmed[0].startTime).toBeGreaterThan(server!.startTime);
    const consume = onlySpan(trace, 'taskit-analytics', 'process analytics.task-events');
    expect(parentOf(trace, consume)?.spanID).toBe(confirmed[0].spanID);
    const write = onlySpan(trace, 'taskit-analytics', 'influxdb write');
    expect(parentOf(trace, write)?.spanID).toBe(consume.spanID);
  }, 180_000);
});
