/**
 * `npm run soak` (docs/reliability.md, "Soak"): 50 users paced at 100 requests/s for 10 minutes
 * against the stack of `npm run up`. Every minute: req/s, p50, p99, errors, the outbox backlog,
 * the events published more than once and the memory of every process of the stack. Then the
 * events are checked in InfluxDB per source (lost, duplicates), a row per minute is printed and
 * a `soak` block with its goals is merged into .bench/results.json.
 *
 * Options: `--minutes N` (10), `--users N` (50), `--rate N` (requests/s, 100), `--list-size N`
 * (tasks a user keeps, 30; 0 lets every list grow by one task a cycle);
 * SOAK_GATEWAY_URL (http://127.0.0.1:3000).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'amqplib';
import {
  TASK_EVENTS_BINDING,
  TASK_EVENTS_EXCHANGE,
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  type TaskEventMessage,
} from '../libs/contracts/src/index.ts';
import { influxQuery } from '../libs/testing/src/influx.ts';
import { LOCAL_INFLUX_DATABASE } from '../tools/stack/apps.mts';
import { runningPid } from '../tools/stack/process.mts';
import { PORTS, SERVICE_URLS } from '../tools/stack/services.mts';
import { metricValues } from './lib/metrics.mts';
import { BENCH_DIR } from './lib/processes.mts';
import { gitState, machine } from './lib/report.mts';
import { nowMs, percentile, round, sleep } from './lib/stats.mts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number, least = 1): number => {
  const index = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (index === -1) return fallback;
  const raw = args[index].includes('=') ? args[index].split('=')[1] : args[index + 1];
  const value = Number(raw);
  if (!Number.isFinite(value) || value < least)
    throw new Error(`--${name} needs a number ≥ ${least}`);
  return value;
};

const MINUTES = option('minutes', 10);
const USERS = option('users', 50);
const RATE = option('rate', 100);
const LIST_SIZE = option('list-size', 30, 0);
const GATEWAY = process.env.SOAK_GATEWAY_URL ?? 'http://127.0.0.1:3000';
const SAMPLE_EVERY_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 180_000;

/** The processes whose memory is sampled: by listening port, Telegraf by its pid file. */
const PROCESS_PORTS: Record<string, number | undefined> = {
  gateway: 3000,
  analytics: 3001,
  ferretdb: PORTS.mongodb,
  postgresql: PORTS.postgresql,
  redis: PORTS.redis,
  rabbitmq: PORTS.rabbitmq,
  influxdb: PORTS.influxdb,
  telegraf: undefined,
  jaeger: PORTS.otlpHttp,
};

function log(message: string): void {
  process.stderr.write(`[soak] ${message}\n`);
}

interface SoakUser {
  id: string;
  cookie: string;
  csrf: string;
  /** Task ids this user owns, oldest first. */
  tasks: string[];
  /** The task created last and not yet completed. */
  fresh?: string;
  step: number;
}

/** Registers through the API; a 429 of the sign-up limit waits for its Retry-After. */
async function register(label: string, i: number): Promise<SoakUser> {
  for (;;) {
    const response = await fetch(`${GATEWAY}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${label}-${i}@soak.example`, password: 'soak-password-1' }),
    });
    if (response.status === 429) {
      const wait = Number(response.headers.get('retry-after') ?? '1');
      await response.body?.cancel();
      await sleep(Math.max(1, wait) * 1000);
      continue;
    }
    if (response.status !== 201) {
      throw new Error(`register: ${response.status} ${await response.text()}`);
    }
    const body = (await response.json()) as { user: { id: string }; csrfToken: string };
    const cookie = response.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .find((pair) => pair.startsWith('taskit.sid='));
    if (!cookie) throw new Error('register: no session cookie');
    return { id: body.user.id, cookie, csrf: body.csrfToken, tasks: [], step: 0 };
  }
}

