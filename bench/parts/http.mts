/**
 * The `http` part (docs/api.md, Benchmark results): GET /api/tasks on the gateway against the raw
 * node:http handler doing the same I/O (raw-server.mts, `raw_*` and `ratio`) and against its
 * route without the cache (`raw_without_cache_*`, an earlier baseline kept for comparison),
 * alternating rounds on one isolated stack; then the gateway's uncached reads (`uncached_*`).
 */
import type { IsolatedStack } from '../../libs/testing/src/isolated-stack.ts';
import type { RunningProcess } from '../../libs/testing/src/running-process.ts';
import type { LoadJob, LoadResult } from '../load.mts';
import { measureLoad, summarize, type Measured } from '../lib/measure.mts';
import { runScript } from '../lib/processes.mts';
import { createBenchStack, startGateway, startRawServer } from '../lib/services.mts';
import { CACHE_TTL_S, CONFIG, progress } from '../lib/settings.mts';
import { nowMs, round, sleep } from '../lib/stats.mts';
import { getJson, registerUsers, seedTasks, type BenchUser } from '../lib/users.mts';
import type { UncachedJob } from '../uncached-load.mts';

const cached = { TASK_LIST_CACHE_TTL_SECONDS: String(CACHE_TTL_S) };

/** The gateway's Redis key of a user's task-list version (apps/gateway/src/tasks/task-list.cache.ts). */
function versionKey(stack: IsolatedStack, userId: string): string {
  return `${stack.redisPrefix}tasks-version:${userId}`;
}

/** Waits until the raw server has no request in progress (queued FerretDB scans finish). */
async function rawIdle(raw: RunningProcess): Promise<number> {
  const started = nowMs();
  for (;;) {
    const body = (await (await fetch(`${raw.url}/health`)).json()) as { inflight: number };
    if (body.inflight === 0 || nowMs() - started > 120_000) return (nowMs() - started) / 1000;
    await sleep(200);
  }
}

/**
 * Fills the task-list caches before the read runs, each through its own route (each miss is
 * one FerretDB query): the gateway's API, then the raw same-I/O route, which stores its pages
 * in the gateway's entry format under keys of its own.
 */
async function primeCaches(gatewayUrl: string, rawUrl: string, users: BenchUser[]) {
  for (const url of [`${gatewayUrl}/api/tasks`, `${rawUrl}/same-io/api/tasks`]) {
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < users.length) await getJson(url, users[next++].cookie);
      }),
    );
  }
}

/** The three handlers must answer the same JSON before their speed means anything. */
async function checkSameAnswers(gatewayUrl: string, rawUrl: string, user: BenchUser) {
  const viaGateway = JSON.stringify(await getJson(`${gatewayUrl}/api/tasks`, user.cookie));
  const viaRaw = JSON.stringify(await getJson(`${rawUrl}/api/tasks`, user.cookie));
  const viaSameIo = JSON.stringify(await getJson(`${rawUrl}/same-io/api/tasks`, user.cookie));
  if (viaGateway !== viaRaw) throw new Error('the raw server answers differently from the gateway');
  if (viaGateway !== viaSameIo) {
    throw new Error('the raw same-io route answers differently from the gateway');
  }
}

/**
 * GET /api/tasks on a gateway whose every read misses the task-list cache: before each GET
 * the load process bumps the user's version, as a write does. The gateway's TTL is the
 * shortest allowed (1 s) so the entries each miss stores do not pile up in the shared Redis.
 */
async function uncachedRuns(
  stack: IsolatedStack,
  users: BenchUser[],
): Promise<{ light: Measured; saturated: Measured }> {
  const c = CONFIG.http;
  const gateway = await startGateway(stack, { TASK_LIST_CACHE_TTL_SECONDS: '1' });
  const job = (connections: number): UncachedJob => ({
    url: gateway.url,
    path: '/api/tasks',
    users: users.map((user) => ({ cookie: user.cookie, versionKey: versionKey(stack, user.id) })),
    redisUrl: stack.redisUrl,
    connections,
    durationS: c.durationS,
    expectTasks: c.tasksPerUser,
  });
  await runScript<LoadResult>('warmup-uncached', 'uncached-load.mts', {
    ...job(c.connections),
    durationS: c.warmupS,
  });
  const run = (name: string, connections: number) => {
    progress(`HTTP: uncached reads, ${connections} connections, ${c.durationS} s`);
    return measureLoad(name, job(connections), gateway.child.pid, 'uncached-load.mts');
  };
  // What one reader waits for a list from MongoDB, then what the server sustains: at 32
  // connections the latency is mostly the queue in front of a saturated FerretDB.
  const light = await run('uncached-light', c.uncachedLightConnections);
  const saturated = await run('uncached', c.connections);
  await gateway.stop('SIGTERM', 15_000);
  return { light, saturated };
}

