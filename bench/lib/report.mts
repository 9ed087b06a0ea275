/** What a run prints and writes: the machine, the code, the table and .bench/results.md. */
import { execFileSync } from 'node:child_process';
import { cpus, freemem, release, totalmem, type } from 'node:os';
import { REPO_ROOT } from '../../tools/stack/paths.mts';
import type { cappedListPart } from '../parts/capped-list.mts';
import type { e2ePart } from '../parts/e2e.mts';
import type { httpPart } from '../parts/http.mts';
import { neighbourTable, type neighbourPart } from '../parts/neighbour.mts';
import type { pipelinePart } from '../parts/pipeline.mts';
import { writesTable, type writesPart } from '../parts/writes.mts';
import { CONFIG } from './settings.mts';
import { round } from './stats.mts';

export function machine() {
  const cpu = cpus();
  const details = {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memory_gib: round(totalmem() / 2 ** 30, 1),
    free_memory_gib_at_start: round(freemem() / 2 ** 30, 1),
    os: `${type()} ${release()}`,
    node: process.version,
  };
  return {
    summary: `${details.cpu}, ${details.cores} cores, ${details.memory_gib} GiB, ${details.os}, Node ${details.node}`,
    details,
  };
}

export function gitState(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT })
      .toString()
      .trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT }).toString().trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: true };
  }
}

export type Results = Record<string, unknown> & {
  http?: Awaited<ReturnType<typeof httpPart>>;
  writes?: Awaited<ReturnType<typeof writesPart>>;
  pipeline?: Awaited<ReturnType<typeof pipelinePart>>;
  e2e?: Awaited<ReturnType<typeof e2ePart>>;
  neighbour?: Partial<Awaited<ReturnType<typeof cappedListPart>>> &
    Partial<Awaited<ReturnType<typeof neighbourPart>>>;
};

