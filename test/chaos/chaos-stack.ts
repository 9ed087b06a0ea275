import { ANALYTICS_EVENTS_QUEUE, TELEGRAF_EVENTS_QUEUE } from '@taskit/contracts';
import type { IsolatedStack } from '../support/isolated-stack';
import { startPrivateServers, type PrivateServers } from '../support/private-servers';
import {
  freePort,
  serviceEnvironment,
  spawnService,
  startService,
  startTelegraf,
  waitFor,
  type RunningProcess,
} from '../support/processes';

/**
 * The whole system on private servers: its own RabbitMQ node, InfluxDB, FerretDB and Redis
 * (free ports, temporary data), two gateway processes, the analytics service and Telegraf.
 * Nothing here touches the shared servers on 5672/6379/27017/8086.
 */
export class ChaosStack {
  gateways: RunningProcess[] = [];
  analytics?: RunningProcess;
  telegraf?: RunningProcess;
  /** Every service process this stack started, for the final clean-up. */
  private readonly started: RunningProcess[] = [];

  private constructor(
    readonly servers: PrivateServers,
    readonly stack: IsolatedStack,
    private readonly stopServers: () => Promise<void>,
  ) {}

  static async start(): Promise<ChaosStack> {
    const { servers, stack, stop } = await startPrivateServers('chaos');
    const chaos = new ChaosStack(servers, stack, stop);
    try {
      await chaos.startAnalytics();
      chaos.gateways = await Promise.all([chaos.startGateway(), chaos.startGateway()]);
      chaos.telegraf = chaos.track(startTelegraf(stack));
      await chaos.waitForTelegraf();
    } catch (error) {
      await chaos.stop();
      throw error;
    }
    return chaos;
  }

  private track(process: RunningProcess): RunningProcess {
    this.started.push(process);
    return process;
  }

  async startGateway(): Promise<RunningProcess> {
    return this.track(await startService('gateway', this.stack, { LOG_LEVEL: 'error' }));
  }

  async startAnalytics(overrides: Record<string, string> = {}): Promise<RunningProcess> {
    this.analytics = this.track(
      await startService('analytics', this.stack, { LOG_LEVEL: 'error', ...overrides }),
    );
    return this.analytics;
  }

  /** Starts the analytics service without waiting for it (it consumes as soon as it can). */
  async spawnAnalytics(overrides: Record<string, string> = {}): Promise<RunningProcess> {
    const env = serviceEnvironment(this.stack, await freePort(), {
      LOG_LEVEL: 'error',
      ...overrides,
    });
    return this.track(spawnService('analytics', env));
  }

  /** Telegraf has no port: it is ready once it consumes its queue. */
  async waitForTelegraf(): Promise<void> {
    await waitFor(
      'Telegraf consuming telegraf.task-events',
      async () => {
        if (!this.telegraf?.isRunning)
          throw new Error(`telegraf exited:\n${this.telegraf?.output}`);
        return (await this.consumers(TELEGRAF_EVENTS_QUEUE)) > 0;
      },
      60_000,
      500,
    );
  }

  async consumers(queue: string): Promise<number> {
    const out = await this.servers.rabbitmq.ctl('list_queues', 'name', 'consumers');
    const line = out.split('\n').find((l) => l.split('\t')[0] === queue);
    return line ? Number(line.split('\t')[1]) : 0;
  }

  /** What is not ready yet: empty when every service and both consumers are. */
  async notReady(): Promise<string[]> {
    const problems: string[] = [];
    const services = [...this.gateways, ...(this.analytics ? [this.analytics] : [])];
    for (const service of services) {
      try {
        const response = await fetch(`${service.url}/health/ready`, {
          signal: AbortSignal.timeout(3_000),
        });
        if (response.status !== 200) {
          problems.push(
            `${service.name} ${service.url}: ${response.status} ${await response.text()}`,
          );
        }
      } catch (error) {
        problems.push(`${service.name} ${service.url}: ${String(error)}`);
      }
    }
    for (const queue of [ANALYTICS_EVENTS_QUEUE, TELEGRAF_EVENTS_QUEUE]) {
      const consumers = await this.consumers(queue).catch(() => 0);
      if (consumers === 0) problems.push(`no consumer on ${queue}`);
    }
    return problems;
  }

  /** Every service answers /health/ready with 200 and both consumers are attached. */
  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let problems = await this.notReady();
    while (problems.length > 0) {
      if (Date.now() > deadline) {
        throw new Error(
          `not ready after ${timeoutMs} ms: ${problems.join('; ')}\n${this.diagnostics()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      problems = await this.notReady();
    }
  }

  /** The last lines of every service's output (for a report when something is off). */
  diagnostics(lines = 15): string {
    return this.started
      .map(
        (p) =>
          `--- ${p.name} ${p.port ?? ''} ---\n${p.output.split('\n').slice(-lines).join('\n')}`,
      )
      .join('\n');
  }

  /** Stops every process and private server; safe to call at any point, also twice. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.started.map((p) => p.stop('SIGKILL')));
    await this.stopServers();
  }
}
