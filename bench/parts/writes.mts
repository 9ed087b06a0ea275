/**
 * The `writes` part (docs/api.md, Benchmark results): the create → complete → delete loop, one user per
 * connection, with CSRF, against the gateway (outbox relay on) and the raw write handler
 * (raw-writes.mts) on the same isolated stack, alternating rounds. A third target, measured in
 * the same rounds, splits the gap between them: a second gateway whose broker is unreachable, so
 * that its relay neither publishes nor settles and every event waits in its outbox, as the raw
 * handler's do (docs/performance.md, The writes ratio). It writes to a stack of its own, so that
 * the first gateway's relay never picks up its events.
 */
import type { LoadJob } from '../load.mts';
import { measureLoad, summarize, type Measured } from '../lib/measure.mts';
import { freePort } from '../../libs/testing/src/ports.ts';
import { createBenchStack, startGateway, startRawServer } from '../lib/services.mts';
import { CONFIG, progress } from '../lib/settings.mts';
import { round } from '../lib/stats.mts';
import { copyTaskIndexes } from '../lib/task-indexes.mts';
import { registerUsers } from '../lib/users.mts';

export async function writesPart() {
  const c = CONFIG.writes;
  const stack = await createBenchStack('writes');
  progress(
    `writes: isolated stack ${stack.id}; gateway (relay on), raw server, gateway with the broker down`,
  );
  const gateway = await startGateway(stack);
  // The raw handler's tasks go to a database of their own, with the gateway's indexes: in the
  // gateway's, its relay's sweep would find their outbox entries (pending, never settled) and
  // publish and settle them, work of neither target done during both targets' rounds. Its
  // sessions are the gateway's.
  const rawStack = await createBenchStack('writes-raw');
  await copyTaskIndexes(stack.mongodbUri, rawStack.mongodbUri);
  const raw = await startRawServer(stack, rawStack.mongodbUri);
  const brokerDownStack = await createBenchStack('writes-broker-down');
  const brokerDown = await startGateway(
    brokerDownStack,
    { RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${await freePort()}` },
    'gateway-broker-down',
  );
  const signedIn = async (url: string) =>
    (await registerUsers(url, c.connections, 'writes')).map(({ cookie, csrf }) => ({
      cookie,
      csrf,
    }));
  const users = await signedIn(gateway.url);
  const targets = {
    gateway: { url: gateway.url, path: '/api/tasks', pid: gateway.child.pid, users },
    raw: { url: raw.url, path: '/raw-writes/api/tasks', pid: raw.child.pid, users },
    broker_down: {
      url: brokerDown.url,
      path: '/api/tasks',
      pid: brokerDown.child.pid,
      users: await signedIn(brokerDown.url),
    },
  };
  const job = (name: keyof typeof targets, durationS: number): LoadJob => ({
    mode: 'writes',
    url: targets[name].url,
    path: targets[name].path,
    users: targets[name].users,
    connections: c.connections,
    durationS,
  });
  const runs: Record<keyof typeof targets, Measured[]> = { gateway: [], raw: [], broker_down: [] };
  for (const name of ['gateway', 'raw', 'broker_down'] as const) {
    progress(`writes: warm-up ${name} (${c.warmupS} s)`);
    await measureLoad(`writes-warmup-${name}`, job(name, c.warmupS), targets[name].pid);
  }
  for (let r = 0; r < c.rounds; r++) {
    // The raw handler's round always follows one of the two gateways, whose relay may still be
    // settling the previous round's events (the one with the broker down has nothing to settle).
    const order =
      r % 2 === 0
        ? (['gateway', 'raw', 'broker_down'] as const)
        : (['broker_down', 'raw', 'gateway'] as const);
    for (const name of order) {
      progress(`writes: round ${r + 1}/${c.rounds}, ${name}, ${c.durationS} s`);
      runs[name].push(
        await measureLoad(`writes-${name}`, job(name, c.durationS), targets[name].pid),
      );
    }
  }
  await gateway.stop('SIGTERM', 15_000);
  await raw.stop('SIGTERM', 15_000);
  await brokerDown.stop('SIGTERM', 15_000);
  await stack.cleanup();
  await rawStack.cleanup();
  await brokerDownStack.cleanup();

  const sum = (rs: Measured[]) => ({
    ...summarize(rs),
    status_codes: rs.reduce<Record<string, number>>((all, r) => {
      for (const [code, n] of Object.entries(r.statusCodes)) all[code] = (all[code] ?? 0) + n;
      return all;
    }, {}),
  });
  const g = sum(runs.gateway);
  const w = sum(runs.raw);
  const d = sum(runs.broker_down);
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
    broker_down_rps: d.rps,
    broker_down_ratio: round(d.rps / w.rps, 3),
    broker_down_p99_ms: d.p99_ms,
    broker_down_errors: d.errors,
    broker_down_cpu_ms_per_request: d.cpu_ms_per_request,
    setup: {
      connections: c.connections,
      warmup_s: c.warmupS,
      duration_s: c.durationS,
      rounds: c.rounds,
      loop: 'POST /api/tasks, PATCH {"done":true}, DELETE; one user per connection, CSRF',
      raw_does_not: 'publish or settle outbox entries (the gateway relay does, in the same run)',
      broker_down:
        'a second gateway on a stack of its own, its broker unreachable: its relay publishes and settles nothing',
    },
  };
}

export function writesTable(w: Awaited<ReturnType<typeof writesPart>>): string[] {
  return [
    `Writes (create, complete, delete), ${w.setup.connections} connections, ${w.setup.rounds} x ${w.setup.duration_s} s`,
    `gateway ${w.gateway_rps} req/s, p99 ${w.gateway_p99_ms} ms, errors ${w.errors}; ` +
      `raw ${w.raw_rps} req/s, p99 ${w.raw_p99_ms} ms; ratio ${w.ratio}`,
    `gateway with the broker down (nothing published or settled) ${w.broker_down_rps} req/s, ` +
      `p99 ${w.broker_down_p99_ms} ms, errors ${w.broker_down_errors}; ratio ${w.broker_down_ratio}`,
  ];
}
