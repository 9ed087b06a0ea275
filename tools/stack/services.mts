import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { influxConfig } from '../../libs/testing/src/influx.ts';
import { redisServerArgs } from '../../libs/testing/src/redis.ts';
import { ensureGoBinary } from './go-build.mts';
import { step } from './log.mts';
import { DATA_DIR, ensureDir, STACK_DIR } from './paths.mts';
import {
  commandExists,
  isPortOpen,
  run,
  runningPid,
  startDetached,
  stopByPid,
  waitUntil,
} from './process.mts';
import { FERRETDB, INFLUXDB, JAEGER } from './versions.mts';

export const PORTS = {
  redis: 6379,
  rabbitmq: 5672,
  postgresql: 5432,
  mongodb: 27017,
  influxdb: 8086,
  /** Jaeger (CONTRACT section 10): query API and UI; OTLP receivers beside it. */
  jaeger: 16686,
  otlpGrpc: 4317,
  otlpHttp: 4318,
} as const;

/** The PostgreSQL database FerretDB stores in (tests' and the stack's MongoDB databases are schemas in it). */
export const FERRETDB_POSTGRES_DATABASE = 'taskit_ferretdb';

/**
 * FerretDB's pool of PostgreSQL connections. FerretDB 1.24 runs an update, delete or
 * findAndModify holding its query's connection while it takes a second one for the write, so
 * when as many such commands as the pool has connections are in flight, each waits for a
 * second connection forever (README, "The local stack"). It must exceed the MongoDB client
 * connections of everything that runs at once: gateways (MONGODB_MAX_POOL_SIZE, 10 each),
 * benchmark handlers and tests.
 */
export const FERRETDB_POOL_MAX_CONNS = 60;

