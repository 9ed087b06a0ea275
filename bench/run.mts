/**
 * `npm run bench` (CONTRACT section 8): the gateway against a raw node:http handler, the
 * analytics worker against Telegraf, and the end-to-end event lag, all measured in one run on
 * this machine. Prints a table, writes .bench/results.json and .bench/results.md.
 *
 * Options: `--only http,pipeline,e2e` (default all), `--quick` (short smoke run),
 * `--cpu-prof` (the gateway and the raw server write V8 CPU profiles to .bench/profiles/),
 * `--skip-build` (use dist/ as it is). Worker settings pass through (INGEST_BATCH_SIZE,
 * INGEST_PREFETCH, INGEST_BATCH_WAIT_MS); BENCH_EVENTS, BENCH_E2E_RATE, BENCH_E2E_SECONDS,
 * BENCH_SECONDS override the sizes.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { mongo } from 'mongoose';
import { createClient } from 'redis';
import { buildApps } from '../tools/stack/apps.mts';
import { ensureGoBinary } from '../tools/stack/go-build.mts';
import { REPO_ROOT } from '../tools/stack/paths.mts';
import { ensureBackingServices, stopBackingServices } from '../tools/stack/services.mts';
import { TELEGRAF } from '../tools/stack/versions.mts';
import type { E2eJob, E2eResult } from './e2e-load.mts';
import { influxScalar } from './lib/influx.mts';
import {
  ANALYTICS_EVENTS_DLQ,
  ANALYTICS_EVENTS_QUEUE as WORKER_QUEUE,
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  TELEGRAF_EVENTS_DLQ,
  TELEGRAF_EVENTS_QUEUE as TELEGRAF_QUEUE,
} from '../libs/contracts/src/index.ts';
import { INGEST_DEFAULTS } from '../libs/config/src/setting-defaults.ts';
import {
  declareTopology,
  publishBacklog,
  QueueWatcher,
  verifySource,
  type SourceVerification,
} from './lib/pipeline.mts';
import {
  BENCH_DIR,
  freePort,
  startProcess,
  stopAllChildren,
  waitHttpReady,
  runScript,
  type Child,
} from './lib/processes.mts';
import { createBenchStack, type BenchStack } from './lib/stack.mts';
import { mean, nowMs, round, sleep } from './lib/stats.mts';
import type { LoadJob, LoadResult } from './load.mts';
import { writesTable, type WritesDeps, runWrites } from './writes.mts';

// ---------------------------------------------------------------------------------------
// Settings

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const onlyArg = args.find((a) => a.startsWith('--only'));
const onlyValue = onlyArg?.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf('--only') + 1];
const parts = new Set((onlyArg ? onlyValue : 'http,writes,pipeline,e2e').split(','));
const quick = flag('--quick');
const cpuProf = flag('--cpu-prof');
const envNumber = (name: string, fallback: number) =>
  process.env[name] ? Number(process.env[name]) : fallback;

const CONFIG = {
  http: {
    users: quick ? 16 : 64,
    tasksPerUser: 50,
    connections: quick ? 16 : 32,
    warmupS: quick ? 1 : 3,
    durationS: envNumber('BENCH_SECONDS', quick ? 3 : 10),
    rounds: quick ? 1 : 2,
  },
  writes: {
    connections: quick ? 8 : 32,
    warmupS: quick ? 1 : 3,
    durationS: envNumber('BENCH_SECONDS', quick ? 5 : 15),
    rounds: quick ? 1 : 2,
  },
  pipeline: {
    events: envNumber('BENCH_EVENTS', quick ? 5_000 : 50_000),
    users: 64,
    drainTimeoutS: 300,
  },
  e2e: {
    ratePerS: envNumber('BENCH_E2E_RATE', 200),
    durationS: envNumber('BENCH_E2E_SECONDS', quick ? 5 : 30),
    targetRatePerS: 200,
    targetDurationS: quick ? 2 : 5,
    users: 32,
    maxInflight: 256,
    pollMs: 50,
    drainTimeoutS: 60,
  },
};

const SESSION_SECRET = randomBytes(32).toString('hex');
/**
 * Task-list cache lifetime for the read runs (gateway and raw same-I/O alike): long enough that
 * no entry expires during the run (with the default 60 s each user's list would come from
 * FerretDB once a minute, a 0.5 s collection scan here, in the middle of a run).
 */
const CACHE_TTL_S = 900;
const PROFILE_DIR = join(BENCH_DIR, 'profiles');

function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------------------------------
// Services

