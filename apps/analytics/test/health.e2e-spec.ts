import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import {
  freePort,
  serviceEnvironment,
  spawnService,
  startService,
  type RunningProcess,
} from '../../../test/support/processes';

describe('analytics process: configuration, health and metrics', () => {
  let stack: IsolatedStack;
  let analytics: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('anhealth');
    analytics = await startService('analytics', stack);
  });

  afterAll(async () => {
    await analytics?.stop();
    await stack.cleanup();
  });

  it('reports RabbitMQ and InfluxDB on /health/ready and serves /metrics', async () => {
    const response = await fetch(`${analytics.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      checks: { rabbitmq: { status: 'up' }, influxdb: { status: 'up' } },
    });
    const metrics = await (await fetch(`${analytics.url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_seconds_total');
  });

  it('reports InfluxDB down with 503 when it cannot be reached', async () => {
    const env = serviceEnvironment(stack, await freePort(), {
      INFLUX_URL: `http://127.0.0.1:${await freePort()}`,
    });
    const running = spawnService('analytics', env);
    try {
      let status = 0;
      for (let i = 0; i < 50 && status !== 503; i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = await fetch(`${running.url}/health/ready`)
          .then((r) => r.status)
          .catch(() => 0);
      }
      expect(status).toBe(503);
      const body = (await (await fetch(`${running.url}/health/ready`)).json()) as {
        checks: Record<string, { status: string }>;
      };
      expect(body.checks.influxdb.status).toBe('down');
    } finally {
      await running.stop();
    }
  });

  it('refuses to start with a malformed INFLUX_URL, naming it', async () => {
    const env = serviceEnvironment(stack, await freePort(), { INFLUX_URL: 'influx' });
    const failed = spawnService('analytics', env);
    expect(await failed.exited).not.toBe(0);
    expect(failed.output).toContain('INFLUX_URL:');
  });
});
