import type { ChaosEntry } from './scenarios';

/** Longest `recovered_s` a scenario may take (README, Reliability: the goal of the fault runs). */
export const RECOVERY_BOUND_S = 15;

/**
 * Faults that leave every gateway able to serve (docs/operations.md, Readiness): the broker's
 * and InfluxDB's outages are absorbed by the outbox and the queues, so the gateways stay
 * ready and no request may get a 5xx.
 */
export const SERVED_THROUGHOUT = [
  'broker-restart',
  'worker-kill',
  'influx-outage',
  'gateway-sigterm',
  'poison',
];

/** What is wrong with one scenario's result; empty when it met every goal. */
export function scenarioProblems(entry: ChaosEntry): string[] {
  if (entry.notes.startsWith('FAILED')) return [`did not run to its end (${entry.notes})`];
  const problems: string[] = [];
  if (entry.lost > 0) problems.push(`lost ${entry.lost} event(s)`);
  if (entry.duplicates > 0) problems.push(`duplicated ${entry.duplicates} event(s)`);
  if (entry.balancer !== 'readiness') problems.push('requests were not routed by readiness');
  if (SERVED_THROUGHOUT.includes(entry.scenario)) {
    if (entry.http_5xx > 0) problems.push(`answered ${entry.http_5xx} 5xx`);
  } else {
    // While MongoDB or Redis is away: the gateways' 503, or the balancer's 502 once none is ready.
    const other5xx = entry.http_5xx - entry.http_503 - entry.no_ready_gateway;
    if (other5xx > 0) problems.push(`answered ${other5xx} 5xx other than 503`);
  }
  if (entry.dropped_connections > 0) {
    problems.push(`dropped ${entry.dropped_connections} request(s) without an answer`);
  }
  if (entry.recovered_s === null) problems.push('never recovered');
  else if (entry.recovered_s > RECOVERY_BOUND_S) {
    problems.push(`recovered in ${entry.recovered_s} s (bound ${RECOVERY_BOUND_S} s)`);
  }
  return problems;
}

/** Every problem of a run, each prefixed with its scenario: the run fails unless empty. */
export function runProblems(entries: ChaosEntry[]): string[] {
  return entries.flatMap((entry) =>
    scenarioProblems(entry).map((problem) => `${entry.scenario}: ${problem}`),
  );
}

/**
 * The scenarios `CHAOS_SCENARIOS` (comma-separated names) asks for, in the order of `all`; all of
 * them when it is unset or empty. A name that matches no scenario is an error, so a typo can
 * never make a run that tests nothing pass.
 */
export function selectScenarios<T extends { name: string }>(
  all: readonly T[],
  wanted: string | undefined,
): T[] {
  const names = (wanted ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) return [...all];
  const unknown = names.filter((name) => !all.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `CHAOS_SCENARIOS names no such scenario: ${unknown.join(', ')} ` +
        `(known: ${all.map((s) => s.name).join(', ')})`,
    );
  }
  return all.filter((scenario) => names.includes(scenario.name));
}