let profiles = 0;
function nodeArgs(name: string): string[] {
  if (!cpuProf) return [];
  profiles += 1;
  return [
    '--cpu-prof',
    `--cpu-prof-dir=${PROFILE_DIR}`,
    `--cpu-prof-name=${name}-${profiles}.cpuprofile`,
  ];
}

function ingestOverrides(): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('INGEST_') && value !== undefined) overrides[key] = value;
  }
  return overrides;
}

async function startGateway(
  stack: BenchStack,
  overrides: Record<string, string> = {},
): Promise<Child> {
  const port = await freePort();
  const child = startProcess(
    'gateway',
    process.execPath,
    [...nodeArgs('gateway'), 'dist/apps/gateway/src/main.js'],
    {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      SESSION_SECRET,
      MONGODB_URI: stack.mongodbUri,
      REDIS_URL: stack.redisUrl,
      REDIS_PREFIX: stack.redisPrefix,
      RABBITMQ_URL: stack.rabbitmqUrl,
      ...overrides,
    },
    port,
  );
  await waitHttpReady(child, '/health/ready');
  return child;
}

async function startAnalytics(stack: BenchStack): Promise<Child> {
  const port = await freePort();
  const child = startProcess(
    'analytics',
    process.execPath,
    ['dist/apps/analytics/src/main.js'],
    {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      RABBITMQ_URL: stack.rabbitmqUrl,
      INFLUX_URL: stack.influxUrl,
      INFLUX_TOKEN: '',
      INFLUX_ORG: '-',
      INFLUX_BUCKET: stack.influxBucket,
      ...ingestOverrides(),
    },
    port,
  );
  await waitHttpReady(child, '/health/ready');
  return child;
}

async function startRawServer(stack: BenchStack): Promise<Child> {
  const port = await freePort();
  const child = startProcess(
    'raw-server',
    process.execPath,
    [...nodeArgs('raw'), 'bench/raw-server.mts'],
    {
      NODE_ENV: 'production',
      PORT: String(port),
      SESSION_SECRET,
      MONGODB_URI: stack.mongodbUri,
      REDIS_URL: stack.redisUrl,
      REDIS_PREFIX: stack.redisPrefix,
      TASK_LIST_CACHE_TTL_SECONDS: String(CACHE_TTL_S),
    },
    port,
  );
  await waitHttpReady(child, '/health');
  return child;
}

function startTelegraf(stack: BenchStack, binary: string): Child {
  return startProcess(
    'telegraf',
    binary,
    ['--config', join(REPO_ROOT, 'deploy', 'telegraf', 'telegraf.conf')],
    {
      RABBITMQ_URL: stack.rabbitmqUrl,
      INFLUX_URL: stack.influxUrl,
      INFLUX_TOKEN: '',
      INFLUX_ORG: '-',
      INFLUX_BUCKET: stack.influxBucket,
    },
  );
}

/** CPU time (user + system) of a process so far, in ms, from /proc (Linux). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------------------------------
// Users and data

interface BenchUser {
  id: string;
  cookie: string;
  csrf: string;
}

async function registerUsers(baseUrl: string, n: number, label: string): Promise<BenchUser[]> {
  const users: BenchUser[] = new Array<BenchUser>(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const response = await fetch(`${baseUrl}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: `${label}-${i}@bench.example`,
          password: 'bench-password-1',
        }),
      });
      if (response.status !== 201) {
        throw new Error(`register: ${response.status} ${await response.text()}`);
      }
      const body = (await response.json()) as { user: { id: string }; csrfToken: string };
      const cookie = response.headers
        .getSetCookie()
        .map((line) => line.split(';')[0])
        .find((pair) => pair.startsWith('taskit.sid='));
      if (!cookie) throw new Error('register: no session cookie');
      users[i] = { id: body.user.id, cookie, csrf: body.csrfToken };
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return users;
}

/**
 * Tasks written straight into MongoDB in the tasks service's document shape
 * (apps/gateway/src/tasks/task.schema.ts) as they are once the relay published their events:
 * `outbox: []` and no `outboxSince`. (Through the API, FerretDB takes minutes for 3,200.)
 */
