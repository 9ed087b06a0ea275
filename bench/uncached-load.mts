/**
 * The uncached read run (`http.uncached_*`), its own process like load.mts: `connections`
 * loops, each over its own users, and before every GET the loop bumps that user's task-list
 * version in Redis (what a write does), so every GET misses the cache and reads MongoDB. Only
 * the GET is timed. JSON job on stdin, a LoadResult as the last stdout line.
 */
import { Agent } from 'node:http';
import { createClient } from 'redis';
import type { LoadResult } from './load.mts';
import { send } from './lib/http.mts';
import { readStdin } from './lib/processes.mts';
import { mean, nowMs, percentile } from './lib/stats.mts';

export interface UncachedJob {
  url: string;
  path: string;
  users: { cookie: string; versionKey: string }[];
  redisUrl: string;
  connections: number;
  durationS: number;
  expectTasks: number;
}

const job = JSON.parse(await readStdin()) as UncachedJob;
const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
const redis = createClient({ url: job.redisUrl });
await redis.connect();

const latencies: number[] = [];
const statusCodes: Record<string, number> = {};
let errors = 0;
let bodyMismatches = 0;
const started = nowMs();
const deadline = started + job.durationS * 1000;

async function loop(index: number): Promise<void> {
  // Users index, index + connections, …: no two loops share a user, so no GET finds the
  // list another loop has just stored under the current version.
  const own = job.users.filter((_, i) => i % job.connections === index);
  for (let n = 0; nowMs() < deadline; n++) {
    const user = own[n % own.length];
    await redis.incr(user.versionKey);
    const sent = nowMs();
    try {
      const { status, text: body } = await send(agent, job.url, {
        path: job.path,
        headers: { cookie: user.cookie },
      });
      latencies.push(nowMs() - sent);
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      if (status === 200 && n % 10 === 0) {
        const parsed = JSON.parse(body) as { tasks?: unknown[] };
        if (parsed.tasks?.length !== job.expectTasks) bodyMismatches += 1;
      }
    } catch {
      errors += 1;
    }
  }
}

await Promise.all(
  Array.from({ length: Math.min(job.connections, job.users.length) }, (_, i) => loop(i)),
);
const durationS = (nowMs() - started) / 1000;
await redis.close();
agent.destroy();
const ok = statusCodes['200'] ?? 0;
const result: LoadResult = {
  rps: ok / durationS,
  requests: latencies.length + errors,
  ok,
  non2xx: latencies.length - ok,
  errors,
  timeouts: 0,
  durationS,
  latencyMs: {
    mean: mean(latencies),
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
  },
  statusCodes,
  bodyMismatches,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
