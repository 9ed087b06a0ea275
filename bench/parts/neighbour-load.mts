/**
 * The load of the `neighbour` part, run as its own process (JSON job on stdin, JSON result as
 * the last stdout line): `normal` users at a fixed rate, each behind its own client address,
 * or one `abuser` account working at every limit at once. Both tally the task events their
 * successful requests made, for the pipeline check.
 */
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
  durationS: number;
}

export interface NeighbourResult {
  requests: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Non-2xx answers and socket errors. */
  errors: number;
  status_codes: Record<string, number>;
  /** Task events the successful requests produced (one per task changed). */
  events: number;
}

/** Just beyond the gateway's 1 MB body limit. */
const OVERSIZE_BODY = JSON.stringify({ title: 'x'.repeat(1024 * 1024) });
/** Within the body limit, beyond the title's bound. */
const OVERLONG_TITLE = JSON.stringify({ title: '\u{1F600}'.repeat(1_000) });
const RANGES = ['1h', '24h', '7d', '30d'];

class Tally {
  readonly latencies: number[] = [];
  readonly statusCodes: Record<string, number> = {};
  errors = 0;
  events = 0;

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
    let status: number;
    let json: Record<string, unknown> | undefined;
    try {
      const response = await fetch(`${url}${path}`, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(30_000),
      });
      status = response.status;
      const text = await response.text();
      if (status >= 200 && status < 300 && text) json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      status = 0;
    }
    this.latencies.push(nowMs() - started);
    this.statusCodes[String(status)] = (this.statusCodes[String(status)] ?? 0) + 1;
    if (status < 200 || status >= 300) this.errors += 1;
    return { status, json };
  }

  result(): NeighbourResult {
    return {
      requests: this.latencies.length,
      p50_ms: percentile(this.latencies, 50),
      p99_ms: percentile(this.latencies, 99),
      max_ms: Math.max(0, ...this.latencies),
      errors: this.errors,
      status_codes: this.statusCodes,
      events: this.events,
    };
  }
}

/** Calls `step` every 1000/ratePerS ms from a random phase until `endAt` (never two at once). */
async function paced(ratePerS: number, endAt: number, step: (i: number) => Promise<void>) {
  const period = 1000 / ratePerS;
  let next = nowMs() + Math.random() * period;
  for (let i = 0; ; i++) {
    const wait = next - nowMs();
    if (wait > 0) await sleep(wait);
    if (nowMs() >= endAt) return;
    await step(i);
    next += period;
  }
}

/** A person: reads the list, adds a task, completes it, deletes it, over and over. */
async function normalUser(job: NeighbourJob, user: NeighbourUser, tally: Tally, endAt: number) {
  let taskId: string | undefined;
  await paced(job.ratePerS, endAt, async (i) => {
    switch (i % 4) {
      case 0:
        await tally.send(job.url, user, 'GET', '/api/tasks');
        return;
      case 1: {
        const created = await tally.send(
          job.url,
          user,
          'POST',
          '/api/tasks',
          JSON.stringify({ title: `neighbour task ${i}` }),
        );
        taskId = created.status === 201 ? String(created.json?.id) : undefined;
        if (taskId) tally.events += 1;
        return;
      }
      case 2:
        if (!taskId) return;
        if (
          (await tally.send(job.url, user, 'PATCH', `/api/tasks/${taskId}`, '{"done":true}'))
            .status === 200
        )
          tally.events += 1;
        return;
      default:
        if (!taskId) return;
        if ((await tally.send(job.url, user, 'DELETE', `/api/tasks/${taskId}`)).status === 204)
          tally.events += 1;
        taskId = undefined;
    }
  });
}

/** One account at every limit at once: four loops, each far above what its budgets allow. */
async function abuser(job: NeighbourJob, user: NeighbourUser, tally: Tally, endAt: number) {
  const { url } = job;
  await Promise.all([
    // The largest list it may read, in a loop.
    paced(job.ratePerS, endAt, async () => {
      await tally.send(url, user, 'GET', '/api/tasks?limit=500');
    }),
    // Bulk toggles: every task changes, one event each.
    paced(job.ratePerS, endAt, async (i) => {
      const toggled = await tally.send(
        url,
        user,
        'POST',
        '/api/tasks/toggle-all',
        JSON.stringify({ done: i % 2 === 0 }),
      );
      if (toggled.status === 200) tally.events += Number(toggled.json?.updated ?? 0);
    }),
    // Summaries of every range.
    paced(job.ratePerS, endAt, async (i) => {
      await tally.send(url, user, 'GET', `/api/analytics/summary?range=${RANGES[i % 4]}`);
    }),
    // Bodies beyond the body limit and titles beyond their bound.
    paced(job.ratePerS, endAt, async (i) => {
      const created = await tally.send(
        url,
        user,
        'POST',
        '/api/tasks',
        i % 2 === 0 ? OVERSIZE_BODY : OVERLONG_TITLE,
      );
      if (created.status === 201) tally.events += 1;
    }),
  ]);
}

const job = JSON.parse(await readStdin()) as NeighbourJob;
const tally = new Tally();
const endAt = nowMs() + job.durationS * 1000;
if (job.mode === 'normal') {
  await Promise.all(job.users.map((user) => normalUser(job, user, tally, endAt)));
} else {
  await abuser(job, job.users[0], tally, endAt);
}
process.stdout.write(`${JSON.stringify(tally.result())}\n`);
