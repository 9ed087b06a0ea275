import { TASK_EVENTS_EXCHANGE } from '@taskit/contracts';
import { ApiClient, registeredClient } from '../support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import {
  descendsFrom,
  onlySpan,
  parentOf,
  searchTraceIds,
  serviceOf,
  tag,
  tracedRequest,
  traceWhen,
  tracingSettings,
  type JaegerSpan,
  type JaegerTrace,
} from '../support/jaeger';
import { startService, type RunningProcess } from '../support/processes';
import { BULK_TRACED_EVENTS } from '../../apps/gateway/src/tasks/tasks.service';

const GATEWAY = 'taskit-gateway';
const ANALYTICS = 'taskit-analytics';

function isMongoWrite(span: JaegerSpan): boolean {
  const system = tag(span, 'db.system.name') ?? tag(span, 'db.system');
  const operation = tag(span, 'db.operation.name') ?? tag(span, 'db.operation');
  return (
    system === 'mongodb' &&
    /update/i.test(`${typeof operation === 'string' ? operation : ''} ${span.operationName}`)
  );
}

describe('tracing: one trace from the API request to the InfluxDB write (Jaeger)', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let analytics: RunningProcess;
  let api: ApiClient;
  const started = Date.now();

  beforeAll(async () => {
    stack = await createIsolatedStack('tracing');
    const settings = { ...tracingSettings(), LOG_LEVEL: 'info' };
    analytics = await startService('analytics', stack, settings);
    gateway = await startService('gateway', stack, settings);
    api = await registeredClient(gateway.url, 'tracing');
  });

  afterAll(async () => {
    await gateway?.stop();
    await analytics?.stop();
    await stack?.cleanup();
  });

  const traceWith = (traceId: string, complete: (trace: JaegerTrace) => void) =>
    traceWhen(traceId, complete).catch((error: Error) => {
      throw new Error(
        `${error.message}\n--- gateway ---\n${gateway.output.slice(-3000)}\n--- analytics ---\n${analytics.output.slice(-3000)}`,
      );
    });
  const traced = (send: (headers: Record<string, string>) => Promise<unknown>) =>
    tracedRequest(gateway, send);

  it('follows a task change from the HTTP request through the outbox and RabbitMQ to InfluxDB', async () => {
    const created = await api.post('/api/tasks', { title: 'traced' });
    expect(created.status).toBe(201);
    const traceId = await traced((headers) =>
      api.patch(`/api/tasks/${created.body.id}`, { done: true }, { headers }),
    );

    // The trace of the log line's id holds every hop, with the right parents.
    const trace = await traceWith(traceId, (t) => {
      expect(t.spans.some((s) => s.operationName === 'influxdb write')).toBe(true);
    });
    expect(trace.traceID).toBe(traceId);
    const server = trace.spans.find(
      (s) => serviceOf(trace, s) === GATEWAY && tag(s, 'span.kind') === 'server',
    );
    expect(server).toBeDefined();
    expect(server!.operationName).toBe('PATCH /api/tasks/:id');
    const write = trace.spans.filter((s) => serviceOf(trace, s) === GATEWAY && isMongoWrite(s));
    expect(write).toHaveLength(1);
    expect(descendsFrom(trace, write[0], server!)).toBe(true);

    // The relay publishes later, on its own code path; its span continues the request's.
    const publish = onlySpan(trace, GATEWAY, 'publish taskit.events');
    expect(tag(publish, 'span.kind')).toBe('producer');
    expect(tag(publish, 'messaging.destination.name')).toBe(TASK_EVENTS_EXCHANGE);
    expect(tag(publish, 'taskit.publish.outcome')).toBe('confirmed');
    expect(descendsFrom(trace, publish, server!)).toBe(true);

    // The worker continues from the message's traceparent header.
    const consume = onlySpan(trace, ANALYTICS, 'process analytics.task-events');
    expect(tag(consume, 'span.kind')).toBe('consumer');
    expect(parentOf(trace, consume)?.spanID).toBe(publish.spanID);
    const influx = onlySpan(trace, ANALYTICS, 'influxdb write');
    expect(parentOf(trace, influx)?.spanID).toBe(consume.spanID);

    // Jaeger's search by service (docs/tracing.md) finds it.
    expect(await searchTraceIds(GATEWAY, started)).toContain(traceId);
  });

  it('traces a bulk change as its request with counts and its first events, not a span per task', async () => {
    const tasks = BULK_TRACED_EVENTS + 2;
    for (let i = 0; i < tasks; i++) {
      expect((await api.post('/api/tasks', { title: `bulk ${i}` })).status).toBe(201);
    }
    const traceId = await traced((headers) =>
      api.post('/api/tasks/toggle-all', { done: true }, { headers }),
    );
    // The relay publishes a bulk change's events together: once the traced ones are written to
    // InfluxDB, every publish has been made.
    const trace = await traceWith(traceId, (t) => {
      const written = t.spans.filter((s) => s.operationName === 'influxdb write');
      expect(written).toHaveLength(BULK_TRACED_EVENTS);
    });
    const publishes = trace.spans.filter((s) => s.operationName === 'publish taskit.events');
    expect(publishes).toHaveLength(BULK_TRACED_EVENTS);
    const counted = trace.spans.filter((s) => tag(s, 'taskit.bulk.changed') !== undefined);
    expect(counted).toHaveLength(1);
    expect(tag(counted[0], 'taskit.bulk.changed')).toBe(tasks);
    expect(tag(counted[0], 'taskit.bulk.matched')).toBe(tasks);
    expect(trace.spans.filter((s) => serviceOf(trace, s) === GATEWAY && isMongoWrite(s))).toEqual(
      [],
    );
  });

  it('carries the trace across the analytics RPC', async () => {
    const traceId = await traced(async (headers) => {
      const summary = await api.get('/api/analytics/summary', { query: 'range=1h', headers });
      expect(summary.status).toBe(200);
    });
    const trace = await traceWith(traceId, (t) => {
      expect(t.spans.some((s) => s.operationName === 'process analytics.summary')).toBe(true);
    });
    const send = onlySpan(trace, GATEWAY, 'send analytics.summary');
    const served = onlySpan(trace, ANALYTICS, 'process analytics.summary');
    expect(parentOf(trace, served)?.spanID).toBe(send.spanID);
    const server = trace.spans.find(
      (s) => serviceOf(trace, s) === GATEWAY && tag(s, 'span.kind') === 'server',
    );
    expect(server?.operationName).toBe('GET /api/analytics/summary');
    expect(descendsFrom(trace, send, server!)).toBe(true);
  });

  it('writes the ids of the active span into the log lines', async () => {
    const traceId = await traced((headers) => api.get('/api/tasks', { headers }));
    const logLine = () =>
      gateway.output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { trace_id?: string; span_id?: string })
        .find((entry) => entry.trace_id === traceId);
    // The request line names the server span, which ends (and is exported) after the Redis
    // spans inside it: wait for the trace to hold it.
    await traceWith(traceId, (t) => {
      const spanId = logLine()?.span_id;
      expect(spanId).toBeDefined();
      expect(t.spans.map((s) => s.spanID)).toContain(spanId);
    });
  });
});
