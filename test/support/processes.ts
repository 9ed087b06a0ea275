import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { IsolatedStack } from './isolated-stack';
import { REPO_ROOT, testServices } from './test-environment';

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export async function waitFor(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A real process of ours (built service or Telegraf) with its output kept for diagnostics. */
export class RunningProcess {
  output = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port?: number,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and waits for the process to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.isRunning) this.child.kill(signal);
    return this.exited;
  }
}

export type ServiceName = 'gateway' | 'analytics';

/** Environment for a service on an isolated stack; `overrides` win. */
export function serviceEnvironment(
  stack: IsolatedStack,
  port: number,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    MONGODB_URI: stack.mongodbUri,
    REDIS_URL: stack.redisUrl,
    REDIS_PREFIX: stack.redisPrefix,
    RABBITMQ_URL: stack.rabbitmqUrl,
    INFLUX_URL: stack.influxUrl,
    INFLUX_TOKEN: '',
    INFLUX_ORG: '-',
    INFLUX_BUCKET: stack.influxBucket,
    ...overrides,
  };
}

/** Runs the built service (`npm test` builds dist first) with exactly the given environment. */
export function spawnService(service: ServiceName, env: Record<string, string>): RunningProcess {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'dist', 'apps', service, 'src', 'main.js')],
    {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new RunningProcess(service, child, env.PORT ? Number(env.PORT) : undefined);
}

async function readyStatus(url: string): Promise<number> {
  const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
  return response.status;
}

/** Starts a service on a free port of an isolated stack and waits until it is ready. */
export async function startService(
  service: ServiceName,
  stack: IsolatedStack,
  overrides: Record<string, string> = {},
): Promise<RunningProcess> {
  const port = await freePort();
  const running = spawnService(service, serviceEnvironment(stack, port, overrides));
  const exitedEarly = running.exited.then((code) => {
    throw new Error(`${service} exited with code ${code} before it was ready`);
  });
  try {
    await Promise.race([
      waitFor(`${service} readiness`, async () => (await readyStatus(running.url)) === 200, 45_000),
      exitedEarly,
    ]);
  } catch (error) {
    await running.stop('SIGKILL');
    throw new Error(`${String(error)}\n--- ${service} output ---\n${running.output}`, {
      cause: error,
    });
  } finally {
    exitedEarly.catch(() => undefined);
  }
  return running;
}

/**
 * Telegraf pointed at the stack, with the project's own deploy/telegraf/telegraf.conf or
 * another config file (for example one with a typo).
 */
export function startTelegraf(
  stack: IsolatedStack,
  options: { queue?: string; config?: string; name?: string } = {},
): RunningProcess {
  const config = options.config ?? join(REPO_ROOT, 'deploy', 'telegraf', 'telegraf.conf');
  const child = spawn(testServices().telegrafBinary, ['--config', config], {
    env: {
      PATH: process.env.PATH ?? '',
      RABBITMQ_URL: stack.rabbitmqUrl,
      INFLUX_URL: stack.influxUrl,
      INFLUX_TOKEN: '',
      INFLUX_ORG: '-',
      INFLUX_BUCKET: stack.influxBucket,
      ...(options.queue ? { TELEGRAF_QUEUE: options.queue } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new RunningProcess(options.name ?? 'telegraf', child);
}
