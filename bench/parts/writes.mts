/**
 * The `writes` part (docs/api.md, Benchmark results): the create → complete → delete loop, one user per
 * connection, with CSRF, against the gateway (outbox relay on) and the raw write handler
 * (raw-writes.mts) on the same isolated stack, alternating rounds.
 */
import type { LoadJob } from '../load.mts';
import { measureLoad, summarize, type Measured } from '../lib/measure.mts';
import { createBenchStack, startGateway, startRawServer } from '../lib/services.mts';
import { CONFIG, progress } from '../lib/settings.mts';
import { round } from '../lib/stats.mts';
import { registerUsers } from '../lib/users.mts';

export async function writesPart() {
  const c = CONFIG.writes;
  const stack = await createBenchStack('writes');
  progress(`writes: isolated stack ${stack.id}; gateway (relay on) and raw server`);
  const gateway = await startGateway(stack);
  const raw = await startRawServer(stack);
  const users = (await registerUsers(gateway.url, c.connections, 'writes')).map(
    ({ cookie, csrf }) => ({ cookie, csrf }),
  );
  const targets = {
    gateway: { url: gateway.url, path: '/api/tasks', pid: gateway.child.pid },
    raw: { url: raw.url, path: '/raw-writes/api/tasks', pid: raw.child.pid },
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
    progress(`writes: warm-up ${name} (${c.warmupS} s)`);
    await measureLoad(`writes-warmup-${name}`, job(name, c.warmupS), targets[name].pid);
  }
  for (let r = 0; r < c.rounds; r++) {
    const order = r % 2 === 0 ? (['gateway', 'raw'] as const) : (['raw', 'gateway'] as const);
    for (const name of order) {
      progress(`writes: round ${r + 1}/${c.rounds}, ${name}, ${c.durationS} s`);
      runs[name].push(
        await measureLoad(`writes-${name}`, job(name, c.durationS), targets[name].pid),
      );
    }
  }
  await gateway.stop('SIGTERM', 15_000);
  await raw.stop('SIGTERM', 15_000);
  await stack.cleanup();

  const sum = (rs: Measured[]) => ({
    ...summarize(rs),
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

export function writesTable(w: Awaited<ReturnType<typeof writesPart>>): string[] {
  return [
    `Writes (create, complete, delete), ${w.setup.connections} connections, ${w.setup.rounds} x ${w.setup.duration_s} s`,
    `gateway ${w.gateway_rps} req/s, p99 ${w.gateway_p99_ms} ms, errors ${w.errors}; ` +
      `raw ${w.raw_rps} req/s, p99 ${w.raw_p99_ms} ms; ratio ${w.ratio}`,
  ];
}
