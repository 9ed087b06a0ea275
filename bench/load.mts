/**
 * The HTTP load generator, run as its own process (bench/run.mts starts it): autocannon's
 * programmatic API, JSON job on stdin, JSON result as the last stdout line.
 *
 * - `read`: GET `path` with a session cookie that changes on every request, cycling
 *   through all users (so the server does a session look-up for many sessions).
 * - `writes`: each connection is one user and loops create → toggle (PATCH done) → delete
 *   of the task it just created, with the user's CSRF token.
 */
import { createRequire } from 'node:module';
import { readStdin } from './lib/processes.mts';

export interface LoadUser {
  cookie: string;
  csrf: string;
}

export interface LoadJob {
  mode: 'read' | 'writes';
  url: string;
  path: string;
  users: LoadUser[];
  connections: number;
  durationS: number;
  /** read mode: every Nth response body is parsed and must hold this many tasks. */
  expectTasks?: number;
}

export interface LoadResult {
  rps: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  statusCodes: Record<string, number>;
  bodyMismatches: number;
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}

interface RequestSpec extends AutocannonRequest {
  setupRequest?: (req: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}

interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  duration: number;
  statusCodeStats?: Record<string, { count: number }>;
}

type Autocannon = (
  options: Record<string, unknown>,
  callback: (error: Error | null, result: AutocannonResult) => void,
) => unknown;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function readRequests(job: LoadJob, mismatch: () => void): RequestSpec[] {
  let next = 0;
  let responses = 0;
  return [
    {
      method: 'GET',
      setupRequest: (req) => ({
        ...req,
        path: job.path,
        headers: { cookie: job.users[next++ % job.users.length].cookie },
      }),
      onResponse: (status, body) => {
        if (job.expectTasks === undefined || responses++ % 50 !== 0) return;
        try {
          const parsed = JSON.parse(body) as { tasks?: unknown[] };
          if (status !== 200 || parsed.tasks?.length !== job.expectTasks) mismatch();
        } catch {
          mismatch();
        }
      },
    },
  ];
}

/** The task this connection created last (a never-existing id after a failed create: 404). */
function taskOf(context: Record<string, unknown>): string {
  return typeof context.task === 'string' ? context.task : '000000000000000000000000';
}

function writeRequests(job: LoadJob): RequestSpec[] {
  let nextUser = 0;
  const userOf = (context: Record<string, unknown>): LoadUser => {
    if (typeof context.user !== 'number') context.user = nextUser++ % job.users.length;
    return job.users[context.user as number];
  };
  const headers = (user: LoadUser, json: boolean): Record<string, string> => ({
    cookie: user.cookie,
    'x-csrf-token': user.csrf,
    ...(json ? { 'content-type': 'application/json' } : {}),
  });
  return [
    {
      method: 'POST',
      setupRequest: (req, context) => ({
        ...req,
        path: job.path,
        headers: headers(userOf(context), true),
        body: JSON.stringify({ title: `bench ${Date.now()}` }),
      }),
      onResponse: (status, body, context) => {
        context.task = undefined;
        if (status === 201) context.task = (JSON.parse(body) as { id: string }).id;
      },
    },
    {
      method: 'PATCH',
      setupRequest: (req, context) => ({
        ...req,
        path: `${job.path}/${taskOf(context)}`,
        headers: headers(userOf(context), true),
        body: '{"done":true}',
      }),
    },
    {
      method: 'DELETE',
      setupRequest: (req, context) => ({
        ...req,
        path: `${job.path}/${taskOf(context)}`,
        headers: headers(userOf(context), false),
        body: undefined,
      }),
    },
  ];
}

async function main(): Promise<void> {
  const job = JSON.parse(await readStdin()) as LoadJob;
  let bodyMismatches = 0;
  const requests =
    job.mode === 'read' ? readRequests(job, () => (bodyMismatches += 1)) : writeRequests(job);
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.durationS,
        requests,
        timeout: 10,
      },
      (error, value) => (error ? reject(error) : resolve(value)),
    );
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = stats.count;
  }
  const output: LoadResult = {
    rps: result['2xx'] / result.duration,
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    latencyMs: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    statusCodes,
    bodyMismatches,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`load: ${String(error)}\n`);
  process.exit(1);
});
