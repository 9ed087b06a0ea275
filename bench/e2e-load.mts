/**
 * The end-to-end lag probe, run as its own process: creates tasks through the gateway's API at
 * a fixed rate (open loop, at most `maxInflight` outstanding), and polls InfluxDB every
 * `pollMs` for the worker's points of those tasks. Lag = time the point was first seen in a
 * query answer − time the 201 arrived. JSON job on stdin, JSON result on the last stdout line.
 */
import { Agent } from 'node:http';
import {
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
} from '../libs/contracts/src/index.ts';
import { influxQuery } from '../libs/testing/src/influx.ts';
import { send } from './lib/http.mts';
import { readStdin } from './lib/processes.mts';
import { nowMs, percentile, sleep } from './lib/stats.mts';

export interface E2eJob {
  url: string;
  users: { cookie: string; csrf: string }[];
  ratePerS: number;
  durationS: number;
  maxInflight: number;
  influxUrl: string;
  influxDatabase: string;
  pollMs: number;
  drainTimeoutS: number;
}

export interface E2eResult {
  target_rate_per_s: number;
  achieved_rate_per_s: number;
  attempted: number;
  created: number;
  failed: number;
  skipped_inflight_limit: number;
  http_p50_ms: number;
  http_p99_ms: number;
  seen: number;
  unseen: number;
  lag_p50_ms: number;
  lag_p90_ms: number;
  lag_p99_ms: number;
  lag_max_ms: number;
  polls: number;
  poll_query_p50_ms: number;
  status_codes: Record<string, number>;
}

interface Pending {
  sentAt: number;
  createdAt: number;
}

const job = JSON.parse(await readStdin()) as E2eJob;
const agent = new Agent({ keepAlive: true, maxSockets: job.maxInflight });

const inflight = new Map<number, number>(); // request number → sent at
const pending = new Map<string, Pending>(); // task id → times, until its point is seen
const seenEarly = new Map<string, number>(); // seen before its 201 arrived
const counted = new Set<string>();
const lags: number[] = [];
const httpLatencies: number[] = [];
const pollDurations: number[] = [];
const statusCodes: Record<string, number> = {};
let created = 0;
let failed = 0;
let skipped = 0;
let attempted = 0;
let polls = 0;

function createTask(n: number): void {
  const user = job.users[n % job.users.length];
  const body = JSON.stringify({ title: `e2e ${n}` });
  const sentAt = nowMs();
  inflight.set(n, sentAt);
  const done = (status: number, text: string) => {
    inflight.delete(n);
    const at = nowMs();
    statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    if (status !== 201) {
      failed += 1;
      return;
    }
    created += 1;
    httpLatencies.push(at - sentAt);
    const id = (JSON.parse(text) as { id: string }).id;
    const early = seenEarly.get(id);
    if (early !== undefined) {
      seenEarly.delete(id);
      counted.add(id);
      lags.push(early - at);
    } else pending.set(id, { sentAt, createdAt: at });
  };
  send(agent, job.url, {
    method: 'POST',
    path: '/api/tasks',
    headers: {
      cookie: user.cookie,
      'x-csrf-token': user.csrf,
      'content-type': 'application/json',
    },
    body,
  }).then(
    ({ status, text }) => done(status, text),
    () => done(0, ''),
  );
}

/** Sends what the schedule says is due: request k leaves at start + k / rate. */
async function generate(): Promise<number> {
  const total = Math.round(job.ratePerS * job.durationS);
  const start = nowMs();
  while (attempted < total) {
    const due = Math.min(total, Math.floor(((nowMs() - start) / 1000) * job.ratePerS) + 1);
    while (attempted < due) {
      if (inflight.size >= job.maxInflight) skipped += 1;
      else createTask(attempted);
      attempted += 1;
    }
    await sleep(2);
  }
  return (nowMs() - start) / 1000;
}

/** Oldest time a not-yet-seen point can carry (occurredAt is taken after the request left). */
function watermarkNs(): bigint {
  let oldest = nowMs();
  for (const sentAt of inflight.values()) oldest = Math.min(oldest, sentAt);
  for (const p of pending.values()) oldest = Math.min(oldest, p.sentAt);
  return BigInt(Math.floor(oldest) - 5) * 1_000_000n;
}

async function poll(): Promise<void> {
  const started = nowMs();
  const series = await influxQuery(
    job.influxUrl,
    `SELECT "${TaskEventFields.taskId}" FROM "${TASK_EVENTS_MEASUREMENT}" WHERE "${TaskEventTags.source}" = 'worker' AND time >= ${watermarkNs()}`,
    job.influxDatabase,
    10_000,
  );
  const at = nowMs();
  pollDurations.push(at - started);
  polls += 1;
  for (const s of series) {
    const column = s.columns.indexOf(TaskEventFields.taskId);
    for (const row of s.values) {
      const id = String(row[column]);
      if (counted.has(id)) continue;
      const p = pending.get(id);
      if (p) {
        pending.delete(id);
        counted.add(id);
        lags.push(at - p.createdAt);
      } else if (!seenEarly.has(id)) {
        // Its 201 has not arrived yet: the lag is negative (counted when it arrives).
        seenEarly.set(id, at);
      }
    }
  }
}

let generating = true;
const generator = generate().finally(() => (generating = false));
const poller = (async () => {
  let drainDeadline = Number.POSITIVE_INFINITY;
  for (;;) {
    if (!generating && inflight.size === 0) {
      if (drainDeadline === Number.POSITIVE_INFINITY)
        drainDeadline = nowMs() + job.drainTimeoutS * 1000;
      if (pending.size === 0 || nowMs() > drainDeadline) return;
    }
    const started = nowMs();
    try {
      await poll();
    } catch (error) {
      process.stderr.write(`poll failed: ${(error as Error).message}\n`);
    }
    await sleep(Math.max(0, job.pollMs - (nowMs() - started)));
  }
})();
const elapsedS = await generator;
await poller;
agent.destroy();

const result: E2eResult = {
  target_rate_per_s: job.ratePerS,
  achieved_rate_per_s: created / elapsedS,
  attempted,
  created,
  failed,
  skipped_inflight_limit: skipped,
  http_p50_ms: percentile(httpLatencies, 50),
  http_p99_ms: percentile(httpLatencies, 99),
  seen: lags.length,
  unseen: pending.size,
  lag_p50_ms: percentile(lags, 50),
  lag_p90_ms: percentile(lags, 90),
  lag_p99_ms: percentile(lags, 99),
  lag_max_ms: lags.length ? Math.max(...lags) : Number.NaN,
  polls,
  poll_query_p50_ms: percentile(pollDurations, 50),
  status_codes: statusCodes,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