async function seedTasks(mongodbUri: string, users: BenchUser[], perUser: number): Promise<void> {
  const client = new mongo.MongoClient(mongodbUri, { serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  try {
    const base = Date.now() - 86_400_000;
    const docs = users.flatMap((user, u) =>
      Array.from({ length: perUser }, (_, i) => {
        const at = new Date(base + (u * perUser + i) * 1000);
        return {
          _id: new mongo.ObjectId(),
          userId: new mongo.ObjectId(user.id),
          title: `Benchmark task ${i + 1} of user ${u + 1}`,
          done: i % 3 === 0,
          createdAt: at,
          updatedAt: at,
          deletedAt: null,
          outbox: [],
        };
      }),
    );
    for (let i = 0; i < docs.length; i += 500) {
      await client
        .db()
        .collection('tasks')
        .insertMany(docs.slice(i, i + 500));
    }
  } finally {
    await client.close();
  }
}

async function getJson(url: string, cookie: string): Promise<unknown> {
  const response = await fetch(url, { headers: { cookie } });
  if (response.status !== 200)
    throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

// ---------------------------------------------------------------------------------------
// Part 1: HTTP

interface TargetSummary {
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  errors: number;
  cpu_ms_per_request: number;
  rounds: (LoadResult & { cpuMsPerRequest: number })[];
}

function summarize(rounds: (LoadResult & { cpuMsPerRequest: number })[]): TargetSummary {
  return {
    rps: round(mean(rounds.map((r) => r.rps))),
    p50_ms: round(mean(rounds.map((r) => r.latencyMs.p50))),
    p90_ms: round(mean(rounds.map((r) => r.latencyMs.p90))),
    p99_ms: round(mean(rounds.map((r) => r.latencyMs.p99))),
    errors: rounds.reduce((s, r) => s + r.non2xx + r.errors + r.bodyMismatches, 0),
    cpu_ms_per_request: round(mean(rounds.map((r) => r.cpuMsPerRequest)), 3),
    rounds,
  };
}

async function measureLoad(name: string, job: LoadJob, pid: number | undefined) {
  const before = cpuMs(pid);
  const result = await runScript<LoadResult>(`load-${name}`, 'load.mts', job);
  const cpuMsPerRequest = (cpuMs(pid) - before) / Math.max(1, result.requests);
  progress(
    `  ${name}: ${round(result.rps)} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}, ${round(cpuMsPerRequest, 2)} CPU ms/request`,
  );
  return { ...result, cpuMsPerRequest };
}

/** Waits until the raw server has no request in progress (queued FerretDB scans finish). */
async function rawIdle(raw: Child): Promise<number> {
  const started = nowMs();
  for (;;) {
    const body = (await (await fetch(`${raw.url}/health`)).json()) as { inflight: number };
    if (body.inflight === 0 || nowMs() - started > 120_000) return (nowMs() - started) / 1000;
    await sleep(200);
  }
}

/**
 * Fills the task-list caches before the read runs: the gateway's through its API (each miss
 * is one FerretDB collection scan), the raw same-I/O route's from one scan of all tasks in the
 * format that route stores (it is the benchmark's own).
 */
async function primeCaches(gatewayUrl: string, stack: BenchStack, users: BenchUser[]) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < users.length) {
        const user = users[next++];
        await getJson(`${gatewayUrl}/api/tasks`, user.cookie);
      }
    }),
  );
  const client = new mongo.MongoClient(stack.mongodbUri, { serverSelectionTimeoutMS: 5_000 });
  const redis = createClient({ url: stack.redisUrl });
  await Promise.all([client.connect(), redis.connect()]);
  try {
    const all = await client
      .db()
      .collection('tasks')
      .find(
        { deletedAt: null },
        { projection: { userId: 1, title: 1, done: 1, createdAt: 1, updatedAt: 1 } },
      )
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    for (const user of users) {
      const views = all
        .filter((t) => String(t.userId) === user.id)
        .map((t) => ({
          id: String(t._id),
          title: String(t.title),
          done: t.done === true,
          createdAt: (t.createdAt as Date).toISOString(),
          updatedAt: (t.updatedAt as Date).toISOString(),
        }));
      const version = (await redis.get(`${stack.redisPrefix}tasks-version:${user.id}`)) ?? '0';
      await redis.set(
        `${stack.redisPrefix}rawcache::tasks:${user.id}:v${version}:all`,
        JSON.stringify(views),
        { PX: CACHE_TTL_S * 1000 },
      );
    }
  } finally {
    await Promise.allSettled([client.close(), redis.close()]);
  }
}

