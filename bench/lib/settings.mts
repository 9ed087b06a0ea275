/**
 * The run's options and sizes (docs/performance.md): `--only http,writes,pipeline,e2e,neighbour,capped-list`
 * (default all), `--quick`, `--cpu-prof`, `--skip-build`; BENCH_EVENTS, BENCH_E2E_RATE,
 * BENCH_E2E_SECONDS and BENCH_SECONDS override the sizes.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BENCH_DIR } from './processes.mts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const onlyArg = args.find((a) => a.startsWith('--only'));
const onlyValue = onlyArg?.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf('--only') + 1];

export const PARTS = new Set(
  (onlyArg ? onlyValue : 'http,writes,pipeline,e2e,neighbour,capped-list').split(','),
);
export const QUICK = flag('--quick');
export const CPU_PROF = flag('--cpu-prof');
export const SKIP_BUILD = flag('--skip-build');

const envNumber = (name: string, fallback: number) =>
  process.env[name] ? Number(process.env[name]) : fallback;

export const CONFIG = {
  neighbour: {
    users: QUICK ? 8 : 20,
    /** Well under the per-user limit (300 a minute): what a busy person does. */
    ratePerUserPerS: 1,
    warmupS: QUICK ? 1 : 3,
    durationS: envNumber('BENCH_SECONDS', QUICK ? 5 : 20),
    /** Alone, then with the abuser, this many times in turn; the p99s pool every round's requests. */
    rounds: envNumber('BENCH_NEIGHBOUR_ROUNDS', QUICK ? 1 : 2),
    abuserTasks: envNumber('BENCH_NEIGHBOUR_ABUSER_TASKS', 50),
    abuserRatePerLoopPerS: 25,
    /** Which of the abuser's loops run (list, toggle, summary, oversize): one at a time shows which one hurts. */
    abuserLoops: (process.env.BENCH_NEIGHBOUR_ABUSER_LOOPS ?? 'list,toggle,summary,oversize').split(
      ',',
    ),
    drainTimeoutS: 120,
  },
  http: {
    users: QUICK ? 16 : 64,
    tasksPerUser: 50,
    connections: QUICK ? 16 : 32,
    /** Uncached reads at a light load: what one reader waits (http.uncached_p99_ms). */
    uncachedLightConnections: 2,
    warmupS: QUICK ? 1 : 3,
    durationS: envNumber('BENCH_SECONDS', QUICK ? 3 : 10),
    rounds: QUICK ? 1 : 2,
  },
  writes: {
    connections: QUICK ? 8 : 32,
    warmupS: QUICK ? 1 : 3,
    durationS: envNumber('BENCH_SECONDS', QUICK ? 5 : 15),
    rounds: QUICK ? 1 : 2,
  },
  pipeline: {
    events: envNumber('BENCH_EVENTS', QUICK ? 5_000 : 50_000),
    users: 64,
    drainTimeoutS: 300,
  },
  e2e: {
    ratePerS: envNumber('BENCH_E2E_RATE', 200),
    durationS: envNumber('BENCH_E2E_SECONDS', QUICK ? 5 : 30),
    targetRatePerS: 200,
    targetDurationS: QUICK ? 2 : 5,
    users: 32,
    maxInflight: 256,
    pollMs: 50,
    drainTimeoutS: 60,
  },
};

export const SESSION_SECRET = randomBytes(32).toString('hex');
/**
 * Task-list cache lifetime for the read runs (gateway and raw same-I/O alike): long enough that
 * no entry expires during the run (with the default each user's list would come from FerretDB
 * once a minute, a 0.5 s collection scan here, in the middle of a run).
 */
export const CACHE_TTL_S = 900;
export const PROFILE_DIR = join(BENCH_DIR, 'profiles');

export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
