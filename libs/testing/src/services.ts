import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { IsolatedStack } from './isolated-stack.ts';
import { freePort } from './ports.ts';
import { RunningProcess } from './running-process.ts';

export type ServiceName = 'gateway' | 'analytics';

/** Where and how a process is started: the repository root, and an optional log file. */
export interface Launch {
  repoRoot: string;
  logFile?: string;
  /** Arguments for Node before the entry point (for example `--cpu-prof`). */
  nodeArgs?: string[];
}

/** The variables a child gets from us besides its own: PATH, HOME and the run's OTEL_*. */
export function childEnvironment(env: Record<string, string>): Record<string, string> {
  // OTEL_* of the run pass through: `OTEL_EXPORTER_OTLP_ENDPOINT=… npm run bench` measures
  // tracing's cost (docs/tracing.md).
  const tracing = Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[0].startsWith('OTEL_') && entry[1] !== undefined,
  );
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...Object.fromEntries(tracing),
    ...env,
  };
}

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
    ...influxEnvironment(stack),
    ...UNMET_RATE_LIMITS,
    ...overrides,
  };
}

/**
 * The gateway's API rate limits loosened so far that no suite or benchmark part meets them
 * (docs/limits.md); the tests of the limits and the bench's neighbour part set their own.
 */
export const UNMET_RATE_LIMITS: Record<string, string> = {
  API_RATE_LIMIT_PER_USER: '1000000000',
  API_RATE_LIMIT_PER_CLIENT: '1000000000',
  API_RATE_LIMIT_BULK_PER_USER: '1000000000',
  API_RATE_LIMIT_PER_USER_PER_SECOND: '1000000000',
  API_RATE_LIMIT_BULK_PER_USER_PER_SECOND: '1000000000',
  API_IN_FLIGHT_PER_USER: '1000000000',
};

function influxEnvironment(stack: IsolatedStack): Record<string, string> {
  return {
    INFLUX_URL: stack.influxUrl,
    INFLUX_TOKEN: '',
    INFLUX_ORG: '-',
    INFLUX_BUCKET: stack.influxBucket,
  };
}

/** Runs the built service (dist/, from `npm run build`) with exactly the given environment. */
export function spawnService(
  service: ServiceName,
  env: Record<string, string>,
  launch: Launch,
): RunningProcess {
  const entry = join(launch.repoRoot, 'dist', 'apps', service, 'src', 'main.js');
  const child = spawn(process.execPath, [...(launch.nodeArgs ?? []), entry], {
    cwd: launch.repoRoot,
    env: childEnvironment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = env.PORT ? Number(env.PORT) : undefined;
  return new RunningProcess(service, child, port, launch.logFile);
}

/**
 * Starts a service on a free port of an isolated stack and waits until /health/ready answers
 * 200; one that is not ready in time is killed, its output in the error.
 */
export async function startService(
  service: ServiceName,
  stack: IsolatedStack,
  overrides: Record<string, string>,
  launch: Launch,
): Promise<RunningProcess> {
  const port = await freePort();
  const running = spawnService(service, serviceEnvironment(stack, port, overrides), launch);
  try {
    await running.waitUntilReady('/health/ready', 45_000);
  } catch (error) {
    await running.stop('SIGKILL');
    throw error;
  }
  return running;
}

/** Telegraf pointed at the stack with `config` (deploy/telegraf/telegraf.conf or another). */
export function spawnTelegraf(
  binary: string,
  config: string,
  stack: IsolatedStack,
  options: { queue?: string; name?: string; logFile?: string } = {},
): RunningProcess {
  const child = spawn(binary, ['--config', config], {
    env: childEnvironment({
      RABBITMQ_URL: stack.rabbitmqUrl,
      ...influxEnvironment(stack),
      ...(options.queue ? { TELEGRAF_QUEUE: options.queue } : {}),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new RunningProcess(options.name ?? 'telegraf', child, undefined, options.logFile);
}
