/**
 * The `neighbour` part (docs/limits.md): normal users at a fixed rate, each behind its own
 * client address, measured alone and then while one account works at every limit at once
 * (its largest list read in a loop, bulk toggles, summaries of every range, oversize bodies),
 * on one gateway with the production rate limits, the analytics service and Telegraf. Then
 * the pipeline is checked: every event the successful requests made is in InfluxDB once per
 * source.
 */
import type { IsolatedStack } from '../../libs/testing/src/isolated-stack.ts';
import { influxQuery } from '../../libs/testing/src/influx.ts';
import {
  ANALYTICS_EVENTS_QUEUE,
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  TELEGRAF_EVENTS_QUEUE,
  type EventSource,
} from '../../libs/contracts/src/index.ts';
import { API_RATE_LIMIT_DEFAULTS } from '../../libs/config/src/setting-defaults.ts';
import { QueueWatcher } from '../lib/pipeline.mts';
import { runScript } from '../lib/processes.mts';
import { createBenchStack, startAnalytics, startGateway, startTelegraf } from '../lib/services.mts';
import { CONFIG, progress } from '../lib/settings.mts';
import { round, sleep } from '../lib/stats.mts';
import { registerUsers, seedTasks } from '../lib/users.mts';
import type { NeighbourJob, NeighbourResult, NeighbourUser } from './neighbour-load.mts';

/** Points and distinct event ids one source wrote into the run's database. */
async function sourceCounts(stack: IsolatedStack, source: EventSource) {
  const series = await influxQuery(
    stack.influxUrl,
    `SELECT "${TaskEventFields.eventId}" FROM "${TASK_EVENTS_MEASUREMENT}" WHERE "${TaskEventTags.source}" = '${source}'`,
    stack.influxDatabase,
    120_000,
  );
  const ids = new Set<string>();
  let points = 0;
  for (const s of series) {
    const column = s.columns.indexOf(TaskEventFields.eventId);
    for (const row of s.values) {
      points += 1;
      ids.add(String(row[column]));
    }
  }
  return { points, distinct: ids.size };
}

/** Waits until both queues are empty and both sources hold `expected` events (or times out). */
async function drained(stack: IsolatedStack, expected: number, timeoutS: number) {
  const queues = await QueueWatcher.open(stack.rabbitmqUrl);
  const deadline = Date.now() + timeoutS * 1000;
  try {
    for (;;) {
      const [worker, telegraf] = await Promise.all([
        sourceCounts(stack, 'worker'),
        sourceCounts(stack, 'telegraf'),
      ]);
      const backlog =
        (await queues.ready(ANALYTICS_EVENTS_QUEUE)) + (await queues.ready(TELEGRAF_EVENTS_QUEUE));
      const done = backlog === 0 && worker.distinct >= expected && telegraf.distinct >= expected;
      if (done || Date.now() > deadline) return { worker, telegraf };
      await sleep(1_000);
    }
  } finally {
    await queues.dispose();
  }
}

function load(name: string, job: NeighbourJob): Promise<NeighbourResult> {
  return runScript<NeighbourResult>(`neighbour-${name}`, 'parts/neighbour-load.mts', job);
}

function describe(name: string, r: NeighbourResult): void {
  progress(
    `  ${name}: ${r.requests} requests, p50 ${round(r.p50_ms)} ms, p99 ${round(r.p99_ms)} ms, ` +
      `non-2xx ${r.errors}, status ${JSON.stringify(r.status_codes)}`,
  );
}