export async function httpPart() {
  const c = CONFIG.http;
  const stack = await createBenchStack('http');
  progress(`HTTP: isolated stack ${stack.id}; starting the gateway (NODE_ENV=production)`);
  let gateway = await startGateway(stack, cached);
  const raw = await startRawServer(stack);
  progress(`HTTP: registering ${c.users} users, seeding ${c.users * c.tasksPerUser} tasks`);
  const users = await registerUsers(gateway.url, c.users, 'http');
  await seedTasks(stack.mongodbUri, users, c.tasksPerUser);
  progress('HTTP: filling the task-list caches (one FerretDB scan per user through the gateway)');
  const primeStarted = nowMs();
  await primeCaches(gateway.url, raw.url, users);
  progress(`HTTP: caches filled in ${round((nowMs() - primeStarted) / 1000)} s`);
  await checkSameAnswers(gateway.url, raw.url, users[1]);

  const loadUsers = users.map(({ cookie, csrf }) => ({ cookie, csrf }));
  const targets = {
    gateway: { url: () => gateway.url, path: '/api/tasks', pid: () => gateway.child.pid },
    raw: { url: () => raw.url, path: '/same-io/api/tasks', pid: () => raw.child.pid },
    raw_without_cache: { url: () => raw.url, path: '/api/tasks', pid: () => raw.child.pid },
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
  const results = new Map<string, Measured[]>();
  const warmedUp = new Set<Target>();
  const measure = async (name: Target) => {
    if (name === 'gateway' && !gateway.isRunning) {
      progress('HTTP: starting the gateway again');
      gateway = await startGateway(stack, cached);
      warmedUp.delete('gateway');
    }
    if (!warmedUp.has(name)) {
      progress(`HTTP: warm-up ${name} (${c.warmupS} s)`);
      await runScript<LoadResult>(`warmup-${name}`, 'load.mts', readJob(name, c.warmupS));
      if (name === 'raw_without_cache') await rawIdle(raw);
      warmedUp.add(name);
    }
    const result = await measureLoad(name, readJob(name, c.durationS), targets[name].pid());
    results.set(name, [...(results.get(name) ?? []), result]);
    if (name === 'raw_without_cache') {
      const waited = await rawIdle(raw);
      progress(`  raw_without_cache: ${round(waited)} s until its queued MongoDB queries finished`);
    }
  };
  const order: Target[] = ['gateway', 'raw', 'raw_without_cache'];
  for (let r = 0; r < c.rounds; r++) {
    progress(
      `HTTP: round ${r + 1}/${c.rounds}, GET /api/tasks, ${c.connections} connections, ${c.durationS} s each`,
    );
    // Alternate the order, so that drift of the shared servers hits every target alike.
    for (const name of r % 2 === 0 ? order : [...order].reverse()) await measure(name);
  }
  await gateway.stop('SIGTERM', 15_000);
  await raw.stop('SIGTERM', 15_000);
  const uncachedResults = await uncachedRuns(stack, users);
  const uncached = summarize([uncachedResults.light]);
  const uncachedSaturated = summarize([uncachedResults.saturated]);
  await stack.cleanup();

  const g = summarize(results.get('gateway') ?? []);
  const rawSummary = summarize(results.get('raw') ?? []);
  const withoutCache = summarize(results.get('raw_without_cache') ?? []);
  return {
    gateway_rps: g.rps,
    raw_rps: rawSummary.rps,
    ratio: round(g.rps / rawSummary.rps, 3),
    gateway_p99_ms: g.p99_ms,
    raw_p99_ms: rawSummary.p99_ms,
    /** The gateway's failed requests; the baselines' are listed apart. */
    errors: g.errors,
    raw_errors: rawSummary.errors,
    gateway_p50_ms: g.p50_ms,
    raw_p50_ms: rawSummary.p50_ms,
    p99_ratio: round(g.p99_ms / rawSummary.p99_ms, 3),
    gateway_cpu_ms_per_request: g.cpu_ms_per_request,
    raw_cpu_ms_per_request: rawSummary.cpu_ms_per_request,
    raw_without_cache_rps: withoutCache.rps,
    raw_without_cache_p50_ms: withoutCache.p50_ms,
    raw_without_cache_p99_ms: withoutCache.p99_ms,
    raw_without_cache_errors: withoutCache.errors,
    raw_without_cache_cpu_ms_per_request: withoutCache.cpu_ms_per_request,
    ratio_vs_raw_without_cache: round(g.rps / withoutCache.rps, 3),
    p99_ratio_vs_raw_without_cache: round(g.p99_ms / withoutCache.p99_ms, 3),
    uncached_rps: uncached.rps,
    uncached_p50_ms: uncached.p50_ms,
    uncached_p99_ms: uncached.p99_ms,
    uncached_errors: uncached.errors,
    uncached_connections: c.uncachedLightConnections,
    uncached_saturated_rps: uncachedSaturated.rps,
    uncached_saturated_p50_ms: uncachedSaturated.p50_ms,
    uncached_saturated_p99_ms: uncachedSaturated.p99_ms,
    uncached_saturated_errors: uncachedSaturated.errors,
    setup: {
      users: c.users,
      tasks_per_user: c.tasksPerUser,
      connections: c.connections,
      warmup_s: c.warmupS,
      duration_s: c.durationS,
      rounds: c.rounds,
      load_generator:
        'autocannon 9 (programmatic) in a separate Node process, cookie per request cycling through users',
      uncached:
        'gateway only, one run at uncached_connections (uncached_*) and one at connections ' +
        '(uncached_saturated_*): each connection loops over its own users and bumps the ' +
        "user's task-list version in Redis before every GET (only the GET is timed), so every read misses the cache",
    },
    per_target: {
      gateway: g,
      raw: rawSummary,
      raw_without_cache: withoutCache,
      gateway_uncached: uncached,
      gateway_uncached_saturated: uncachedSaturated,
    },
  };
}
