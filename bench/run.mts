/**
 * `npm run bench` (docs/api.md, Benchmark results): the gateway against a raw node:http handler (reads
 * and writes), the analytics worker against Telegraf, and the end-to-end event lag, all
 * measured in one run on this machine. Prints a table, writes .bench/results.json and
 * .bench/results.md. Options and sizes: lib/settings.mts; the parts: parts/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApps } from '../tools/stack/apps.mts';
import { ensureGoBinary } from '../tools/stack/go-build.mts';
import { ensureBackingServices, stopBackingServices } from '../tools/stack/services.mts';
import { TELEGRAF } from '../tools/stack/versions.mts';
import { BENCH_DIR, stopEverything } from './lib/processes.mts';
import { gitState, goals, machine, markdown, table, type Results } from './lib/report.mts';
import { CPU_PROF, PARTS, PROFILE_DIR, progress, QUICK, SKIP_BUILD } from './lib/settings.mts';
import { nowMs, round } from './lib/stats.mts';
import { cappedListPart } from './parts/capped-list.mts';
import { e2ePart } from './parts/e2e.mts';
import { httpPart } from './parts/http.mts';
import { neighbourPart } from './parts/neighbour.mts';
import { pipelinePart } from './parts/pipeline.mts';
import { writesPart } from './parts/writes.mts';

let startedServices: string[] = [];

async function cleanUp(): Promise<void> {
  await stopEverything(progress);
  await stopBackingServices(startedServices);
}

async function main(): Promise<void> {
  const started = nowMs();
  const startedAt = new Date().toISOString();
  mkdirSync(BENCH_DIR, { recursive: true });
  if (CPU_PROF) mkdirSync(PROFILE_DIR, { recursive: true });
  progress(`parts: ${[...PARTS].join(', ')}${QUICK ? ' (quick)' : ''}`);
  startedServices = await ensureBackingServices();
  const telegrafBinary = await ensureGoBinary(TELEGRAF);
  if (!SKIP_BUILD) await buildApps();

  const m = machine();
  const results: Results = {
    machine: m.summary,
    machine_details: m.details,
    started_at: startedAt,
    git: gitState(),
  };
  if (PARTS.has('http')) results.http = await httpPart();
  if (PARTS.has('writes')) results.writes = await writesPart();
  if (PARTS.has('pipeline')) results.pipeline = await pipelinePart(telegrafBinary);
  if (PARTS.has('e2e')) results.e2e = await e2ePart();
  if (PARTS.has('neighbour')) results.neighbour = await neighbourPart(telegrafBinary);
  // Its figures belong to the noisy-neighbour block, beside that part's.
  if (PARTS.has('capped-list')) {
    results.neighbour = { ...results.neighbour, ...(await cappedListPart()) };
  }
  results.run_seconds = round((nowMs() - started) / 1000);
  results.goals = goals(results);

  const text = table(results);
  writeFileSync(join(BENCH_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(BENCH_DIR, 'results.md'), markdown(results, text));
  process.stdout.write(
    `\n${text}\n\nwritten: .bench/results.json, .bench/results.md (${String(results.run_seconds)} s)\n`,
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping what the benchmark started`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await cleanUp();
}
