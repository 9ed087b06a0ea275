import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureGoBinary } from './go-build.mts';
import { step } from './log.mts';
import { DATA_DIR, ensureDir } from './paths.mts';
import {
  commandExists,
  isPortOpen,
  run,
  runningPid,
  startDetached,
  stopByPid,
  waitUntil,
} from './process.mts';
import { FERRETDB, INFLUXDB } from './versions.mts';

export const PORTS = { redis: 6379, rabbitmq: 5672, mongodb: 27017, influxdb: 8086 } as const;

/** The local stack's service addresses; tests derive their isolated names from these. */
export const SERVICE_URLS = {
  mongodb: `mongodb://127.0.0.1:${PORTS.mongodb}`,
  redis: `redis://127.0.0.1:${PORTS.redis}`,
  rabbitmq: `amqp://guest:guest@127.0.0.1:${PORTS.rabbitmq}`,
  influxdb: `http://127.0.0.1:${PORTS.influxdb}`,
};

export type Outcome = 'reused' | 'started';

interface BackingService {
  name: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<boolean>;
}

/** Debian's package for a server that is missing: installed when running as root with apt. */
async function ensureDebianPackage(command: string, debianPackage: string): Promise<void> {
  if (commandExists(command)) return;
  const canInstall = process.getuid?.() === 0 && commandExists('apt-get');
  if (!canInstall) {
    throw new Error(
      `${command} is not installed and nothing listens on its port: install it ` +
        `(Debian/Ubuntu: sudo apt-get install ${debianPackage}) or start one, then run again`,
    );
  }
  step(`installing ${debianPackage} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-q'], { env });
  await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', debianPackage], { env });
}

const redis: BackingService = {
  name: 'redis',
  port: PORTS.redis,
  async start() {
    await ensureDebianPackage('redis-server', 'redis-server');
    const dir = ensureDir(join(DATA_DIR, 'redis'));
    startDetached('redis', 'redis-server', [
      '--port',
      String(PORTS.redis),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
    ]);
  },
  stop: () => stopByPid('redis'),
};

/** Debian's broker daemonises itself, so it is stopped through rabbitmqctl, not by pid. */
const RABBITMQ_MARKER = 'rabbitmq';
const rabbitmq: BackingService = {
  name: 'rabbitmq',
  port: PORTS.rabbitmq,
  async start() {
    await ensureDebianPackage('rabbitmq-server', 'rabbitmq-server');
    startDetached(RABBITMQ_MARKER, 'rabbitmq-server', []);
  },
  async stop() {
    if (runningPid(RABBITMQ_MARKER) === undefined) return false;
    await run('rabbitmqctl', ['stop']).catch(() => undefined);
    return stopByPid(RABBITMQ_MARKER);
  },
};

const ferretdb: BackingService = {
  name: 'ferretdb',
  port: PORTS.mongodb,
  async start() {
    const binary = await ensureGoBinary(FERRETDB);
    const dir = ensureDir(join(DATA_DIR, 'ferretdb'));
    startDetached('ferretdb', binary, [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${PORTS.mongodb}`,
      // Its metrics endpoint is not used here; port 0 keeps it from taking a fixed port.
      '--debug-addr=127.0.0.1:0',
      '--telemetry=disable',
      '--log-level=warn',
    ]);
  },
  stop: () => stopByPid('ferretdb'),
};

function influxConfig(dir: string): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:0"

[meta]
  dir = "${dir}/meta"

[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${PORTS.influxdb}"
  auth-enabled = false
  flux-enabled = true
  log-enabled = false

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false
`;
}

const influxdb: BackingService = {
  name: 'influxdb',
  port: PORTS.influxdb,
  async start() {
    const binary = await ensureGoBinary(INFLUXDB);
    const dir = ensureDir(join(DATA_DIR, 'influxdb'));
    const config = join(dir, 'influxdb.conf');
    writeFileSync(config, influxConfig(dir));
    startDetached('influxdb', binary, ['run', '-config', config]);
  },
  stop: () => stopByPid('influxdb'),
};

export const BACKING_SERVICES: BackingService[] = [redis, rabbitmq, ferretdb, influxdb];

async function ensureService(service: BackingService): Promise<Outcome> {
  if (await isPortOpen(service.port)) {
    step(`${service.name}: reusing the server on port ${service.port}`);
    return 'reused';
  }
  step(`${service.name}: starting on port ${service.port}`);
  await service.start();
  await waitUntil(service.name, () => isPortOpen(service.port), 120_000);
  step(`${service.name}: ready`);
  return 'started';
}

/**
 * Makes every backing service answer on its port, reusing what already listens. Returns the
 * names of those it started, so that the caller stops exactly those.
 */
export async function ensureBackingServices(): Promise<string[]> {
  const started: string[] = [];
  for (const service of BACKING_SERVICES) {
    if ((await ensureService(service)) === 'started') started.push(service.name);
  }
  return started;
}

export async function stopBackingServices(names: string[]): Promise<void> {
  for (const service of [...BACKING_SERVICES].reverse()) {
    if (names.includes(service.name) && (await service.stop())) step(`${service.name}: stopped`);
  }
}

/** InfluxDB 1.8 writes only into an existing database (CREATE DATABASE is idempotent). */
export async function ensureInfluxDatabase(database: string): Promise<void> {
  const response = await fetch(`${SERVICE_URLS.influxdb}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: `CREATE DATABASE "${database}"` }),
  });
  if (!response.ok) throw new Error(`InfluxDB refused CREATE DATABASE: ${await response.text()}`);
}
