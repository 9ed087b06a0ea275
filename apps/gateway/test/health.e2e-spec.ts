import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import {
  freePort,
  serviceEnvironment,
  spawnService,
  startService,
  type RunningProcess,
} from '../../../test/support/processes';

describe('gateway process: configuration, health and metrics', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwhealth');
    gateway = await startService('gateway', stack);
  });

  afterAll(async () => {
    await gateway?.stop();
    await stack.cleanup();
  });

  it('reports each dependency on /health/ready', async () => {
    const response = await fetch(`${gateway.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      checks: { mongodb: { status: 'up' }, redis: { status: 'up' }, rabbitmq: { status: 'up' } },
    });
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
  });

  it('echoes a well-formed request id and replaces a forged one', async () => {
    const echoed = await fetch(`${gateway.url}/health/live`, {
      headers: { 'x-request-id': 'req-123' },
    });
    expect(echoed.headers.get('x-request-id')).toBe('req-123');
    const forged = await fetch(`${gateway.url}/health/live`, {
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exposes Prometheus metrics with request durations by route and status', async () => {
    await fetch(`${gateway.url}/health/live`);
    const response = await fetch(`${gateway.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/health\/live",status_code="200"\} \d+/,
    );
  });

  it('drains on SIGTERM: readiness fails, then the process exits 0', async () => {
    const second = await startService('gateway', stack);
    const exit = second.stop('SIGTERM');
    expect(await exit).toBe(0);
  });

  it.each([
    ['MONGODB_URI', 'mysql://127.0.0.1/taskit'],
    ['REDIS_URL', 'not a url'],
    ['PORT', 'eighty'],
    ['RABBITMQ_URL', 'http://127.0.0.1:5672'],
  ])('refuses to start when %s is malformed, naming it', async (name, value) => {
    const env = serviceEnvironment(stack, await freePort(), { [name]: value });
    const failed = spawnService('gateway', env);
    expect(await failed.exited).not.toBe(0);
    expect(failed.output).toContain(`${name}:`);
    expect(failed.output).not.toContain('    at '); // a message, not a stack trace
  });

  it('requires SESSION_SECRET in production', async () => {
    const env = serviceEnvironment(stack, await freePort(), { NODE_ENV: 'production' });
    const failed = spawnService('gateway', env);
    expect(await failed.exited).not.toBe(0);
    expect(failed.output).toContain('SESSION_SECRET:');
  });
});
