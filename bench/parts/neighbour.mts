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
import { readdirSync, readFileSync } from 'node:fs';
import type { RunningProcess } from '../../libs/testing/src/running-process.ts';
import {
  cpuMs,
  createBenchStack,
  processCpu,
  startAnalytics,
  startGateway,
  startTelegraf,
} from '../lib/services.mts';
import { CONFIG, progress } from '../lib/settings.mts';
import { percentile, round, sleep } from '../lib/stats.mts';
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

/** The machine's busy and total CPU time so far, in ms (Linux /proc/stat, all cores). */
function machineCpuMs(): { busy: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const values = ticks.map(Number);
  const idle = values[3] + values[4];
  const total = values.reduce((sum, v) => sum + v, 0);
  return { busy: ((total - idle) * 1000) / 100, total: (total * 1000) / 100 };
}

/** CPU ms so far of every process on the machine, by pid with its command name (Linux /proc). */
function cpuByProcess(): Map<number, { command: string; ms: number }> {
  const byPid = new Map<number, { command: string; ms: number }>();
  for (const entry of readdirSync('/proc')) {
    // A process that ended meanwhile has nothing to add.
    const found = /^\d+$/.test(entry) ? processCpu(Number(entry)) : undefined;
    if (found) byPid.set(Number(entry), found);
  }
  return byPid;
}

/**
 * CPU ms each command name used between two snapshots, busiest first. Differences are taken per
 * pid, because a kernel worker's name changes with its current work ("kworker/u8:0-writeback").
 */
function busiestCommands(
  before: ReturnType<typeof cpuByProcess>,
  after: ReturnType<typeof cpuByProcess>,
): Record<string, number> {
  const byCommand = new Map<string, number>();
  for (const [pid, { command, ms }] of after) {
    const name = command.startsWith('kworker/') ? 'kworker' : command;
    byCommand.set(name, (byCommand.get(name) ?? 0) + ms - (before.get(pid)?.ms ?? 0));
  }
  return Object.fromEntries(
    [...byCommand]
      .map(([command, ms]) => [command, round(ms)] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8),
  );
}

/**
 * Runs a phase whose load starts at `startAt` and reports the CPU it cost from then on: each
 * service's ms, and the share of the machine's cores that were busy (the load processes too).
 */