async function httpPart() {
  const c = CONFIG.http;
  const stack = await createBenchStack('http');
  cleanups.push(() => stack.cleanup());
  progress(`HTTP: isolated stack ${stack.id}; starting the gateway (NODE_ENV=production)`);
  let gateway = await startGateway(stack, { TASK_LIST_CACHE_TTL_SECONDS: String(CACHE_TTL_S) });
  const raw = await startRawServer(stack);
  progress(`HTTP: registering ${c.users} users, seeding ${c.users * c.tasksPerUser} tasks`);
  const users = await registerUsers(gateway.url, c.users, 'http');
  await seedTasks(stack.mongodbUri, users, c.tasksPerUser);
  progress('HTTP: filling the task-list caches (one FerretDB scan per user through the gateway)');
  const primeStarted = nowMs();
  await primeCaches(gateway.url, stack, users);
  progress(`HTTP: caches filled in ${round((nowMs() - primeStarted) / 1000)} s`);

  // The three handlers must answer the same JSON before their speed means anything.
  const viaGateway = await getJson(`${gateway.url}/api/tasks`, users[1].cookie);
  const viaRaw = await getJson(`${raw.url}/api/tasks`, users[1].cookie);
  const viaSameIo = await getJson(`${raw.url}/same-io/api/tasks`, users[1].cookie);
  if (JSON.stringify(viaGateway) !== JSON.stringify(viaRaw)) {
    throw new Error('the raw server answers differently from the gateway');
  }
  if (JSON.stringify(viaGateway) !== JSON.stringify(viaSameIo)) {
    throw new Error('the raw same-io route answers differently from the gateway');
  }
  const loadUsers = users.map(({ cookie, csrf }) => ({ cookie, csrf }));
  const targets = {
    gateway: { url: () => gateway.url, path: '/api/tasks', pid: () => gateway.process.pid },
    raw: { url: () => raw.url, path: '/api/tasks', pid: () => raw.process.pid },
    raw_same_io: { url: () => raw.url, path: '/same-io/api/tasks', pid: () => raw.process.pid },
  };
  type Target = keyof typeof targets;
  const readJob = (name: Target, durationS: number): LoadJob => ({
    mode: 'read',
    url: targets[name].url(),
    path: targets[name].path,
    users: loadUsers,
    connections: c.connections,
    durationS,
    expectTasks: c.tasksPerUser,
  });
  const results = new Map<string, (LoadResult & { cpuMsPerRequest: number })[]>();
  const rawDrainS: number[] = [];
  const warmedUp = new Set<Target>();
  const measure = async (name: Target) => {
    if (name === 'gateway' && !gateway.running) {
      progress('HTTP: starting the gateway again');
      gateway = await startGateway(stack, { TASK_LIST_CACHE_TTL_SECONDS: String(CACHE_TTL_S) });
      warmedUp.delete('gateway');
    }
    if (!warmedUp.has(name)) {
      progress(`HTTP: warm-up ${name} (${c.warmupS} s)`);
      await runScript<LoadResult>(`warmup-${name}`, 'load.mts', readJob(name, c.warmupS));
      if (name === 'raw') rawDrainS.push(await rawIdle(raw));
      warmedUp.add(name);
    }
    const result = await measureLoad(name, readJob(name, c.durationS), targets[name].pid());
    results.set(name, [...(results.get(name) ?? []), result]);
    if (name === 'raw') {
      const waited = await rawIdle(raw);
      rawDrainS.push(waited);
      progress(`  raw: ${round(waited)} s until its queued MongoDB queries finished`);
    }
  };
  const order: Target[] = ['gateway', 'raw', 'raw_same_io'];
  for (let r = 0; r < c.rounds; r++) {
    progress(
      `HTTP: round ${r + 1}/${c.rounds}, GET /api/tasks, ${c.connections} connections, ${c.durationS} s each`,
    );
    // Alternate the order, so that drift of the shared servers hits every target alike.
    for (const name of r % 2 === 0 ? order : [...order].reverse()) await measure(name);
  }
  if (!gateway.running) {
    gateway = await startGateway(stack, { TASK_LIST_CACHE_TTL_SECONDS: String(CACHE_TTL_S) });
  }

  await gateway.stop();
  await raw.stop();
  await stack.cleanup();

  const g = summarize(results.get('gateway') ?? []);
  const rawSummary = summarize(results.get('raw') ?? []);
  const sameIo = summarize(results.get('raw_same_io') ?? []);
  return {
    gateway_rps: g.rps,
    raw_rps: rawSummary.rps,
    ratio: round(g.rps / rawSummary.rps, 3),
    gateway_p99_ms: g.p99_ms,
    raw_p99_ms: rawSummary.p99_ms,
    /** The gateway's failed requests; the baselines' are listed apart. */
    errors: g.errors,
    raw_errors: rawSummary.errors,
    raw_same_io_errors: sameIo.errors,
    gateway_p50_ms: g.p50_ms,
    raw_p50_ms: rawSummary.p50_ms,
    p99_ratio: round(g.p99_ms / rawSummary.p99_ms, 3),
    raw_same_io_rps: sameIo.rps,
    raw_same_io_p50_ms: sameIo.p50_ms,
    raw_same_io_p99_ms: sameIo.p99_ms,
    ratio_vs_same_io: round(g.rps / sameIo.rps, 3),
    p99_ratio_vs_same_io: round(g.p99_ms / sameIo.p99_ms, 3),
    gateway_cpu_ms_per_request: g.cpu_ms_per_request,
    raw_cpu_ms_per_request: rawSummary.cpu_ms_per_request,
    raw_same_io_cpu_ms_per_request: sameIo.cpu_ms_per_request,
    setup: {
      users: c.users,
      tasks_per_user: c.tasksPerUser,
      connections: c.connections,
      warmup_s: c.warmupS,
      duration_s: c.durationS,
      rounds: c.rounds,
      load_generator:
        'autocannon 9 (programmatic) in a separate Node process, cookie per request cycling through users',
    },
    per_target: { gateway: g, raw: rawSummary, raw_same_io: sameIo },
  };
}

