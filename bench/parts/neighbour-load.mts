/**
 * The load of the `neighbour` part, run as its own process (JSON job on stdin, JSON result as
 * the last stdout line): `normal` users at a fixed rate, each behind its own client address,
 * or one `abuser` account working at every limit at once. Both tally the task events their
 * successful requests made, for the pipeline check.
 */
import { Agent } from 'node:http';
import { REQUEST_BODY_MAX_BYTES } from '../../libs/contracts/src/http-limits.ts';
import { send, type HttpRequest } from '../lib/http.mts';
import { readStdin } from '../lib/processes.mts';
import { nowMs, percentile, sleep } from '../lib/stats.mts';

export interface NeighbourUser {
  cookie: string;
  csrf: string;
  /** X-Forwarded-For: the client address the gateway (TRUST_PROXY=1) sees. */
  address: string;
}

export interface NeighbourJob {
  mode: 'normal' | 'abuser';
  url: string;
  users: NeighbourUser[];
  /** normal: requests per second per user; abuser: requests per second of each of its loops. */
  ratePerS: number;
  /** abuser: the loops it runs (list, toggle, summary, oversize). */
  loops?: string[];
  durationS: number;
  /**
   * Wall-clock time (Date.now()) at which the load starts: the processes of one phase start
   * together, each after its own boot and first request, so that neither is timed.
   */
  startAt: number;
}

export interface NeighbourResult {
  requests: number;
  /** Every request's latency, in order of completion (pooled over rounds by the part). */
  latencies_ms: number[];
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Non-2xx answers and socket errors. */
  errors: number;
  status_codes: Record<string, number>;
  /** Task events the successful requests produced (one per task changed). */
  events: number;
  /**
   * The slowest requests, with when they started (ms after the phase's start): what sets the
   * p99, and whether it clusters in time (docs/limits.md).
   */
  slowest: { at_ms: number; ms: number; request: string; status: number }[];
  /** abuser: when each of its changes that got through started (ms after the phase's start). */
  changes_at_ms: number[];
  /** This load process's own CPU over the phase, ms (it shares the machine with the servers). */
  cpu_ms: number;
  /** ... and over the phase's first second. */
  first_second_cpu_ms: number;
}

/** The load's connections to the gateway (bench/lib/http.mts: not fetch). */
const agent = new Agent({ keepAlive: true });

/** A request's status and body; 0 and no body when it failed on the socket or timed out. */
function answerOf(url: string, request: HttpRequest): Promise<{ status: number; text: string }> {
  return send(agent, url, request).catch(() => ({ status: 0, text: '' }));
}

/** One byte beyond the gateway's body limit. */
const OVERSIZE_BODY = JSON.stringify({
  title: 'x'.repeat(REQUEST_BODY_MAX_BYTES + 1 - '{"title":""}'.length),
});
/** Within the body limit, beyond the title's bound. */
const OVERLONG_TITLE = JSON.stringify({ title: '\u{1F600}'.repeat(1_000) });
const RANGES = ['1h', '24h', '7d', '30d'];

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return Math.round((used.user + used.system) / 1000);
}

/** How many of the slowest requests a result lists. */
const SLOWEST_LISTED = 10;

class Tally {
  readonly latencies: number[] = [];
  readonly slowest: NeighbourResult['slowest'] = [];
  readonly changesAt: number[] = [];
  readonly startedAt = nowMs();
  readonly cpuAtStart = process.cpuUsage();
  firstSecondCpuMs = Number.NaN;
  readonly statusCodes: Record<string, number> = {};
  errors = 0;
  events = 0;

  constructor() {
    setTimeout(() => (this.firstSecondCpuMs = cpuMsSince(this.cpuAtStart)), 1000).unref();
  }

  async send(
    url: string,
    user: NeighbourUser,
    method: string,
    path: string,
    body?: string,
  ): Promise<{ status: number; json?: Record<string, unknown> }> {
    const headers: Record<string, string> = {
      cookie: user.cookie,
      'x-forwarded-for': user.address,
    };
    if (method !== 'GET') headers['x-csrf-token'] = user.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const started = nowMs();
    const answer = await answerOf(url, { method, path, headers, body });
    const status = answer.status;
    let json: Record<string, unknown> | undefined;
    if (status >= 200 && status < 300 && answer.text) {
      json = JSON.parse(answer.text) as Record<string, unknown>;
    }
    const ms = nowMs() - started;
    this.latencies.push(ms);
    this.noteIfSlow({
      at_ms: Math.round(started - this.startedAt),
      ms: Math.round(ms * 10) / 10,
      request: `${method} ${path.replace(/[0-9a-f]{24}/, ':id')}`,
      status,
    });
    this.statusCodes[String(status)] = (this.statusCodes[String(status)] ?? 0) + 1;
    if (status < 200 || status >= 300) this.errors += 1;
    return { status, json };
  }

  private noteIfSlow(request: NeighbourResult['slowest'][number]): void {
    if (this.slowest.length >= SLOWEST_LISTED && request.ms <= this.slowest.at(-1)!.ms) return;
    this.slowest.push(request);
    this.slowest.sort((a, b) => b.ms - a.ms);
    this.slowest.length = Math.min(this.slowest.length, SLOWEST_LISTED);
  }

  /** Notes a change that got through (abuser), by when it started. */
  changed(startedAt: number): void {
    this.changesAt.push(Math.round(startedAt - this.startedAt));
  }