export async function neighbourPart(telegrafBinary: string) {
  const c = CONFIG.neighbour;
  const stack = await createBenchStack('neighbour');
  progress(
    `neighbour: isolated stack ${stack.id}; analytics, Telegraf, one gateway (production limits)`,
  );
  const analytics = await startAnalytics(stack);
  const telegraf = startTelegraf(stack, telegrafBinary);
  const gateway = await startGateway(stack, {
    // Every bench client has its own address in X-Forwarded-For, as behind the load balancer.
    TRUST_PROXY: '1',
    ...Object.fromEntries(
      Object.entries(API_RATE_LIMIT_DEFAULTS).map(([key, value]) => [key, String(value)]),
    ),
  });
  const registered = await registerUsers(gateway.url, c.users + 1, 'neighbour');
  const users: NeighbourUser[] = registered.map((u, i) => ({
    cookie: u.cookie,
    csrf: u.csrf,
    address: `10.${Math.floor(i / 250)}.${i % 250}.${1 + (i % 200)}`,
  }));
  const [abuserAccount, ...normal] = users;
  await seedTasks(stack.mongodbUri, [registered[0]], c.abuserTasks);

  /** Time for a load process to boot and make its first request before the phase starts. */
  const startsIn = () => Date.now() + 3_000;
  const normalJob = (durationS: number, startAt: number): NeighbourJob => ({
    mode: 'normal',
    url: gateway.url,
    users: normal,
    ratePerS: c.ratePerUserPerS,
    durationS,
    startAt,
  });
  progress(
    `neighbour: ${c.users} normal users at ${c.ratePerUserPerS} req/s each (read, create, complete, delete), warm-up ${c.warmupS} s`,
  );
  const warmup = await load('warmup', normalJob(c.warmupS, startsIn()));
  progress(`neighbour: normal users alone, ${c.durationS} s`);
  const alone = await load('alone', normalJob(c.durationS, startsIn()));
  describe('alone', alone);
  progress(
    `neighbour: again, with one account (${c.abuserTasks} tasks) at every limit, ${c.abuserRatePerLoopPerS} req/s in each loop (${c.abuserLoops.join(', ')})`,
  );
  const startAt = startsIn();
  const [withAbuser, abuser] = await Promise.all([
    load('with-abuser', normalJob(c.durationS, startAt)),
    load('abuser', {
      mode: 'abuser',
      url: gateway.url,
      users: [abuserAccount],
      ratePerS: c.abuserRatePerLoopPerS,
      durationS: c.durationS,
      startAt,
      loops: c.abuserLoops,
    }),
  ]);
  describe('with abuser', withAbuser);
  describe('abuser', abuser);

  const expected = warmup.events + alone.events + withAbuser.events + abuser.events;
  progress(`neighbour: waiting for ${expected} events in InfluxDB from both sources`);
  const { worker, telegraf: fromTelegraf } = await drained(stack, expected, c.drainTimeoutS);
  await gateway.stop('SIGTERM', 15_000);
  await telegraf.stop('SIGTERM', 15_000);
  await analytics.stop('SIGTERM', 15_000);
  await stack.cleanup();

  const lostOf = (s: { distinct: number }) => Math.max(0, expected - s.distinct);
  const duplicatesOf = (s: { points: number; distinct: number }) => s.points - s.distinct;
  return {
    alone_p99_ms: round(alone.p99_ms),
    with_abuser_p99_ms: round(withAbuser.p99_ms),
    p99_ratio: round(withAbuser.p99_ms / alone.p99_ms, 2),
    errors: alone.errors + withAbuser.errors,
    abuser_429: abuser.status_codes['429'] ?? 0,
    lost: lostOf(worker) + lostOf(fromTelegraf),
    duplicates: duplicatesOf(worker) + duplicatesOf(fromTelegraf),
    alone_p50_ms: round(alone.p50_ms),
    with_abuser_p50_ms: round(withAbuser.p50_ms),
    normal_requests: { alone: alone.requests, with_abuser: withAbuser.requests },
    abuser_status_codes: abuser.status_codes,
    abuser_requests: abuser.requests,
    events: {
      expected,
      worker: { ...worker, lost: lostOf(worker), duplicates: duplicatesOf(worker) },
      telegraf: {
        ...fromTelegraf,
        lost: lostOf(fromTelegraf),
        duplicates: duplicatesOf(fromTelegraf),
      },
    },
    setup: {
      normal_users: c.users,
      rate_per_user_per_s: c.ratePerUserPerS,
      duration_s: c.durationS,
      warmup_s: c.warmupS,
      abuser_tasks: c.abuserTasks,
      abuser_rate_per_loop_per_s: c.abuserRatePerLoopPerS,
      abuser_loops: c.abuserLoops,
      rate_limits: API_RATE_LIMIT_DEFAULTS,
    },
  };
}

export function neighbourTable(n: Awaited<ReturnType<typeof neighbourPart>>): string[] {
  return [
    `Noisy neighbour: ${n.setup.normal_users} users at ${n.setup.rate_per_user_per_s} req/s each, ${n.setup.duration_s} s alone, then with one account at every limit`,
    `normal users p99 ${n.alone_p99_ms} ms alone, ${n.with_abuser_p99_ms} ms with the abuser (x${n.p99_ratio}), errors ${n.errors}; ` +
      `abuser 429s ${n.abuser_429} of ${n.abuser_requests}; events lost ${n.lost}, duplicates ${n.duplicates}`,
  ];
}