// ---------------------------------------------------------------------------------------
// Part 2: writes (bench/writes.mts)

function writesPart() {
  const deps: WritesDeps = {
    config: CONFIG.writes,
    progress,
    startGateway: (stack) => startGateway(stack),
    startRawServer,
    registerUsers,
    measureLoad,
    onCleanup: (cleanup) => cleanups.push(cleanup),
  };
  return runWrites(deps);
}

// ---------------------------------------------------------------------------------------
// Part 3: pipeline

interface DrainResult {
  eps: number;
  eps_from_consumer_start: number;
  seconds_from_first_consumption: number;
  seconds_from_start: number;
  startup_s: number;
  points: number;
}

async function drain(
  name: 'worker' | 'telegraf',
  stack: BenchStack,
  queue: string,
  expected: number,
  start: () => Promise<Child>,
): Promise<DrainResult> {
  const watcher = await QueueWatcher.open(stack.rabbitmqUrl);
  try {
    const spawnedAt = nowMs();
    const consumer = await start();
    let firstConsumedAt: number | undefined;
    let points = 0;
    let lastInflux = 0;
    let lastReport = nowMs();
    const deadline = nowMs() + CONFIG.pipeline.drainTimeoutS * 1000;
    for (;;) {
      if (!consumer.running) throw new Error(`${name} exited while draining:\n${consumer.output}`);
      if (firstConsumedAt === undefined && (await watcher.ready(queue)) < expected) {
        firstConsumedAt = nowMs();
      }
      if (nowMs() - lastInflux >= 100) {
        lastInflux = nowMs();
        points = await influxScalar(
          stack.influxUrl,
          stack.influxDatabase,
          `SELECT count("${TaskEventFields.count}") FROM "${TASK_EVENTS_MEASUREMENT}" WHERE "${TaskEventTags.source}" = '${name}'`,
        );
        if (points >= expected) break;
      }
      if (nowMs() - lastReport > 5_000) {
        lastReport = nowMs();
        progress(`  ${name}: ${points}/${expected} points in InfluxDB`);
      }
      if (nowMs() > deadline) throw new Error(`${name} did not drain ${expected} events in time`);
      await sleep(firstConsumedAt === undefined ? 20 : 50);
    }
    const doneAt = nowMs();
    await consumer.stop();
    const first = firstConsumedAt ?? spawnedAt;
    const result = {
      eps: round(expected / ((doneAt - first) / 1000)),
      eps_from_consumer_start: round(expected / ((doneAt - spawnedAt) / 1000)),
      seconds_from_first_consumption: round((doneAt - first) / 1000, 2),
      seconds_from_start: round((doneAt - spawnedAt) / 1000, 2),
      startup_s: round((first - spawnedAt) / 1000, 2),
      points,
    };
    progress(
      `  ${name}: ${expected} events in ${result.seconds_from_first_consumption} s from first consumption ` +
        `(${result.eps} events/s; ${result.seconds_from_start} s from process start)`,
    );
    return result;
  } finally {
    await watcher.dispose();
  }
}