interface MinuteStats {
  latencies: number[];
  requests: number;
  errors: number;
  writes: number;
  statusCodes: Record<string, number>;
  rss: Record<string, number>[];
  backlog: number[];
}

const minutes: MinuteStats[] = Array.from({ length: MINUTES }, () => ({
  latencies: [],
  requests: 0,
  errors: 0,
  writes: 0,
  statusCodes: {},
  rss: [],
  backlog: [],
}));

/**
 * One user's cycle: create, list, complete what it created, create (or, once its list holds
 * more than LIST_SIZE tasks, delete its oldest), list, delete its oldest task. Four writes in
 * six requests, one event each; the list grows by one task a cycle up to LIST_SIZE and then
 * stays there, as a person's list does.
 */
async function nextRequest(user: SoakUser, minute: MinuteStats): Promise<void> {
  const headers = { cookie: user.cookie, 'x-csrf-token': user.csrf };
  const json = { ...headers, 'content-type': 'application/json' };
  const step = user.step++ % 6;
  let request: { method: string; path: string; body?: string; headers: Record<string, string> };
  let onCreated: ((body: unknown) => void) | undefined;
  let after: (() => void) | undefined;
  const full = LIST_SIZE > 0 && user.tasks.length > LIST_SIZE;
  if (step === 0 || (step === 3 && !full)) {
    request = { method: 'POST', path: '/api/tasks', body: '{"title":"soak"}', headers: json };
    onCreated = (body) => {
      const { id } = body as { id: string };
      user.tasks.push(id);
      user.fresh = id;
    };
  } else if (step === 2 && user.fresh !== undefined) {
    request = {
      method: 'PATCH',
      path: `/api/tasks/${user.fresh}`,
      body: '{"done":true}',
      headers: json,
    };
    user.fresh = undefined;
  } else if ((step === 3 || step === 5) && user.tasks.length > 1) {
    const oldest = user.tasks[0];
    request = { method: 'DELETE', path: `/api/tasks/${oldest}`, headers };
    after = () => void user.tasks.shift();
  } else {
    request = { method: 'GET', path: '/api/tasks', headers };
  }
  const started = nowMs();
  let status: string;
  try {
    const response = await fetch(`${GATEWAY}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    status = String(response.status);
    const body: unknown = await response.json().catch(() => undefined);
    if (response.ok) {
      if (request.method !== 'GET') minute.writes += 1;
      onCreated?.(body);
      after?.();
    }
  } catch {
    status = 'socket';
  }
  minute.latencies.push(nowMs() - started);
  minute.requests += 1;
  minute.statusCodes[status] = (minute.statusCodes[status] ?? 0) + 1;
  if (!/^2\d\d$/.test(status)) minute.errors += 1;
}

/** Pids of the listeners, by port (ss of iproute2). */
function listeningPids(): Map<number, number> {
  const pids = new Map<number, number>();
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const port = /:(\d+)\s/.exec(line)?.[1];
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (port && pid && !pids.has(Number(port))) pids.set(Number(port), Number(pid));
  }
  return pids;
}

function statusKb(pid: number, field: string): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Proportional set size: shared pages (PostgreSQL's buffer pool) counted once over processes. */
function pssKb(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** MB per process: RSS; PostgreSQL as the PSS of the postmaster and all its backends. */
function sampleMemory(): Record<string, number> {
  const byPort = listeningPids();
  const sample: Record<string, number> = {};
  for (const [name, port] of Object.entries(PROCESS_PORTS)) {
    const pid = port === undefined ? runningPid(name) : byPort.get(port);
    if (pid === undefined) continue;
    const kb =
      name === 'postgresql'
        ? [pid, ...childPids(pid)].reduce((sum, p) => sum + pssKb(p), 0)
        : statusKb(pid, 'VmRSS');
    sample[name] = round(kb / 1024, 1);
  }
  return sample;
}

/** taskit_outbox_backlog_events from the gateway's /metrics (NaN when it does not answer). */
async function sampleBacklog(): Promise<number> {
  const [backlog] = await metricValues(`${GATEWAY}/metrics`, 'taskit_outbox_backlog_events').catch(
    () => [Number.NaN],
  );
  return backlog;
}

/** Every event of the run's users as RabbitMQ delivers it: times seen per message id. */
async function watchEvents(userIds: Set<string>) {
  const connection = await connect(SERVICE_URLS.rabbitmq);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, TASK_EVENTS_EXCHANGE, TASK_EVENTS_BINDING);
  const seen = new Map<string, number>();
  let republishedThisMinute = 0;
  await channel.consume(
    queue,
    (message) => {
      if (message === null) return;
      const { data } = JSON.parse(message.content.toString()) as TaskEventMessage;
      if (!userIds.has(data.userId)) return;
      const times = (seen.get(data.eventId) ?? 0) + 1;
      seen.set(data.eventId, times);
      if (times > 1) republishedThisMinute += 1;
    },
    { noAck: true },
  );
  return {
    seen,
    takeRepublished() {
      const n = republishedThisMinute;
      republishedThisMinute = 0;
      return n;
    },
    close: () => connection.close(),
  };
}

/** Points per event id of one source for the run's users, from the stack's InfluxDB. */
async function pointsBySource(userIds: string[], since: number) {
  const pattern = userIds.join('|');
  const series = await influxQuery(
    SERVICE_URLS.influxdb,
    `SELECT "${TaskEventFields.eventId}" FROM "${TASK_EVENTS_MEASUREMENT}" ` +
      `WHERE time >= ${Math.floor(since - 60_000)}ms AND "${TaskEventTags.userId}" =~ /^(${pattern})$/ ` +
      `GROUP BY "${TaskEventTags.source}"`,
    LOCAL_INFLUX_DATABASE,
    120_000,
  );
  const result: Record<string, Map<string, number>> = { worker: new Map(), telegraf: new Map() };
  for (const s of series) {
    const points = (result[s.tags?.[TaskEventTags.source] ?? 'unknown'] ??= new Map());
    const column = s.columns.indexOf(TaskEventFields.eventId);
    for (const row of s.values) {
      const id = String(row[column]);
      points.set(id, (points.get(id) ?? 0) + 1);
    }
  }
  return result;
}

function verify(points: Map<string, number>, published: Map<string, number>) {
  let lost = 0;
  for (const id of published.keys()) if (!points.has(id)) lost += 1;
  let total = 0;
  for (const n of points.values()) total += n;
  return { points: total, lost, duplicates: total - points.size };
}

async function main(): Promise<void> {
  const ready = await fetch(`${GATEWAY}/health/ready`, { signal: AbortSignal.timeout(5_000) })
    .then((r) => r.status === 200)
    .catch(() => false);
  if (!ready) throw new Error(`${GATEWAY}/health/ready does not answer 200: run npm run up first`);
  const startedAt = new Date().toISOString();
  const label = `soak${Date.now().toString(36)}`;
  log(`registering ${USERS} users (${label})`);
  const users: SoakUser[] = [];
  for (let i = 0; i < USERS; i += 5) {
    const batch = Array.from({ length: Math.min(5, USERS - i) }, (_, k) => register(label, i + k));
    users.push(...(await Promise.all(batch)));
  }
  const userIds = new Set(users.map((u) => u.id));
  const events = await watchEvents(userIds);
  const republished: number[] = Array.from({ length: MINUTES }, () => 0);

  const start = nowMs();
  const end = start + MINUTES * 60_000;
  const minuteOf = (t: number) => Math.min(MINUTES - 1, Math.floor((t - start) / 60_000));
  log(`${USERS} users at ${RATE} requests/s for ${MINUTES} min against ${GATEWAY}`);
  process.stdout.write(header());

  let sampling = true;
  const sampler = (async () => {
    let lastMinute = 0;
    while (sampling) {
      const minute = minuteOf(nowMs());
      if (minute !== lastMinute) {
        republished[lastMinute] += events.takeRepublished();
        process.stdout.write(row(lastMinute, republished[lastMinute]));
        lastMinute = minute;
      }
      minutes[minute].rss.push(sampleMemory());
      minutes[minute].backlog.push(await sampleBacklog());
      await sleep(SAMPLE_EVERY_MS - ((nowMs() - start) % SAMPLE_EVERY_MS));
    }
    republished[lastMinute] += events.takeRepublished();
    process.stdout.write(row(lastMinute, republished[lastMinute]));
  })();

  // Each user sends one request every USERS/RATE seconds, the users spread evenly over that
  // interval; a user whose answer comes late sends the next at once (no burst beyond 1 s).
  const intervalMs = (USERS / RATE) * 1000;
  await Promise.all(
    users.map(async (user, i) => {
      let next = start + (i * intervalMs) / USERS;
      while (next < end) {
        const wait = next - nowMs();
        if (wait > 0) await sleep(wait);
        else if (wait < -1000) next = nowMs();
        await nextRequest(user, minutes[minuteOf(next)]);
        next += intervalMs;
      }
    }),
  );
  sampling = false;
  await sampler;

  const expected = minutes.reduce((s, m) => s + m.writes, 0);
  log(`load done; ${expected} writes answered 2xx; waiting for every event in both sources`);
  const drainDeadline = nowMs() + DRAIN_TIMEOUT_MS;
  let points = await pointsBySource([...userIds], start);
  while (nowMs() < drainDeadline) {
    const complete =
      events.seen.size >= expected &&
      verify(points.worker, events.seen).lost === 0 &&
      verify(points.telegraf, events.seen).lost === 0;
    if (complete) break;
    await sleep(5_000);
    points = await pointsBySource([...userIds], start);
  }
  await events.close();

  const worker = verify(points.worker, events.seen);
  const telegraf = verify(points.telegraf, events.seen);
  const republishedTotal = [...events.seen.values()].reduce((s, n) => s + n - 1, 0);
  const summary = summarize(expected, worker, telegraf, republishedTotal, startedAt);
  const resultsFile = join(BENCH_DIR, 'results.json');
  mkdirSync(BENCH_DIR, { recursive: true });
  const results = existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>)
    : { machine: machine().summary, machine_details: machine().details };
  results.soak = summary;
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    [
      '',
      `events: ${expected} writes, ${events.seen.size} distinct published, republished ${republishedTotal} ` +
        `(${round(summary.republished_ratio * 100, 3)} %); worker ${worker.points} points ` +
        `(lost ${worker.lost}, dup ${worker.duplicates}); telegraf ${telegraf.points} points ` +
        `(lost ${telegraf.lost}, dup ${telegraf.duplicates})`,
      `errors ${summary.errors}, max backlog ${summary.max_backlog}`,
      ...Object.entries(summary.goals).map(
        ([goal, met]) => `  ${met === null ? 'n/a ' : met ? 'met ' : 'MISS'} ${goal}`,
      ),
      'merged into .bench/results.json (soak)',
      '',
    ].join('\n'),
  );
  if (Object.values(summary.goals).includes(false)) process.exitCode = 1;

  function summarize(
    writes: number,
    w: ReturnType<typeof verify>,
    t: ReturnType<typeof verify>,
    republishedEvents: number,
    at: string,
  ) {
    const perMinute = minutes.map((m, minute) => ({
      minute,
      rps: round(m.requests / 60, 1),
      p50_ms: round(percentile(m.latencies, 50)),
      p99_ms: round(percentile(m.latencies, 99)),
      errors: m.errors,
      status_codes: m.statusCodes,
      rss_mb: maxPerProcess(m.rss),
      backlog: Math.max(0, ...m.backlog.filter(Number.isFinite)),
      backlog_unanswered_samples: m.backlog.filter((b) => !Number.isFinite(b)).length,
      republished: republished[minute],
    }));
    const errors = perMinute.reduce((s, m) => s + m.errors, 0);
    const maxBacklog = Math.max(0, ...perMinute.map((m) => m.backlog));
    const republishedRatio = writes === 0 ? 0 : republishedEvents / writes;
    const first = perMinute[0];
    const last = perMinute[perMinute.length - 1];
    // Warm-up is minutes 0 and 1; a run shorter than 3 minutes has no flat part to judge.
    const reference = perMinute[2];
    const rssFlat =
      reference === undefined
        ? null
        : minutes
            .slice(2)
            .every((m) =>
              m.rss.every((sample) =>
                Object.entries(sample).every(
                  ([name, mb]) => mb <= 1.2 * (reference.rss_mb[name] ?? Number.POSITIVE_INFINITY),
                ),
              ),
            );
    return {
      users: USERS,
      rate_per_s: RATE,
      duration_s: MINUTES * 60,
      list_size: LIST_SIZE,
      started_at: at,
      machine: machine().summary,
      git: gitState(),
      minutes: perMinute,
      writes,
      events_published_distinct: events.seen.size,
      republished: republishedEvents,
      errors,
      lost: Math.max(w.lost, t.lost) + Math.max(0, writes - events.seen.size),
      duplicates: Math.max(w.duplicates, t.duplicates),
      sources: { worker: w, telegraf: t },
      republished_ratio: round(republishedRatio, 5),
      max_backlog: maxBacklog,
      goals: {
        'last-minute p99 <= 1.2x first-minute p99': last.p99_ms <= 1.2 * first.p99_ms,
        'req/s within 5 % of the pace every minute': perMinute.every(
          (m) => Math.abs(m.rps - RATE) <= 0.05 * RATE,
        ),
        'RSS of every process <= 1.2x its minute-2 value after warm-up': rssFlat,
        'outbox backlog < 200 at every sample': minutes.every(
          (m) => m.backlog.length > 0 && m.backlog.every((b) => Number.isFinite(b) && b < 200),
        ),
        'republished <= 0.1 %': republishedRatio <= 0.001,
        '0 errors': errors === 0,
        'lost 0, dup 0 per source':
          w.lost === 0 &&
          t.lost === 0 &&
          w.duplicates === 0 &&
          t.duplicates === 0 &&
          writes === events.seen.size,
      },
    };
  }
}

function maxPerProcess(samples: Record<string, number>[]): Record<string, number> {
  const max: Record<string, number> = {};
  for (const sample of samples) {
    for (const [name, mb] of Object.entries(sample)) max[name] = Math.max(max[name] ?? 0, mb);
  }
  return max;
}

const RSS_COLUMNS: [string, string][] = [
  ['gateway', 'gw'],
  ['analytics', 'an'],
  ['ferretdb', 'ferret'],
  ['postgresql', 'pg'],
  ['redis', 'redis'],
  ['rabbitmq', 'rabbit'],
  ['influxdb', 'influx'],
  ['telegraf', 'tlgrf'],
  ['jaeger', 'jaeger'],
];

function header(): string {
  const cells = ['min', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'backlog', 'repub'];
  return `${[...cells, ...RSS_COLUMNS.map(([, short]) => short)].map((c) => c.padStart(8)).join('')}  (RSS MB)\n`;
}

function row(minute: number, republishedEvents: number): string {
  const m = minutes[minute];
  const rss = maxPerProcess(m.rss);
  const backlog = Math.max(0, ...m.backlog.filter(Number.isFinite));
  const cells = [
    minute,
    round(m.requests / 60, 1),
    round(percentile(m.latencies, 50)),
    round(percentile(m.latencies, 99)),
    m.errors,
    backlog,
    republishedEvents,
    ...RSS_COLUMNS.map(([name]) => (rss[name] === undefined ? '-' : Math.round(rss[name]))),
  ];
  return `${cells.map((c) => String(c).padStart(8)).join('')}\n`;
}

await main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