async function withCpu<T>(
  services: Record<string, RunningProcess>,
  startAt: number,
  phase: () => Promise<T>,
) {
  const running = phase();
  await sleep(Math.max(0, startAt - Date.now()));
  const serviceMs = () =>
    Object.fromEntries(Object.entries(services).map(([n, p]) => [`${n}_ms`, cpuMs(p.child.pid)]));
  const [before, machineBefore, processesBefore] = [serviceMs(), machineCpuMs(), cpuByProcess()];
  // The phase's first second on its own: where a burst at the start went (docs/limits.md).
  const firstSecond = sleep(1_000).then(() => ({
    services: serviceMs(),
    machine: machineCpuMs(),
    processes: cpuByProcess(),
  }));
  const result = await running;
  const [after, machineAfter, processesAfter] = [serviceMs(), machineCpuMs(), cpuByProcess()];
  const first = await firstSecond;
  const servicesSince = (to: typeof before): Record<string, number> =>
    Object.fromEntries(Object.keys(before).map((name) => [name, round(to[name] - before[name])]));
  const cpu = servicesSince(after);
  const busyShare = (from: typeof machineBefore, to: typeof machineBefore) =>
    round((to.busy - from.busy) / (to.total - from.total), 2);
  cpu.machine_busy_share = busyShare(machineBefore, machineAfter);
  return {
    result,
    cpu: {
      ...cpu,
      busiest_ms: busiestCommands(processesBefore, processesAfter),
      first_second: {
        ...servicesSince(first.services),
        machine_busy_share: busyShare(machineBefore, first.machine),
        busiest_ms: busiestCommands(processesBefore, first.processes),
      },
    },
  };
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
  // One abuser account per round, so that each round's abuser starts with its budgets whole,
  // and one that warms the abuser's request kinds up.
  const abusers = c.rounds + 1;
  const registered = await registerUsers(gateway.url, c.users + abusers, 'neighbour');
  const users: NeighbourUser[] = registered.map((u, i) => ({
    cookie: u.cookie,
    csrf: u.csrf,
    address: `10.${Math.floor(i / 250)}.${i % 250}.${1 + (i % 200)}`,
  }));
  const [warmupAbuser, ...abuserAccounts] = users.slice(0, abusers);
  const normal = users.slice(abusers);
  await seedTasks(stack.mongodbUri, registered.slice(0, abusers), c.abuserTasks);

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
  const abuserJob = (
    account: NeighbourUser,
    ratePerS: number,
    durationS: number,
    startAt: number,
  ): NeighbourJob => ({
    mode: 'abuser',
    url: gateway.url,
    users: [account],
    ratePerS,
    durationS,
    startAt,
    loops: c.abuserLoops,
  });
  // Every request kind of both loads runs during the warm-up, the abuser's at a few a second:
  // a pod's first summary or bulk change costs code that has never run (compiled on first
  // use, in the gateway and the analytics service), which a measured phase must not include.
  const warmupAt = startsIn();
  const warmups = await Promise.all([
    load('warmup', normalJob(c.warmupS, warmupAt)),
    load('warmup-abuser', abuserJob(warmupAbuser, 2, c.warmupS, warmupAt)),
  ]);
  let expected = warmups[0].events + warmups[1].events;
  /** Each phase starts with the pipeline idle: every earlier event in InfluxDB from both sources. */
  const settle = async () => {
    await drained(stack, expected, c.drainTimeoutS);
  };
  const services = { gateway, analytics, telegraf };
  type PhaseCpu = Awaited<ReturnType<typeof withCpu>>['cpu'];
  const rounds: {
    alone: NeighbourResult;
    normalWith: NeighbourResult;
    abuser: NeighbourResult;
    cpu: { alone: PhaseCpu; with_abuser: PhaseCpu };
  }[] = [];
  for (let n = 1; n <= c.rounds; n++) {
    await settle();
    progress(`neighbour: round ${n} of ${c.rounds}: normal users alone, ${c.durationS} s`);
    const aloneAt = startsIn();
    const alone = await withCpu(services, aloneAt, () =>
      load('alone', normalJob(c.durationS, aloneAt)),
    );
    describe('alone', alone.result);
    expected += alone.result.events;
    await settle();
    progress(
      `neighbour: round ${n}: again, with one account (${c.abuserTasks} tasks) at every limit, ${c.abuserRatePerLoopPerS} req/s in each loop (${c.abuserLoops.join(', ')})`,
    );
    const startAt = startsIn();
    const withAbuser = await withCpu(services, startAt, () =>
      Promise.all([
        load('with-abuser', normalJob(c.durationS, startAt)),
        load(
          'abuser',
          abuserJob(abuserAccounts[n - 1], c.abuserRatePerLoopPerS, c.durationS, startAt),
        ),
      ]),
    );
    const [normalWith, abuser] = withAbuser.result;
    describe('with abuser', normalWith);
    describe('abuser', abuser);
    expected += normalWith.events + abuser.events;
    rounds.push({
      alone: alone.result,
      normalWith,
      abuser,
      cpu: { alone: alone.cpu, with_abuser: withAbuser.cpu },
    });
  }

  progress(`neighbour: waiting for ${expected} events in InfluxDB from both sources`);
  const { worker, telegraf: fromTelegraf } = await drained(stack, expected, c.drainTimeoutS);
  await gateway.stop('SIGTERM', 15_000);
  await telegraf.stop('SIGTERM', 15_000);
  await analytics.stop('SIGTERM', 15_000);
  await stack.cleanup();

  // The rounds' requests pooled: the p99 of 800 requests instead of two p99s of 400.
  const pooled = (pick: (r: (typeof rounds)[number]) => NeighbourResult) =>
    rounds.flatMap((r) => pick(r).latencies_ms);
  const aloneLatencies = pooled((r) => r.alone);
  const withLatencies = pooled((r) => r.normalWith);
  const sum = (pick: (r: (typeof rounds)[number]) => number) =>
    rounds.reduce((total, r) => total + pick(r), 0);
  const abuserStatusCodes: Record<string, number> = {};
  for (const r of rounds) {
    for (const [code, n] of Object.entries(r.abuser.status_codes)) {
      abuserStatusCodes[code] = (abuserStatusCodes[code] ?? 0) + n;
    }
  }
  const lostOf = (s: { distinct: number }) => Math.max(0, expected - s.distinct);
  const duplicatesOf = (s: { points: number; distinct: number }) => s.points - s.distinct;
  return {
    alone_p99_ms: round(percentile(aloneLatencies, 99)),
    with_abuser_p99_ms: round(percentile(withLatencies, 99)),
    p99_ratio: round(percentile(withLatencies, 99) / percentile(aloneLatencies, 99), 2),
    errors: sum((r) => r.alone.errors + r.normalWith.errors),
    abuser_429: abuserStatusCodes['429'] ?? 0,
    lost: lostOf(worker) + lostOf(fromTelegraf),
    duplicates: duplicatesOf(worker) + duplicatesOf(fromTelegraf),
    alone_p50_ms: round(percentile(aloneLatencies, 50)),
    with_abuser_p50_ms: round(percentile(withLatencies, 50)),
    normal_requests: { alone: aloneLatencies.length, with_abuser: withLatencies.length },
    abuser_status_codes: abuserStatusCodes,
    abuser_requests: sum((r) => r.abuser.requests),
    /**
     * Each round on its own (the spread), with where its p99 came from: the slowest normal
     * requests of each phase, the times the abuser's changes got through, and the CPU used.
     */
    rounds: rounds.map((r) => ({
      alone_p99_ms: round(r.alone.p99_ms),
      with_abuser_p99_ms: round(r.normalWith.p99_ms),
      p99_ratio: round(r.normalWith.p99_ms / r.alone.p99_ms, 2),
      abuser_status_codes: r.abuser.status_codes,
      abuser_changes_at_ms: r.abuser.changes_at_ms,
      load_cpu_ms: {
        alone_normal: r.alone.cpu_ms,
        with_abuser_normal: r.normalWith.cpu_ms,
        abuser: r.abuser.cpu_ms,
        abuser_first_second: r.abuser.first_second_cpu_ms,
      },
      slowest: { alone: r.alone.slowest, with_abuser: r.normalWith.slowest },
      cpu: r.cpu,
    })),
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
      rounds: c.rounds,
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
    `Noisy neighbour: ${n.setup.normal_users} users at ${n.setup.rate_per_user_per_s} req/s each, ${n.setup.rounds} rounds of ${n.setup.duration_s} s alone, then with one account at every limit`,
    `normal users p99 ${n.alone_p99_ms} ms alone, ${n.with_abuser_p99_ms} ms with the abuser (x${n.p99_ratio}), errors ${n.errors}; ` +
      `abuser 429s ${n.abuser_429} of ${n.abuser_requests}; events lost ${n.lost}, duplicates ${n.duplicates}`,
  ];
}