async function pipelinePart(telegrafBinary: string) {
  const c = CONFIG.pipeline;
  const stack = await createBenchStack('pipeline');
  cleanups.push(() => stack.cleanup());
  progress(
    `pipeline: isolated vhost ${stack.vhost}; declaring the topology (libs/messaging declareTopology)`,
  );
  await declareTopology(stack.rabbitmqUrl);
  progress(`pipeline: publishing ${c.events} events with both consumers stopped`);
  const publishStarted = nowMs();
  let lastShown = 0;
  const published = await publishBacklog(stack.rabbitmqUrl, c.events, c.users, (sent) => {
    if (sent - lastShown >= 10_000) {
      lastShown = sent;
      progress(`  published ${sent}`);
    }
  });
  const publishS = (nowMs() - publishStarted) / 1000;
  const watcher = await QueueWatcher.open(stack.rabbitmqUrl);
  const backlog = {
    worker: await watcher.ready(WORKER_QUEUE),
    telegraf: await watcher.ready(TELEGRAF_QUEUE),
  };
  await watcher.dispose();
  if (backlog.worker !== c.events || backlog.telegraf !== c.events) {
    throw new Error(`backlog is ${JSON.stringify(backlog)}, expected ${c.events} in each queue`);
  }
  progress(
    `pipeline: backlog ready (${c.events} in each queue, published in ${round(publishS)} s)`,
  );

  progress(`pipeline: Telegraf drains ${TELEGRAF_QUEUE} alone`);
  const telegraf = await drain('telegraf', stack, TELEGRAF_QUEUE, c.events, () =>
    Promise.resolve(startTelegraf(stack, telegrafBinary)),
  );
  progress(`pipeline: the analytics worker drains ${WORKER_QUEUE} alone`);
  const worker = await drain('worker', stack, WORKER_QUEUE, c.events, () => startAnalytics(stack));

  await sleep(1_000); // anything late (a redelivery) would land now
  progress('pipeline: verifying both sources in InfluxDB (every event id)');
  const verified: Record<'worker' | 'telegraf', SourceVerification> = {
    worker: await verifySource(stack.influxUrl, stack.influxDatabase, 'worker', published),
    telegraf: await verifySource(stack.influxUrl, stack.influxDatabase, 'telegraf', published),
  };
  const after = await QueueWatcher.open(stack.rabbitmqUrl);
  const leftover = {
    [WORKER_QUEUE]: await after.ready(WORKER_QUEUE),
    [TELEGRAF_QUEUE]: await after.ready(TELEGRAF_QUEUE),
    [ANALYTICS_EVENTS_DLQ]: await after.ready(ANALYTICS_EVENTS_DLQ),
    [TELEGRAF_EVENTS_DLQ]: await after.ready(TELEGRAF_EVENTS_DLQ),
  };
  await after.dispose();
  await stack.cleanup();
  return {
    events: c.events,
    worker_eps: worker.eps,
    telegraf_eps: telegraf.eps,
    ratio: round(worker.eps / telegraf.eps, 3),
    lost: verified.worker.lost + verified.telegraf.lost,
    duplicates: verified.worker.duplicates + verified.telegraf.duplicates,
    measured_from:
      'first consumption (queue ready count below the backlog) to the last point queryable in InfluxDB',
    worker_eps_from_process_start: worker.eps_from_consumer_start,
    telegraf_eps_from_process_start: telegraf.eps_from_consumer_start,
    worker,
    telegraf,
    verification: verified,
    queues_after: leftover,
    publish_eps: round(c.events / publishS),
    worker_settings: Object.fromEntries(
      Object.entries(INGEST_DEFAULTS).map(([key, fallback]) => [
        key,
        Number(process.env[key] ?? fallback),
      ]),
    ),
    order: 'telegraf first, then the worker, into the same InfluxDB database',
  };
}

// ---------------------------------------------------------------------------------------
// Part 3: end-to-end lag

async function e2ePhase(
  gatewayUrl: string,
  stack: BenchStack,
  users: BenchUser[],
  ratePerS: number,
  durationS: number,
) {
  const c = CONFIG.e2e;
  progress(
    `e2e: ${ratePerS} task creations/s for ${durationS} s through POST /api/tasks; polling InfluxDB every ${c.pollMs} ms`,
  );
  const job: E2eJob = {
    url: gatewayUrl,
    users: users.map(({ cookie, csrf }) => ({ cookie, csrf })),
    ratePerS,
    durationS,
    maxInflight: c.maxInflight,
    influxUrl: stack.influxUrl,
    influxDatabase: stack.influxDatabase,
    pollMs: c.pollMs,
    drainTimeoutS: c.drainTimeoutS,
  };
  const result = await runScript<E2eResult>('e2e-load', 'e2e-load.mts', job);
  progress(
    `  e2e: ${result.created} created (${round(result.achieved_rate_per_s)}/s), lag p50 ${round(result.lag_p50_ms)} ms, ` +
      `p99 ${round(result.lag_p99_ms)} ms, unseen ${result.unseen}`,
  );
  return {
    rate_per_s: ratePerS,
    duration_s: durationS,
    achieved_per_s: round(result.achieved_rate_per_s),
    p50_ms: round(result.lag_p50_ms),
    p99_ms: round(result.lag_p99_ms),
    unseen: result.unseen,
    created: result.created,
    failed: result.failed,
    skipped_inflight_limit: result.skipped_inflight_limit,
    lag_p90_ms: round(result.lag_p90_ms),
    lag_max_ms: round(result.lag_max_ms),
    create_http_p50_ms: round(result.http_p50_ms),
    create_http_p99_ms: round(result.http_p99_ms),
    poll_query_p50_ms: round(result.poll_query_p50_ms),
    status_codes: result.status_codes,
  };
}

