/**
 * The `e2e` part (docs/api.md, Benchmark results): an open-loop generator (e2e-load.mts) creates tasks
 * through the gateway at a fixed rate; the lag is from each 201 to the task's worker point
 * being queryable in InfluxDB.
 */
import type { IsolatedStack } from '../../libs/testing/src/isolated-stack.ts';
import type { RunningProcess } from '../../libs/testing/src/running-process.ts';
import type { E2eJob, E2eResult } from '../e2e-load.mts';
import { histogramQuantiles, metricValues } from '../lib/metrics.mts';
import { runScript } from '../lib/processes.mts';
import { createBenchStack, startAnalytics, startGateway } from '../lib/services.mts';
import { CONFIG, progress } from '../lib/settings.mts';
import { round } from '../lib/stats.mts';
import { registerUsers, type BenchUser } from '../lib/users.mts';

const SETTLING_SAMPLE_MS = 250;
const SWEPT_METRIC = 'taskit_outbox_swept_documents_total';

/**
 * Samples the gateway's settle queue through a phase (`taskit_outbox_settling_documents`): its
 * peak, and how long it stood at the relay's bound, where every event's publish waited for
 * settles (docs/adr/settles-behind-the-publishes.md).
 */
function sampleSettling(
  metricsUrl: string,
  bound: number,
): () => Promise<{ max: number; at_bound_s: number }> {
  let max = 0;
  let atBound = 0;
  let stopped = false;
  const sampling = (async () => {
    while (!stopped) {
      // A scrape that fails or times out is a missing sample, not a failed run.
      const [size] = await metricValues(metricsUrl, 'taskit_outbox_settling_documents').catch(
        () => [Number.NaN],
      );
      if (Number.isFinite(size)) max = Math.max(max, size);
      if (size >= bound - 8) atBound += SETTLING_SAMPLE_MS; // 8 settles at a time
      await new Promise((resolve) => setTimeout(resolve, SETTLING_SAMPLE_MS));
    }
  })();
  return async () => {
    stopped = true;
    await sampling;
    return { max, at_bound_s: atBound / 1000 };
  };
}

async function e2ePhase(
  gateway: RunningProcess,
  analytics: RunningProcess,
  stack: IsolatedStack,
  users: BenchUser[],
  ratePerS: number,
  durationS: number,
) {
  const c = CONFIG.e2e;
  progress(
    `e2e: ${ratePerS} task creations/s for ${durationS} s through POST /api/tasks; polling InfluxDB every ${c.pollMs} ms`,
  );
  const job: E2eJob = {
    url: gateway.url,
    users: users.map(({ cookie, csrf }) => ({ cookie, csrf })),
    ratePerS,
    durationS,
    maxInflight: c.maxInflight,
    influxUrl: stack.influxUrl,
    influxDatabase: stack.influxDatabase,
    pollMs: c.pollMs,
    drainTimeoutS: c.drainTimeoutS,
  };
  const metricsUrl = `${gateway.url}/metrics`;
  const [bound, sweptBefore] = await metricValues(
    metricsUrl,
    'taskit_outbox_settling_documents_limit',
    SWEPT_METRIC,
  );
  const settled = sampleSettling(metricsUrl, bound);
  const result = await runScript<E2eResult>('e2e-load', 'e2e-load.mts', job);
  const settling = await settled();
  // Documents the relay's sweep delivered: a failed publish's, or beyond the fast path's queue.
  const [sweptAfter] = await metricValues(metricsUrl, SWEPT_METRIC);
  const swept = sweptAfter - sweptBefore;
  // Where the events waited: until the broker confirmed them (the gateway's relay), and until
  // their point was written (the worker's, which includes the first), both from occurredAt.
  const quantiles = [0.5, 0.9, 0.99];
  const hops = {
    relay_confirmed: await histogramQuantiles(
      `${gateway.url}/metrics`,
      'taskit_outbox_event_publish_lag_seconds',
      quantiles,
    ),
    worker_written: await histogramQuantiles(
      `${analytics.url}/metrics`,
      'taskit_worker_event_lag_seconds',
      quantiles,
    ),
  };
  progress(`  e2e hops from occurredAt (s): ${JSON.stringify(hops)}`);
  progress(
    `  e2e settle queue: peak ${settling.max} documents, ${settling.at_bound_s} s at the relay's bound (${bound}); ${swept} documents swept`,
  );
  progress(
    `  e2e: ${result.created} created (${round(result.achieved_rate_per_s)}/s), lag p50 ${round(result.lag_p50_ms)} ms, ` +
      `p99 ${round(result.lag_p99_ms)} ms, unseen ${result.unseen}`,
  );
  return {
    rate_per_s: ratePerS,
    duration_s: durationS,
    achieved_per_s: round(result.achieved_rate_per_s),
    p50_ms: round(result.lag_p50_ms),
    p99_ms: round(result.lag_p99_ms),
    unseen: result.unseen,
    created: result.created,
    failed: result.failed,
    skipped_inflight_limit: result.skipped_inflight_limit,
    lag_p90_ms: round(result.lag_p90_ms),
    lag_max_ms: round(result.lag_max_ms),
    create_http_p50_ms: round(result.http_p50_ms),
    create_http_p99_ms: round(result.http_p99_ms),
    poll_query_p50_ms: round(result.poll_query_p50_ms),
    status_codes: result.status_codes,
    hops_from_occurred_at_s: hops,
    settling_documents: settling,
    swept_documents: swept,
  };
}

export async function e2ePart() {
  const c = CONFIG.e2e;
  const stack = await createBenchStack('e2e');
  progress(`e2e: isolated stack ${stack.id}; starting analytics (worker), then the gateway`);
  const analytics = await startAnalytics(stack);
  const gateway = await startGateway(stack);
  const users = await registerUsers(gateway.url, c.users, 'e2e');
  const sustained = await e2ePhase(gateway, analytics, stack, users, c.ratePerS, c.durationS);
  const atTarget =
    c.ratePerS < c.targetRatePerS
      ? await e2ePhase(gateway, analytics, stack, users, c.targetRatePerS, c.targetDurationS)
      : undefined;
  await gateway.stop('SIGTERM', 15_000);
  await analytics.stop('SIGTERM', 15_000);
  await stack.cleanup();
  return {
    ...sustained,
    poll_interval_ms: c.pollMs,
    measured:
      'from the 201 response to the first InfluxDB query answer (every 50 ms) holding the worker point of the task',
    ...(atTarget ? { at_target_rate: atTarget } : {}),
  };
}
