/**
 * The `writes` part (CONTRACT section 8): the create → complete → delete loop, one user per
 * connection, with CSRF, against the gateway (outbox relay on) and the raw write handler
 * (raw-writes.mts) on the same isolated stack, alternating rounds.
 */
import type { Child } from './lib/processes.mts';
import { createBenchStack, type BenchStack } from './lib/stack.mts';
import { mean, round } from './lib/stats.mts';
import type { LoadJob, LoadResult } from './load.mts';

type Measured = LoadResult & { cpuMsPerRequest: number };

export interface WritesDeps {
  config: { connections: number; warmupS: number; durationS: number; rounds: number };
  progress(message: string): void;
  startGateway(stack: BenchStack): Promise<Child>;
  startRawServer(stack: BenchStack): Promise<Child>;
  registerUsers(
    baseUrl: string,
    n: number,
    label: string,
  ): Promise<{ cookie: string; csrf: string }[]>;
  measureLoad(name: string, job: LoadJob, pid: number | undefined): Promise<Measured>;
  onCleanup(cleanup: () => Promise<void>): void;
}

export async function runWrites(deps: WritesDeps) {
  const c = deps.config;
  const stack = await createBenchStack('writes');
  deps.onCleanup(() => stack.cleanup());
  deps.progress(`writes: isolated stack ${stack.id}; gateway (relay on) and raw server`);
  const gateway = await deps.startGateway(stack);
  const raw = await deps.startRawServer(stack);
  const users = (await deps.registerUsers(gateway.url, c.connections, 'writes')).map(
    ({ cookie, csrf }) => ({ cookie, csrf }),
  );
  const targets = {
    gateway: { url: gateway.url, path: '/api/tasks', pid: gateway.process.pid },
    raw: { url: raw.url, path: '/raw-writes/api/tasks', pid: raw.process.pid },
  };
  const job = (name: keyof typeof targets, durationS: number): LoadJob => ({
    mode: 'writes',
    url: targets[name].url,
    path: targets[name].path,
    users,
    connections: c.connections,
    durationS,
  });
  const runs: Record<keyof typeof targets, Measured[]> = { gateway: [], raw: [] };
  for (const name of ['gateway', 'raw'] as const) {
    deps.progress(`writes: warm-up ${name} (${c.warmupS} s)`);
    await deps.measureLoad(`writes-warmup-${name}`, job(name, c.warmupS), targets[name].pid);
  }
  for (let r = 0; r < c.rounds; r++) {
    const order = r % 2 === 0 ? (['gateway', 'raw'] as const) : (['raw', 'gateway'] as const);
    for (const name of order) {
      deps.progress(`writes: round ${r + 1}/${c.rounds}, ${name}, ${c.durationS} s`);
      runs[name].push(
        await deps.measureLoad(`writes-${name}`, job(name, c.durationS), targets[name].pid),
      );
    }
  }
  await gateway.stop();
  await raw.stop();
  await stack.cleanup();

  const sum = (rs: Measured[]) => ({
    rps: round(mean(rs.map((r) => r.rps))),
    p50_ms: round(mean(rs.map((r) => r.latencyMs.p50))),
    p99_ms: round(mean(rs.map((r) => r.latencyMs.p99))),
    errors: rs.reduce((s, r) => s + r.non2xx + r.errors, 0),
    cpu_ms_per_request: round(mean(rs.map((r) => r.cpuMsPerRequest)), 3),
    status_codes: rs.reduce<Record<string, number>>((all, r) => {
      for (const [code, n] of Object.entries(r.statusCodes)) all[code] = (all[code] ?? 0) + n;
      return all;
    }, {}),
  });
  const g = sum(runs.gateway);
  const w = sum(runs.raw);
  return {
    gateway_rps: g.rps,
    raw_rps: w.rps,
    ratio: round(g.rps / w.rps, 3),
    gateway_p99_ms: g.p99_ms,
    raw_p99_ms: w.p99_ms,
    errors: g.errors,
    status_codes: g.status_codes,
    raw_errors: w.errors,
    raw_status_codes: w.status_codes,
    gateway_p50_ms: g.p50_ms,
    raw_p50_ms: w.p50_ms,
    gateway_cpu_ms_per_request: g.cpu_ms_per_request,
    raw_cpu_ms_per_request: w.cpu_ms_per_request,
    setup: {
      connections: c.connections,
      warmup_s: c.warmupS,
      duration_s: c.durationS,
      rounds: c.rounds,
      loop: 'POST /api/tasks, PATCH {"done":true}, DELETE; one user per connection, CSRF',
      raw_does_not: 'publish or settle outbox entries (the gateway relay does, in the same run)',
    },
  };
}

export function writesTable(w: Awaited<ReturnType<typeof runWrites>>): string[] {
  return [
    `Writes (create, complete, delete), ${w.setup.connections} connections, ${w.setup.rounds} x ${w.setup.duration_s} s`,
    `gateway ${w.gateway_rps} req/s, p99 ${w.gateway_p99_ms} ms, errors ${w.errors}; ` +
      `raw ${w.raw_rps} req/s, p99 ${w.raw_p99_ms} ms; ratio ${w.ratio}`,
  ];
}