async function e2ePart() {
  const c = CONFIG.e2e;
  const stack = await createBenchStack('e2e');
  cleanups.push(() => stack.cleanup());
  progress(`e2e: isolated stack ${stack.id}; starting analytics (worker), then the gateway`);
  const analytics = await startAnalytics(stack);
  const gateway = await startGateway(stack);
  const users = await registerUsers(gateway.url, c.users, 'e2e');
  const sustained = await e2ePhase(gateway.url, stack, users, c.ratePerS, c.durationS);
  const atTarget =
    c.ratePerS < c.targetRatePerS
      ? await e2ePhase(gateway.url, stack, users, c.targetRatePerS, c.targetDurationS)
      : undefined;
  await gateway.stop();
  await analytics.stop();
  await stack.cleanup();
  return {
    ...sustained,
    poll_interval_ms: c.pollMs,
    measured:
      'from the 201 response to the first InfluxDB query answer (every 50 ms) holding the worker point of the task',
    ...(atTarget ? { at_target_rate: atTarget } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// Output

function machine() {
  const cpu = cpus();
  const details = {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memory_gib: round(totalmem() / 2 ** 30, 1),
    free_memory_gib_at_start: round(freemem() / 2 ** 30, 1),
    os: `${type()} ${release()}`,
    node: process.version,
  };
  return {
    summary: `${details.cpu}, ${details.cores} cores, ${details.memory_gib} GiB, ${details.os}, Node ${details.node}`,
    details,
  };
}

function gitState(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT })
      .toString()
      .trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT }).toString().trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: true };
  }
}

type Results = Record<string, unknown> & {
  http?: Awaited<ReturnType<typeof httpPart>>;
  writes?: Awaited<ReturnType<typeof writesPart>>;
  pipeline?: Awaited<ReturnType<typeof pipelinePart>>;
  e2e?: Awaited<ReturnType<typeof e2ePart>>;
};

