import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { influxConfig } from '../../libs/testing/src/influx.ts';
import { redisServerArgs } from '../../libs/testing/src/redis.ts';
import { withFileLock } from './file-lock.mts';
import { ensureGoBinary } from './go-build.mts';
import { lockWaitReporter, step } from './log.mts';
import { DATA_DIR, ensureDir, RUN_DIR, STACK_DIR } from './paths.mts';
import {
  commandExists,
  isPortOpen,
  logFile,
  run,
  runningPid,
  startDetached,
  stopByPid,
  waitUntil,
  writePidFile,
} from './process.mts';
import { FERRETDB, INFLUXDB, JAEGER } from './versions.mts';

export const PORTS = {
  redis: 6379,
  rabbitmq: 5672,
  /** The stack's own PostgreSQL cluster (FerretDB's storage), never the machine's 5432. */
  postgresql: 55432,
  mongodb: 27017,
  influxdb: 8086,
  /** Jaeger (docs/tracing.md): query API and UI; OTLP receivers beside it. */
  jaeger: 16686,
  otlpGrpc: 4317,
  otlpHttp: 4318,
} as const;

/** The PostgreSQL database FerretDB stores in (tests' and the stack's MongoDB databases are schemas in it). */
export const FERRETDB_POSTGRES_DATABASE = 'taskit_ferretdb';

/**
 * FerretDB's pool of PostgreSQL connections. FerretDB 1.24 runs each statement of an update
 * or delete holding its query's connection until the command ends, and takes one more for each
 * write, so when the held connections fill the pool, every command waits for one more forever
 * (docs/local-stack.md, "PostgreSQL"). It must exceed what everything that runs at once holds:
 * 34 per gateway (its 20 MongoDB connections, two of them settle commands of up to 8
 * statements; `npm run up`'s, a test's two, a benchmark's), benchmark handlers and tests; and
 * stay below the cluster's max_connections.
 */
export const FERRETDB_POOL_MAX_CONNS = 150;

/**
 * FerretDB's Go garbage collector target: it allocates for every document it turns from
 * JSONB into BSON, and at the default (100) a third of its CPU in a soak was the collector.
 * 400 trades about 50 MB of memory for most of that (docs/local-stack.md, "FerretDB on PostgreSQL").
 */
export const FERRETDB_GOGC = '400';

/**
 * The stack's PostgreSQL settings for FerretDB's workload: small JSONB rows updated in place
 * many times a second on a 2-core machine (docs/local-stack.md, "PostgreSQL" gives the why of
 * each). Passed at every start, so a change applies with the next `npm run up`.
 */
export const POSTGRES_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  max_connections: '200',
  shared_buffers: '128MB',
  autovacuum: 'on',
  autovacuum_naptime: '10s',
  autovacuum_vacuum_scale_factor: '0.02',
  autovacuum_vacuum_insert_scale_factor: '0.05',
  autovacuum_analyze_scale_factor: '0.02',
  autovacuum_vacuum_cost_limit: '2000',
  synchronous_commit: 'off',
  checkpoint_timeout: '15min',
  max_wal_size: '1GB',
  random_page_cost: '1.1',
  jit: 'off',
  log_autovacuum_min_duration: '5s',
};

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
  /** Services this one's start needs (started first when their port is closed). */
  needs?: BackingService[];
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

/**
 * The stack's RabbitMQ node: Debian's broker with a node name, data, logs and configuration of
 * its own under .run/data/rabbitmq (its own env file, so /etc/rabbitmq is never read), so that
 * it never touches a broker the machine runs. rabbitmqctl reaches it through RABBITMQ_NODENAME.
 */
export const RABBITMQ_NODENAME = 'taskit@localhost';
const RABBITMQ_MARKER = 'rabbitmq';

function rabbitmqEnvironment(): NodeJS.ProcessEnv {
  const dir = join(DATA_DIR, 'rabbitmq');
  return {
    ...process.env,
    RABBITMQ_NODENAME,
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(PORTS.rabbitmq),
  };
}

/** rabbitmqctl of this process and its children (tests, benchmark) talks to our node. */
function useOurRabbitmqNode(): void {
  if (runningPid(RABBITMQ_MARKER) !== undefined) process.env.RABBITMQ_NODENAME = RABBITMQ_NODENAME;
}

