import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/test-environment';
import { ChaosStack } from './chaos-stack';
import { runScenario, SCENARIOS, SETTINGS, type ChaosEntry, type Scenario } from './scenarios';
import { runProblems, scenarioProblems, selectScenarios } from './verdict';

/**
 * `npm run chaos` (docs/reliability.md): each scenario under a steady load of task writes on a
 * stack of private servers; prints a table and writes .bench/chaos.json, then fails if a
 * scenario missed a goal (test/chaos/verdict.ts: an event lost or duplicated, any 5xx while
 * the gateways' own dependencies were up, a 5xx other than 503 or the balancer's 502 while
 * they were not, a recovery slower than 15 s). `CHAOS_SCENARIOS=poison,worker-kill npm run chaos` runs a
 * subset; a name that matches no scenario fails the run before the stack starts.
 */
const OUTPUT = join(REPO_ROOT, '.bench', 'chaos.json');

const COLUMNS: [keyof ChaosEntry, string][] = [
  ['scenario', 'scenario'],
  ['requests', 'requests'],
  ['http_5xx', '5xx'],
  ['http_503', '503'],
  ['no_ready_gateway', 'no pod'],
  ['http_401', '401'],
  ['events_expected', 'expected'],
  ['events_in_influx_worker', 'worker'],
  ['events_in_influx_telegraf', 'telegraf'],
  ['lost', 'lost'],
  ['duplicates', 'dupl.'],
  ['partial_writes', 'partial'],
  ['dropped_connections', 'dropped'],
  ['recovered_s', 'recovered s'],
];

export function table(entries: ChaosEntry[]): string {
  const cell = (entry: ChaosEntry, key: keyof ChaosEntry) => String(entry[key] ?? '-');
  const widths = COLUMNS.map(([key, title]) =>
    Math.max(title.length, ...entries.map((e) => cell(e, key).length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [
    line(COLUMNS.map(([, title]) => title)),
    `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...entries.map((e) => line(COLUMNS.map(([key]) => cell(e, key)))),
  ].join('\n');
}

/** A scenario that could not run to its end: reported, with no figures. */
function failedEntry(scenario: string, error: Error): ChaosEntry {
  process.stdout.write(`[chaos] ${scenario} failed: ${error.stack ?? error.message}\n`);
  return {
    scenario,
    requests: 0,
    http_5xx: 0,
    events_expected: 0,
    events_in_influx_worker: 0,
    events_in_influx_telegraf: 0,
    lost: 0,
    duplicates: 0,
    recovered_s: null,
    balancer: 'readiness',
    no_ready_gateway: 0,
    http_503: 0,
    http_401: 0,
    http_other_4xx: 0,
    dropped_connections: 0,
    writes_ok: 0,
    partial_writes: 0,
    writes_ok_after_s: null,
    drained_after_s: null,
    events_unconfirmed: 0,
    fault_s: 0,
    notes: `FAILED: ${error.message.split('\n')[0]}`,
  };
}

describe('chaos: fault runs under load (npm run chaos)', () => {
  let chaos: ChaosStack | undefined;
  let scenarios: Scenario[] = [];

  beforeAll(async () => {
    scenarios = selectScenarios(SCENARIOS, process.env.CHAOS_SCENARIOS);
    chaos = await ChaosStack.start();
  }, 240_000);

  afterAll(async () => {
    await chaos?.stop();
  }, 120_000);

  it('runs every scenario, writes .bench/chaos.json, and each met its goals', async () => {
    const entries: ChaosEntry[] = [];
    for (const scenario of scenarios) {
      process.stdout.write(`[chaos] ${scenario.name}: running\n`);
      const entry = await runScenario(chaos!, scenario).catch((error: Error): ChaosEntry =>
        failedEntry(scenario.name, error),
      );
      entries.push(entry);
      process.stdout.write(`[chaos] ${scenario.name}: ${JSON.stringify(entry)}\n`);
      if (scenarioProblems(entry).length > 0) {
        process.stdout.write(`${chaos!.diagnostics()}\n`);
      }
    }
    mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
    writeFileSync(OUTPUT, `${JSON.stringify(entries, null, 2)}\n`);
    process.stdout.write(
      `\nFault runs (${SETTINGS.users} users, one request each per ${SETTINGS.pauseMs} ms + latency):\n` +
        `${table(entries)}\n\nwritten to ${OUTPUT}\n`,
    );

    expect(existsSync(OUTPUT)).toBe(true);
    const written = JSON.parse(readFileSync(OUTPUT, 'utf8')) as ChaosEntry[];
    expect(written.map((e) => e.scenario)).toEqual(scenarios.map((s) => s.name));
    for (const entry of written) {
      expect(Object.keys(entry)).toEqual(
        expect.arrayContaining([
          'scenario',
          'requests',
          'http_5xx',
          'events_expected',
          'events_in_influx_worker',
          'events_in_influx_telegraf',
          'lost',
          'duplicates',
          'recovered_s',
          'balancer',
        ]),
      );
    }
    expect(written.map((e) => e.balancer)).toEqual(written.map(() => 'readiness'));
    // Each scenario ran to its end and met its goals; the problems are named per scenario.
    expect(runProblems(written)).toEqual([]);
  }, 900_000);
});