function table(results: Results): string {
  const lines: string[] = [];
  const row = (cells: (string | number)[], widths: number[]) =>
    cells
      .map((cell, i) =>
        i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]),
      )
      .join('  ');
  const h = results.http;
  if (h) {
    const w = [26, 9, 8, 8, 8, 11];
    lines.push(
      `HTTP GET /api/tasks: ${h.setup.users} users x ${h.setup.tasks_per_user} tasks, ${h.setup.connections} connections, ` +
        `${h.setup.rounds} x ${h.setup.duration_s} s per target after ${h.setup.warmup_s} s warm-up`,
    );
    lines.push(row(['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'CPU ms/req'], w));
    const t = h.per_target;
    lines.push(
      row(
        [
          'gateway (Nest)',
          t.gateway.rps,
          t.gateway.p50_ms,
          t.gateway.p99_ms,
          t.gateway.errors,
          t.gateway.cpu_ms_per_request,
        ],
        w,
      ),
    );
    lines.push(
      row(
        [
          'raw (session + MongoDB)',
          t.raw.rps,
          t.raw.p50_ms,
          t.raw.p99_ms,
          t.raw.errors,
          t.raw.cpu_ms_per_request,
        ],
        w,
      ),
    );
    lines.push(
      row(
        [
          'raw same I/O (+ cache)',
          t.raw_same_io.rps,
          t.raw_same_io.p50_ms,
          t.raw_same_io.p99_ms,
          t.raw_same_io.errors,
          t.raw_same_io.cpu_ms_per_request,
        ],
        w,
      ),
    );
    lines.push(
      `ratio gateway/raw ${h.ratio} (p99 x${h.p99_ratio}); gateway/raw-same-I/O ${h.ratio_vs_same_io} (p99 x${h.p99_ratio_vs_same_io})`,
    );
    lines.push('');
  }
  const wr = results.writes;
  if (wr) lines.push(...writesTable(wr), '');
  const p = results.pipeline;
  if (p) {
    const w = [26, 11, 12, 10, 6, 11];
    lines.push(`Pipeline: ${p.events} events backlog, each consumer drains alone into InfluxDB`);
    lines.push(row(['consumer', 'events/s', 'drain s', 'startup s', 'lost', 'duplicates'], w));
    lines.push(
      row(
        [
          'analytics worker',
          p.worker_eps,
          p.worker.seconds_from_first_consumption,
          p.worker.startup_s,
          p.verification.worker.lost,
          p.verification.worker.duplicates,
        ],
        w,
      ),
    );
    lines.push(
      row(
        [
          'Telegraf',
          p.telegraf_eps,
          p.telegraf.seconds_from_first_consumption,
          p.telegraf.startup_s,
          p.verification.telegraf.lost,
          p.verification.telegraf.duplicates,
        ],
        w,
      ),
    );
    lines.push(`ratio worker/Telegraf ${p.ratio}`);
    lines.push('');
  }
  const e = results.e2e;
  if (e) {
    lines.push(
      `End-to-end lag (201 -> point queryable, worker path): target ${e.rate_per_s}/s for ${e.duration_s} s, ` +
        `achieved ${e.achieved_per_s}/s (${e.created} created, ${e.failed} failed, ${e.unseen} unseen)`,
    );
    lines.push(
      `lag p50 ${e.p50_ms} ms, p90 ${e.lag_p90_ms} ms, p99 ${e.p99_ms} ms, max ${e.lag_max_ms} ms; POST p50 ${e.create_http_p50_ms} ms, p99 ${e.create_http_p99_ms} ms`,
    );
    const t = e.at_target_rate;
    if (t) {
      lines.push(
        `at ${t.rate_per_s}/s for ${t.duration_s} s: achieved ${t.achieved_per_s}/s, lag p50 ${t.p50_ms} ms, ` +
          `p99 ${t.p99_ms} ms, max ${t.lag_max_ms} ms, ${t.unseen} unseen after the ${CONFIG.e2e.drainTimeoutS} s drain`,
      );
    }
  }
  return lines.join('\n');
}

function markdown(results: Results, text: string): string {
  return [
    '# Taskit benchmark results',
    '',
    `- when: ${String(results.started_at)} (${String(results.run_seconds)} s)`,
    `- machine: ${String(results.machine)}`,
    `- code: ${JSON.stringify(results.git)}`,
    '',
    '```',
    text,
    '```',
    '',
    'Full figures: `.bench/results.json`. How it is measured: docs/performance.md.',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------
// Main

const cleanups: (() => Promise<void>)[] = [];
let startedServices: string[] = [];

async function cleanUp(): Promise<void> {
  await stopAllChildren();
  for (const cleanup of cleanups.reverse()) {
    await cleanup().catch((error: Error) => progress(`cleanup: ${error.message}`));
  }
  await stopBackingServices(startedServices);
}

async function main(): Promise<void> {
  const started = nowMs();
  const startedAt = new Date().toISOString();
  mkdirSync(BENCH_DIR, { recursive: true });
  if (cpuProf) mkdirSync(PROFILE_DIR, { recursive: true });
  progress(`parts: ${[...parts].join(', ')}${quick ? ' (quick)' : ''}`);
  startedServices = await ensureBackingServices();
  const telegrafBinary = await ensureGoBinary(TELEGRAF);
  if (!flag('--skip-build')) await buildApps();

  const m = machine();
  const results: Results = {
    machine: m.summary,
    machine_details: m.details,
    started_at: startedAt,
    git: gitState(),
  };
  if (parts.has('http')) results.http = await httpPart();
  if (parts.has('writes')) results.writes = await writesPart();
  if (parts.has('pipeline')) results.pipeline = await pipelinePart(telegrafBinary);
  if (parts.has('e2e')) results.e2e = await e2ePart();
  results.run_seconds = round((nowMs() - started) / 1000);
  results.goals = {
    'http ratio >= 0.85': results.http ? results.http.ratio >= 0.85 : null,
    'http p99 <= 1.3x raw': results.http ? results.http.p99_ratio <= 1.3 : null,
    'writes ratio >= 0.8, 0 errors': results.writes
      ? results.writes.ratio >= 0.8 && results.writes.errors === 0
      : null,
    'pipeline ratio >= 1.0, 0 lost, 0 duplicates': results.pipeline
      ? results.pipeline.ratio >= 1 &&
        results.pipeline.lost === 0 &&
        results.pipeline.duplicates === 0
      : null,
    'e2e p99 < 1000 ms at 200/s': results.e2e
      ? (results.e2e.at_target_rate ?? results.e2e).p99_ms < 1000 &&
        (results.e2e.at_target_rate ?? results.e2e).achieved_per_s >= 190 &&
        (results.e2e.at_target_rate ?? results.e2e).unseen === 0
      : null,
  };

  const text = table(results);
  writeFileSync(join(BENCH_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(BENCH_DIR, 'results.md'), markdown(results, text));
  process.stdout.write(
    `\n${text}\n\nwritten: .bench/results.json, .bench/results.md (${String(results.run_seconds)} s)\n`,
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping what the benchmark started`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await cleanUp();
}