const rabbitmq: BackingService = {
  name: 'rabbitmq',
  port: PORTS.rabbitmq,
  async start() {
    await ensureDebianPackage('rabbitmq-server', 'rabbitmq-server');
    const dir = ensureDir(join(DATA_DIR, 'rabbitmq'));
    ensureDir(join(dir, 'mnesia'));
    ensureDir(join(dir, 'log'));
    // epmd and Erlang distribution on loopback only, like the AMQP listener.
    writeFileSync(
      join(dir, 'rabbitmq-env.conf'),
      [
        `NODENAME=${RABBITMQ_NODENAME}`,
        'ERL_EPMD_ADDRESS=127.0.0.1',
        'SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      `listeners.tcp.local = 127.0.0.1:${PORTS.rabbitmq}\nloopback_users.guest = true\n`,
    );
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    // Debian's wrapper runs the broker as the rabbitmq user (keeping the environment).
    if (process.getuid?.() === 0) await run('chown', ['-R', 'rabbitmq:rabbitmq', dir]);
    startDetached(RABBITMQ_MARKER, 'rabbitmq-server', [], { env: rabbitmqEnvironment() });
  },
  async stop() {
    if (runningPid(RABBITMQ_MARKER) === undefined) return false;
    await run('rabbitmqctl', ['-n', RABBITMQ_NODENAME, 'stop'], {
      env: rabbitmqEnvironment(),
    }).catch(() => undefined);
    return stopByPid(RABBITMQ_MARKER);
  },
};

/**
 * The stack's own PostgreSQL cluster for FerretDB (Debian's binaries, initdb into
 * .run/data/postgresql on first use, trust auth on 127.0.0.1, POSTGRES_SETTINGS), on its own
 * port: never the machine's server and whatever that one is configured with.
 */
const POSTGRES_DIR = join(DATA_DIR, 'postgresql');
const postgresql: BackingService = {
  name: 'postgresql',
  port: PORTS.postgresql,
  async start() {
    await ensureDebianPackage('pg_ctlcluster', 'postgresql');
    const binDir = postgresBinDir();
    ensureDir(POSTGRES_DIR);
    if (process.getuid?.() === 0) await run('chown', ['postgres:postgres', POSTGRES_DIR]);
    await run('chmod', ['700', POSTGRES_DIR]);
    if (!existsSync(join(POSTGRES_DIR, 'PG_VERSION'))) {
      step('postgresql: initdb into .run/data/postgresql (first run only)');
      await asPostgres(join(binDir, 'initdb'), [
        '-D',
        POSTGRES_DIR,
        '-U',
        'postgres',
        '--auth=trust',
        '--encoding=UTF8',
      ]);
    }
    const settings = Object.entries({ ...POSTGRES_SETTINGS, port: String(PORTS.postgresql) })
      .map(([name, value]) => `-c ${name}=${value}`)
      .join(' ');
    const log = logFile('postgresql');
    writeFileSync(log, '', { flag: 'a' });
    if (process.getuid?.() === 0) await run('chown', ['postgres:postgres', log]);
    await asPostgres(join(binDir, 'pg_ctl'), [
      '-D',
      POSTGRES_DIR,
      '-o',
      `${settings} -k /tmp`,
      '-l',
      log,
      '-w',
      'start',
    ]);
    // pg_ctl daemonises the server: its pid file makes it ours for `down` and `status`.
    const pid = readFileSync(join(POSTGRES_DIR, 'postmaster.pid'), 'utf8').split('\n')[0];
    writePidFile('postgresql', Number(pid));
  },
  async stop() {
    if (runningPid('postgresql') === undefined) return false;
    await asPostgres(join(postgresBinDir(), 'pg_ctl'), ['-D', POSTGRES_DIR, '-m', 'fast', 'stop']);
    await stopByPid('postgresql');
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
  needs: [postgresql],
  async start() {
    const binary = await ensureGoBinary(FERRETDB);
    const dir = ensureDir(join(DATA_DIR, 'ferretdb'));
    await ensureFerretDbDatabase();
    startDetached(
      'ferretdb',
      binary,
      [
        '--handler=postgresql',
        `--postgresql-url=${ferretDbPostgresUrl(FERRETDB_POSTGRES_DATABASE, FERRETDB_POOL_MAX_CONNS)}`,
        `--state-dir=${dir}`,
        `--listen-addr=127.0.0.1:${PORTS.mongodb}`,
        // Its debug handler (goroutines, metrics) on a free port; `npm run status` does not need it.
        '--debug-addr=127.0.0.1:0',
        '--telemetry=disable',
        '--log-level=warn',
      ],
      { env: { ...process.env, GOGC: FERRETDB_GOGC } },
    );
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
 * (no Jaeger/Zipkin receivers, no self-metrics port), all on 127.0.0.1. Its memory is bounded
 * in bytes (docs/local-stack.md, "Traces"): the memory limiter refuses spans once the heap
 * passes JAEGER_MEMORY_LIMIT_MIB (the SDKs drop them), and the store keeps the newest
 * max_traces traces, sized to stay under that limit. The batch processor's short timeout makes
 * a trace searchable within a fraction of a second.
 */
export const JAEGER_MEMORY_LIMIT_MIB = 256;
export const JAEGER_MAX_TRACES = 10_000;

export function jaegerConfig(ports: { query: number; otlpGrpc: number; otlpHttp: number }): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
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
          max_traces: ${JAEGER_MAX_TRACES}
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
  memory_limiter:
    check_interval: 1s
    limit_mib: ${JAEGER_MEMORY_LIMIT_MIB}
    spike_limit_mib: ${JAEGER_MEMORY_LIMIT_MIB / 4}
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
    // The Go runtime's soft limit a little above the limiter's: the GC works harder before
    // the limiter starts refusing.
    startDetached('jaeger', binary, ['--config', config], {
      env: { ...process.env, GOMEMLIMIT: `${Math.round(JAEGER_MEMORY_LIMIT_MIB * 1.2)}MiB` },
    });
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

/** The tracing backend: `npm run up` starts it in the background when it must be built. */
export const TRACING_SERVICE = jaeger.name;

/**
 * Makes a service answer on its port, reusing what already listens; `started` collects the
 * names of those this call started (a service's needs first). Concurrent callers share one
 * start per service: in this process through `pending`, across processes (`npm run up`'s
 * background work beside an `npm test`) through a start lock, under which each caller looks
 * again before starting. Without the lock, two commands that waited for the same first-run
 * build both started the server; the second one's failed process took over the pid file and
 * left the first running, unknown to `npm run down`.
 */
function ensureService(
  service: BackingService,
  started: string[],
  pending: Map<string, Promise<void>>,
): Promise<void> {
  let ensuring = pending.get(service.name);
  if (ensuring === undefined) {
    const waiting = lockWaitReporter(service.name, 'starting');
    ensuring = withFileLock(
      join(RUN_DIR, 'locks', `${service.name}.lock`),
      async () => {
        waiting.stop();
        // Ours from an earlier run (its pid alive) counts as running even when a loaded
        // machine is slow to answer the port probe: a second instance would take over its
        // pid file.
        if (runningPid(service.name) !== undefined) {
          await waitUntil(service.name, () => isPortOpen(service.port), 120_000);
          step(`${service.name}: already running (ours, port ${service.port})`);
          return;
        }
        if (await isPortOpen(service.port)) {
          step(`${service.name}: reusing the server on port ${service.port}`);
          return;
        }
        for (const need of service.needs ?? []) await ensureService(need, started, pending);
        step(`${service.name}: starting on port ${service.port}`);
        await service.start();
        started.push(service.name);
        await waitUntil(service.name, () => isPortOpen(service.port), 120_000);
        step(`${service.name}: ready`);
      },
      waiting.onWait,
    ).finally(waiting.stop);
    pending.set(service.name, ensuring);
  }
  return ensuring;
}

/**
 * Makes every backing service answer on its port, reusing what already listens, all at once
 * (first-run builds overlap). `except` names services left alone. Returns the names of those
 * it started, so that the caller stops exactly those.
 */
export async function ensureBackingServices(except: string[] = []): Promise<string[]> {
  const started: string[] = [];
  const pending = new Map<string, Promise<void>>();
  const needed = BACKING_SERVICES.filter((service) => !except.includes(service.name));
  const results = await Promise.allSettled(
    needed
      .filter((service) => !BACKING_SERVICES.some((s) => s.needs?.includes(service)))
      .map((service) => ensureService(service, started, pending)),
  );
  useOurRabbitmqNode();
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopBackingServices(started);
    throw failed.reason;
  }
  return started;
}

/** Starts one backing service unless its port answers; true when this call started it. */
export async function ensureBackingService(name: string): Promise<boolean> {
  const service = BACKING_SERVICES.find((s) => s.name === name);
  if (service === undefined) throw new Error(`no backing service ${name}`);
  const started: string[] = [];
  await ensureService(service, started, new Map());
  return started.includes(name);
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