export function table(results: Results): string {
  const lines: string[] = [];
  const row = (cells: (string | number)[], widths: number[]) =>
    cells
      .map((cell, i) =>
        i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]),
      )
      .join('  ');
  const h = results.http;
  if (h) {
    const w = [26, 9, 8, 8, 8, 11];
    lines.push(
      `HTTP GET /api/tasks: ${h.setup.users} users x ${h.setup.tasks_per_user} tasks, ${h.setup.connections} connections, ` +
        `${h.setup.rounds} x ${h.setup.duration_s} s per target after ${h.setup.warmup_s} s warm-up`,
    );
    lines.push(row(['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'CPU ms/req'], w));
    const t = h.per_target;
    const targets: [string, typeof t.gateway][] = [
      ['gateway', t.gateway],
      ['raw, same I/O', t.raw],
      ['raw without cache', t.raw_without_cache],
      [`cache missed, ${h.uncached_connections} conns`, t.gateway_uncached],
      ['cache missed, saturated', t.gateway_uncached_saturated],
    ];
    for (const [label, m] of targets) {
      lines.push(row([label, m.rps, m.p50_ms, m.p99_ms, m.errors, m.cpu_ms_per_request], w));
    }
    lines.push(
      `ratio gateway/raw ${h.ratio} (p99 x${h.p99_ratio}); gateway/raw-without-cache ${h.ratio_vs_raw_without_cache} (p99 x${h.p99_ratio_vs_raw_without_cache})`,
    );
    lines.push('');
  }
  const wr = results.writes;
  if (wr) lines.push(...writesTable(wr), '');
  const p = results.pipeline;
  if (p) {
    const w = [26, 11, 12, 10, 6, 11];
    lines.push(`Pipeline: ${p.events} events backlog, each consumer drains alone into InfluxDB`);
    lines.push(row(['consumer', 'events/s', 'drain s', 'startup s', 'lost', 'duplicates'], w));
    lines.push(
      row(
        [
          'analytics worker',
          p.worker_eps,
          p.worker.seconds_from_first_consumption,
          p.worker.startup_s,
          p.verification.worker.lost,
          p.verification.worker.duplicates,
        ],
        w,
      ),
    );
    lines.push(
      row(
        [
          'Telegraf',
          p.telegraf_eps,
          p.telegraf.seconds_from_first_consumption,
          p.telegraf.startup_s,
          p.verification.telegraf.lost,
          p.verification.telegraf.duplicates,
        ],
        w,
      ),
    );
    lines.push(`ratio worker/Telegraf ${p.ratio}`);
    lines.push('');
  }
  const e = results.e2e;
  if (e) {
    lines.push(
      `End-to-end lag (201 -> point queryable, worker path): target ${e.rate_per_s}/s for ${e.duration_s} s, ` +
        `achieved ${e.achieved_per_s}/s (${e.created} created, ${e.failed} failed, ${e.unseen} unseen)`,
    );
    lines.push(
      `lag p50 ${e.p50_ms} ms, p90 ${e.lag_p90_ms} ms, p99 ${e.p99_ms} ms, max ${e.lag_max_ms} ms; POST p50 ${e.create_http_p50_ms} ms, p99 ${e.create_http_p99_ms} ms`,
    );
    const t = e.at_target_rate;
    if (t) {
      lines.push(
        `at ${t.rate_per_s}/s for ${t.duration_s} s: achieved ${t.achieved_per_s}/s, lag p50 ${t.p50_ms} ms, ` +
          `p99 ${t.p99_ms} ms, max ${t.lag_max_ms} ms, ${t.unseen} unseen after the ${CONFIG.e2e.drainTimeoutS} s drain`,
      );
    }
  }
  const n = results.neighbour;
  if (n?.setup) lines.push('', ...neighbourTable(n as Awaited<ReturnType<typeof neighbourPart>>));
  const capped = results.neighbour?.capped_list;
  if (capped) {
    lines.push(
      '',
      `Capped list: ${capped.tasks} tasks (a create beyond answered ${capped.create_beyond_cap_status}), ${capped.pages} pages of ${capped.page_tasks}; ` +
        `first page ${capped.page_tasks} tasks = ${results.neighbour?.capped_list_page_bytes} bytes, ` +
        `${capped.connections} connections: ${capped.cached_rps} req/s, p50 ${capped.cached_p50_ms} ms, p99 ${capped.cached_p99_ms} ms; ` +
        `after a write (miss) p50 ${capped.miss_p50_ms} ms, p99 ${capped.miss_p99_ms} ms`,
      `Bulk changes over the list (${capped.bulk_changes.operations.join(', ')}): answered in ` +
        `${capped.bulk_changes.answer_s.join(', ')} s, relay drained in ${capped.bulk_changes.relay_drain_s.join(', ')} s, ` +
        `readiness ${capped.bulk_changes.readiness_failures} failed of ${capped.bulk_changes.readiness_probes} probes`,
    );
  }
  return lines.join('\n');
}

export function markdown(results: Results, text: string): string {
  return [
    '# Taskit benchmark results',
    '',
    `- when: ${String(results.started_at)} (${String(results.run_seconds)} s)`,
    `- machine: ${String(results.machine)}`,
    `- code: ${JSON.stringify(results.git)}`,
    '',
    '```',
    text,
    '```',
    '',
    'Full figures: `.bench/results.json`. How it is measured: README.md, "Performance".',
    '',
  ].join('\n');
}

/** The goals, each true, false, or null when its part did not run. */
export function goals(results: Results): Record<string, boolean | null> {
  const e2e = results.e2e ? (results.e2e.at_target_rate ?? results.e2e) : undefined;
  return {
    'http ratio >= 0.7': results.http ? results.http.ratio >= 0.7 : null,
    'http p99 <= 1.5x raw': results.http ? results.http.p99_ratio <= 1.5 : null,
    'http uncached p99 < 20 ms': results.http ? results.http.uncached_p99_ms < 20 : null,
    'writes ratio >= 0.8, 0 errors': results.writes
      ? results.writes.ratio >= 0.8 && results.writes.errors === 0
      : null,
    'pipeline ratio >= 1.0, 0 lost, 0 duplicates': results.pipeline
      ? results.pipeline.ratio >= 1 &&
        results.pipeline.lost === 0 &&
        results.pipeline.duplicates === 0
      : null,
    'e2e p99 < 1000 ms at 200/s': e2e
      ? e2e.p99_ms < 1000 && e2e.achieved_per_s >= 190 && e2e.unseen === 0
      : null,
    'neighbour p99 <= 1.5x alone, 0 errors, lost 0, dup 0':
      results.neighbour?.p99_ratio !== undefined
        ? results.neighbour.p99_ratio <= 1.5 &&
          results.neighbour.errors === 0 &&
          results.neighbour.lost === 0 &&
          results.neighbour.duplicates === 0
        : null,
    'bulk changes at the task cap answered within 5 s': results.neighbour?.capped_list
      ? results.neighbour.capped_list.bulk_changes.answer_s.every((s) => s <= 5)
      : null,
  };
}