/** The local stack's service addresses; tests derive their isolated names from these. */
export const SERVICE_URLS = {
  mongodb: `mongodb://127.0.0.1:${PORTS.mongodb}`,
  redis: `redis://127.0.0.1:${PORTS.redis}`,
  rabbitmq: `amqp://guest:guest@127.0.0.1:${PORTS.rabbitmq}`,
  influxdb: `http://127.0.0.1:${PORTS.influxdb}`,
  postgresql: `postgres://postgres@127.0.0.1:${PORTS.postgresql}`,
  jaeger: `http://127.0.0.1:${PORTS.jaeger}`,
  /** OTEL_EXPORTER_OTLP_ENDPOINT of the services (OTLP over HTTP). */
  otlp: `http://127.0.0.1:${PORTS.otlpHttp}`,
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
    startDetached('redis', 'redis-server', redisServerArgs(PORTS.redis, dir));
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

/**
 * The machine's PostgreSQL when one listens on 5432 (trust auth for postgres on 127.0.0.1, as
 * on this project's development machines); otherwise Debian's package and a cluster of the
 * stack's own under .run/data.
 */
const postgresql: BackingService = {
  name: 'postgresql',
  port: PORTS.postgresql,
  async start() {
    await ensureDebianPackage('pg_ctlcluster', 'postgresql');
    const binDir = postgresBinDir();
    const dir = ensureDir(join(DATA_DIR, 'postgresql'));
    await run('chown', ['postgres:postgres', dir]);
    if (!existsSync(join(dir, 'PG_VERSION'))) {
      await asPostgres(join(binDir, 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust']);
    }
    const options = `-p ${PORTS.postgresql} -c listen_addresses=127.0.0.1 -k /tmp`;
    await asPostgres(join(binDir, 'pg_ctl'), [
      '-D',
      dir,
      '-o',
      options,
      '-l',
      join(dir, 'log'),
      'start',
    ]);
  },
  async stop() {
    const dir = join(DATA_DIR, 'postgresql');
    if (!existsSync(join(dir, 'postmaster.pid'))) return false;
    await asPostgres(join(postgresBinDir(), 'pg_ctl'), ['-D', dir, '-m', 'fast', 'stop']);
    return true;
  },
};

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return join(root, version, 'bin');
}

/** initdb and pg_ctl refuse to run as root. */
async function asPostgres(command: string, args: string[]): Promise<void> {
  if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', command, ...args]);
  else await run(command, args);
}

/** FerretDB's database with the GIN-twin trigger (ferretdb-postgresql.sql), idempotently. */
async function ensureFerretDbDatabase(): Promise<void> {
  const psql = [
    '-h',
    '127.0.0.1',
    '-p',
    String(PORTS.postgresql),
    '-U',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-qtA',
  ];
  const exists = await run('psql', [
    ...psql,
    '-d',
    'postgres',
    '-c',
    `SELECT 1 FROM pg_database WHERE datname = '${FERRETDB_POSTGRES_DATABASE}'`,
  ]);
  if (exists.trim() !== '1') {
    await run('psql', [
      ...psql,
      '-d',
      'postgres',
      '-c',
      `CREATE DATABASE ${FERRETDB_POSTGRES_DATABASE}`,
    ]);
  }
  await run('psql', [
    ...psql,
    '-d',
    FERRETDB_POSTGRES_DATABASE,
    '-f',
    join(STACK_DIR, 'ferretdb-postgresql.sql'),
  ]);
}

/**
 * FerretDB's PostgreSQL URL. synchronous_commit=off: a commit returns before its WAL is
 * flushed (this machine's fsync took 8 to 270 ms per write); a PostgreSQL crash can lose the
 * last fraction of a second of changes, each change together with its events, never one
 * without the other. A local stack's trade; production runs MongoDB.
 */
function ferretDbPostgresUrl(database: string, poolMaxConns: number): string {
  return `postgres://postgres@127.0.0.1:${PORTS.postgresql}/${database}?pool_max_conns=${poolMaxConns}&synchronous_commit=off`;
}

const ferretdb: BackingService = {
  name: 'ferretdb',
  port: PORTS.mongodb,
  async start() {
    const binary = await ensureGoBinary(FERRETDB);
    const dir = ensureDir(join(DATA_DIR, 'ferretdb'));
    await ensureFerretDbDatabase();
    startDetached('ferretdb', binary, [
      '--handler=postgresql',
      `--postgresql-url=${ferretDbPostgresUrl(FERRETDB_POSTGRES_DATABASE, FERRETDB_POOL_MAX_CONNS)}`,
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${PORTS.mongodb}`,
      // Its debug handler (goroutines, metrics) on a free port; `npm run status` does not need it.
      '--debug-addr=127.0.0.1:0',
      '--telemetry=disable',
      '--log-level=warn',
    ]);
  },
  stop: () => stopByPid('ferretdb'),
};

const influxdb: BackingService = {
  name: 'influxdb',
  port: PORTS.influxdb,
  async start() {
    const binary = await ensureGoBinary(INFLUXDB);
    const dir = ensureDir(join(DATA_DIR, 'influxdb'));
    const config = join(dir, 'influxdb.conf');
    writeFileSync(config, influxConfig(dir, PORTS.influxdb));
    startDetached('influxdb', binary, ['run', '-config', config]);
  },
  stop: () => stopByPid('influxdb'),
};

/**
 * Jaeger v2 all-in-one with in-memory storage: OTLP in, query API and UI out, nothing else
 * (no Jaeger/Zipkin receivers, no self-metrics port), all on 127.0.0.1. The batch processor's
 * short timeout makes a trace searchable within a fraction of a second.
 */
export function jaegerConfig(ports: { query: number; otlpGrpc: number; otlpHttp: number }): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${ports.query}
    grpc:
      endpoint: 127.0.0.1:0
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${ports.otlpGrpc}
      http:
        endpoint: 127.0.0.1:${ports.otlpHttp}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

const jaeger: BackingService = {
  name: 'jaeger',
  port: PORTS.jaeger,
  async start() {
    const binary = await ensureGoBinary(JAEGER);
    const config = join(ensureDir(join(DATA_DIR, 'jaeger')), 'jaeger.yaml');
    writeFileSync(
      config,
      jaegerConfig({ query: PORTS.jaeger, otlpGrpc: PORTS.otlpGrpc, otlpHttp: PORTS.otlpHttp }),
    );
    startDetached('jaeger', binary, ['--config', config]);
  },
  stop: () => stopByPid('jaeger'),
};

export const BACKING_SERVICES: BackingService[] = [
  redis,
  rabbitmq,
  postgresql,
  ferretdb,
  influxdb,
  jaeger,
];

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