  result(): NeighbourResult {
    return {
      requests: this.latencies.length,
      latencies_ms: this.latencies.map((ms) => Math.round(ms * 10) / 10),
      p50_ms: percentile(this.latencies, 50),
      p99_ms: percentile(this.latencies, 99),
      max_ms: Math.max(0, ...this.latencies),
      errors: this.errors,
      status_codes: this.statusCodes,
      events: this.events,
      slowest: this.slowest,
      changes_at_ms: this.changesAt,
      cpu_ms: cpuMsSince(this.cpuAtStart),
      first_second_cpu_ms: this.firstSecondCpuMs,
    };
  }
}

/**
 * Open loop: starts `step` every 1000/ratePerS ms from a random phase until `endAt`, whether
 * or not earlier ones have finished (a slow server does not slow the load down), with at most
 * `maxInflight` under way; resolves when the last one has finished.
 */
async function openLoop(
  ratePerS: number,
  endAt: number,
  maxInflight: number,
  step: (i: number) => Promise<void>,
): Promise<void> {
  const period = 1000 / ratePerS;
  const running = new Set<Promise<void>>();
  let next = nowMs() + Math.random() * period;
  for (let i = 0; ; i++) {
    const wait = next - nowMs();
    if (wait > 0) await sleep(wait);
    if (nowMs() >= endAt) break;
    next += period;
    if (running.size >= maxInflight) continue;
    const started = step(i).finally(() => running.delete(started));
    running.add(started);
  }
  await Promise.all(running);
}

/**
 * A person: reads the list, adds a task, completes one, deletes one, over and over. A step
 * whose task is not there yet (its create still under way) reads the list instead.
 */
async function normalUser(job: NeighbourJob, user: NeighbourUser, tally: Tally, endAt: number) {
  const created: string[] = [];
  const completed: string[] = [];
  const read = async () => {
    await tally.send(job.url, user, 'GET', '/api/tasks');
  };
  await openLoop(job.ratePerS, endAt, 4, async (i) => {
    const kind = i % 4;
    if (kind === 1) {
      const title = JSON.stringify({ title: `neighbour task ${i}` });
      const answer = await tally.send(job.url, user, 'POST', '/api/tasks', title);
      if (answer.status !== 201) return;
      tally.events += 1;
      created.push(String(answer.json?.id));
    } else if (kind === 2 && created.length > 0) {
      const id = created.shift()!;
      const answer = await tally.send(job.url, user, 'PATCH', `/api/tasks/${id}`, '{"done":true}');
      if (answer.status !== 200) return;
      tally.events += 1;
      completed.push(id);
    } else if (kind === 3 && completed.length > 0) {
      const id = completed.shift()!;
      if ((await tally.send(job.url, user, 'DELETE', `/api/tasks/${id}`)).status === 204) {
        tally.events += 1;
      }
    } else {
      await read();
    }
  });
}

/** One account at every limit at once: four loops, each far above what its budgets allow. */
async function abuser(job: NeighbourJob, user: NeighbourUser, tally: Tally, endAt: number) {
  const { url } = job;
  const loop = (step: (i: number) => Promise<void>) => openLoop(job.ratePerS, endAt, 16, step);
  const loops: Record<string, (i: number) => Promise<void>> = {
    // The largest list it may read, in a loop.
    list: async () => {
      await tally.send(url, user, 'GET', '/api/tasks?limit=500');
    },
    // Bulk toggles: every task changes, one event each.
    toggle: async (i) => {
      const started = nowMs();
      const toggled = await tally.send(
        url,
        user,
        'POST',
        '/api/tasks/toggle-all',
        JSON.stringify({ done: i % 2 === 0 }),
      );
      if (toggled.status !== 200) return;
      tally.events += Number(toggled.json?.updated ?? 0);
      tally.changed(started);
    },
    // Summaries of every range.
    summary: async (i) => {
      await tally.send(url, user, 'GET', `/api/analytics/summary?range=${RANGES[i % 4]}`);
    },
    // Bodies beyond the body limit and titles beyond their bound.
    oversize: async (i) => {
      const started = nowMs();
      const body = i % 2 === 0 ? OVERSIZE_BODY : OVERLONG_TITLE;
      if ((await tally.send(url, user, 'POST', '/api/tasks', body)).status === 201) {
        tally.events += 1;
        tally.changed(started);
      }
    },
  };
  await Promise.all((job.loops ?? Object.keys(loops)).map((name) => loop(loops[name])));
}

const job = JSON.parse(await readStdin()) as NeighbourJob;
// Before the start, untimed: load, connect and warm up the HTTP client on the gateway's
// liveness route (no budget spent), so that neither its boot nor its first requests' compiling
// share the measured window's CPU with the servers.
for (let i = 0; i < 50; i++) {
  const method = i % 2 === 0 ? 'GET' : 'POST';
  await answerOf(job.url, {
    method,
    path: '/health/live',
    headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
    body: method === 'POST' ? '{}' : undefined,
  });
}
await sleep(Math.max(0, job.startAt - Date.now()));
const tally = new Tally();
const endAt = nowMs() + job.durationS * 1000;
if (job.mode === 'normal') {
  await Promise.all(job.users.map((user) => normalUser(job, user, tally, endAt)));
} else {
  await abuser(job, job.users[0], tally, endAt);
}
process.stdout.write(`${JSON.stringify(tally.result())}\n`);
