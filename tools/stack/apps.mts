import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureGoBinary } from './go-build.mts';
import { seconds, step, withHeartbeat } from './log.mts';
import { ensureDir, REPO_ROOT, RUN_DIR } from './paths.mts';
import { isPortOpen, run, runningPid, startDetached, stopByPid, waitUntil } from './process.mts';
import { SERVICE_URLS } from './services.mts';
import { TELEGRAF } from './versions.mts';

/** InfluxDB 1.8 names a bucket database/retention-policy. */
export const LOCAL_INFLUX_DATABASE = 'taskit';
const LOCAL_INFLUX_BUCKET = `${LOCAL_INFLUX_DATABASE}/autogen`;

interface AppProcess {
  name: 'gateway' | 'analytics' | 'telegraf';
  port?: number;
  command(): Promise<{ command: string; args: string[] }>;
  env: Record<string, string>;
}

const node = process.execPath;

export const APPS: AppProcess[] = [
  {
    name: 'analytics',
    port: 3001,
    command: () => Promise.resolve({ command: node, args: ['dist/apps/analytics/src/main.js'] }),
    env: {
      PORT: '3001',
      RABBITMQ_URL: SERVICE_URLS.rabbitmq,
      INFLUX_URL: SERVICE_URLS.influxdb,
      INFLUX_BUCKET: LOCAL_INFLUX_BUCKET,
      OTEL_EXPORTER_OTLP_ENDPOINT: SERVICE_URLS.otlp,
    },
  },
  {
    name: 'gateway',
    port: 3000,
    command: () => Promise.resolve({ command: node, args: ['dist/apps/gateway/src/main.js'] }),
    env: {
      PORT: '3000',
      MONGODB_URI: `${SERVICE_URLS.mongodb}/taskit`,
      REDIS_URL: SERVICE_URLS.redis,
      RABBITMQ_URL: SERVICE_URLS.rabbitmq,
      OTEL_EXPORTER_OTLP_ENDPOINT: SERVICE_URLS.otlp,
      // The local stack is where scripts run on purpose (the soak, load tests): API rate
      // limits out of their way (docs/limits.md).
      API_RATE_LIMIT_PER_USER: '1000000000',
      API_RATE_LIMIT_PER_CLIENT: '1000000000',
      API_RATE_LIMIT_BULK_PER_USER: '1000000000',
      API_RATE_LIMIT_PER_USER_PER_SECOND: '1000000000',
      API_RATE_LIMIT_BULK_PER_USER_PER_SECOND: '1000000000',
      API_IN_FLIGHT_PER_USER: '1000000000',
    },
  },
  {
    name: 'telegraf',
    command: async () => ({
      command: await ensureGoBinary(TELEGRAF),
      args: ['--config', join(REPO_ROOT, 'deploy', 'telegraf', 'telegraf.conf')],
    }),
    env: {
      RABBITMQ_URL: SERVICE_URLS.rabbitmq,
      INFLUX_URL: SERVICE_URLS.influxdb,
      INFLUX_TOKEN: '',
      INFLUX_ORG: '-',
      INFLUX_BUCKET: LOCAL_INFLUX_BUCKET,
    },
  },
];

/** What `npm run build` reads: a change to any of them makes the next build run. */
const BUILD_INPUTS = ['apps', 'libs', 'web', 'package-lock.json', 'tsconfig.json', 'nest-cli.json'];
/** Written after a successful build; a build older than any input runs again. */
const BUILD_STAMP = join(RUN_DIR, 'build.stamp');

function newestMtimeMs(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules') continue;
    newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  }
  return newest;
}

function isBuildCurrent(): boolean {
  const stamp = statSync(BUILD_STAMP, { throwIfNoEntry: false });
  if (stamp === undefined || !existsSync(join(REPO_ROOT, 'dist'))) return false;
  return BUILD_INPUTS.every((input) => newestMtimeMs(join(REPO_ROOT, input)) < stamp.mtimeMs);
}

/** `npm run build` unless nothing it reads changed since the last one (later runs: seconds). */
export async function buildApps(): Promise<void> {
  if (isBuildCurrent()) {
    step('gateway and analytics: build is current (nothing changed since the last one)');
    return;
  }
  const started = Date.now();
  step('building gateway and analytics (nest build)');
  await withHeartbeat('nest build', run('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT }));
  ensureDir(RUN_DIR);
  writeFileSync(BUILD_STAMP, `${new Date(started).toISOString()}\n`);
  // Dated when the build began: a file edited during the build makes the next one run.
  utimesSync(BUILD_STAMP, started / 1000, started / 1000);
  step(`built in ${seconds(started)}`);
}

async function isReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`, {
      signal: AbortSignal.timeout(3_000),
    });
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts each app (or those named in `only`) unless this project already runs it, one after
 * the other and each ready before the next: Telegraf comes last because it consumes a queue
 * the services declare.
 */
export async function startApps(only?: AppProcess['name'][]): Promise<void> {
  for (const app of APPS.filter((a) => only === undefined || only.includes(a.name))) {
    if (runningPid(app.name) !== undefined) {
      step(`${app.name}: already running`);
      continue;
    }
    const port = app.port;
    if (port !== undefined && (await isPortOpen(port))) {
      throw new Error(`port ${port} is taken by another process; stop it or free the port`);
    }
    const { command, args } = await app.command();
    if (!existsSync(command)) throw new Error(`${command} is missing`);
    startDetached(app.name, command, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: 'development', ...app.env },
    });
    step(`${app.name}: started (log: .run/logs/${app.name}.log)`);
    if (port !== undefined) {
      await waitUntil(`${app.name} readiness`, () => isReady(port), 90_000, 500);
      step(`${app.name}: ready`);
    }
  }
}

export async function stopApps(): Promise<void> {
  for (const app of [...APPS].reverse()) {
    if (await stopByPid(app.name, 15_000)) step(`${app.name}: stopped`);
  }
}
