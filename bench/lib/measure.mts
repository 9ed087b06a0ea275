/** One load run against one target, with the target's CPU time per request. */
import type { LoadJob, LoadResult } from '../load.mts';
import type { UncachedJob } from '../uncached-load.mts';
import { runScript } from './processes.mts';
import { cpuMs } from './services.mts';
import { progress } from './settings.mts';
import { mean, round } from './stats.mts';

export type Measured = LoadResult & { cpuMsPerRequest: number };

/** Runs `script` (load.mts, or another helper answering a LoadResult) with `job`. */
export async function measureLoad(
  name: string,
  job: LoadJob | UncachedJob,
  pid: number | undefined,
  script = 'load.mts',
): Promise<Measured> {
  const before = cpuMs(pid);
  const result = await runScript<LoadResult>(`load-${name}`, script, job);
  const cpuMsPerRequest = (cpuMs(pid) - before) / Math.max(1, result.requests);
  progress(
    `  ${name}: ${round(result.rps)} req/s, p50 ${round(result.latencyMs.p50)} ms, p99 ${round(result.latencyMs.p99)} ms, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}, ${round(cpuMsPerRequest, 2)} CPU ms/request`,
  );
  return { ...result, cpuMsPerRequest };
}

/** The mean over rounds of each figure. */
export function summarize(rounds: Measured[]) {
  return {
    rps: round(mean(rounds.map((r) => r.rps))),
    p50_ms: round(mean(rounds.map((r) => r.latencyMs.p50))),
    p90_ms: round(mean(rounds.map((r) => r.latencyMs.p90))),
    p99_ms: round(mean(rounds.map((r) => r.latencyMs.p99))),
    errors: rounds.reduce((s, r) => s + r.non2xx + r.errors + r.bodyMismatches, 0),
    cpu_ms_per_request: round(mean(rounds.map((r) => r.cpuMsPerRequest)), 3),
    rounds,
  };
}
