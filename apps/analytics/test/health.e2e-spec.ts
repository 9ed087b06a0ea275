import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import {
  freePort,
  serviceEnvironment,
  spawnService,
  startService,
  waitFor,
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

  it('answers /health/ready with the status only, RabbitMQ and InfluxDB in the metrics', async () => {
    const response = await fetch(`${analytics.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${analytics.url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_seconds_total');
    expect(metrics).toContain('taskit_dependency_up{dependency="rabbitmq",required="false"} 1');
    expect(metrics).toContain('taskit_dependency_up{dependency="influxdb",required="false"} 1');
  });

  it('stays ready, degraded, while InfluxDB cannot be reached (the queue holds the events)', async () => {
    const influxPort = await freePort();
    const env = serviceEnvironment(stack, await freePort(), {
      INFLUX_URL: `http://127.0.0.1:${influxPort}`,
    });
    const running = spawnService('analytics', env);
    try {
      await waitFor('analytics without InfluxDB to answer', async () => {
        if (!running.isRunning) throw new Error(running.output);
        return (await fetch(`${running.url}/health/live`).catch(() => undefined))?.ok === true;
      });
      const response = await fetch(`${running.url}/health/ready`);
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(JSON.parse(text)).toEqual({ status: 'degraded' });
      expect(text).not.toContain(String(influxPort));
      const metrics = await (await fetch(`${running.url}/metrics`)).text();
      expect(metrics).toContain('taskit_dependency_up{dependency="influxdb",required="false"} 0');
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
