import { ANALYTICS_EVENTS_DLQ, ANALYTICS_EVENTS_QUEUE } from '@taskit/contracts';
import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { mongo } from 'mongoose';
import { queueDepth } from '../support/pipeline';
import { waitFor } from '../support/processes';
import {
  allPresent,
  influxPoints,
  resolveUncertain,
  SOURCES,
  tally,
  type Source,
} from './accounting';
import type { ChaosStack } from './chaos-stack';
import { Load, Pods, sleep, type SimUser } from './load';

/** The entry of docs/reliability.md (Fault runs), plus extra fields that explain the figures. */
export interface ChaosEntry {
  scenario: string;
  requests: number;
  http_5xx: number;
  events_expected: number;
  events_in_influx_worker: number;
  events_in_influx_telegraf: number;
  lost: number;
  duplicates: number;
  recovered_s: number | null;
  /** How requests were routed: only to gateways whose readiness probe passes. */
  balancer: 'readiness';
  /** Requests the balancer answered 502 itself because no gateway was ready (in http_5xx). */
  no_ready_gateway: number;
  http_503: number;
  http_401: number;
  http_other_4xx: number;
  dropped_connections: number;
  writes_ok: number;
  partial_writes: number;
  /** Seconds from the return until the first write sent after it succeeded. */
  writes_ok_after_s: number | null;
  /** Seconds from the return until every event of a 2xx before it was in both sources. */
  drained_after_s: number | null;
  events_unconfirmed: number;
  fault_s: number;
  notes: string;
}

export const SETTINGS = {
  // About 20 × 7 = 140 writes/s offered, over 100/s also in mongo-outage, where writes wait
  // 5 s for the driver's server selection.
  users: 20,
  /** Pause between two requests of one user. */
  pauseMs: 100,
  warmupMs: 5_000,
  /** Load that goes on after the dependency returned. */
  afterMs: 10_000,
  /** How long after its return a dependency may take to drain everything before we give up. */
  drainTimeoutMs: 90_000,
};

interface FaultResult {
  /** When the fault began and when the dependency was back (ms since the epoch). */
  faultAt: number;
  returnedAt: number;
  notes?: string;
}

export interface Scenario {
  name: string;
  fault(stack: ChaosStack, context: { pods: Pods; load: Load }): Promise<FaultResult>;
}

const WORKER_QUEUE = ANALYTICS_EVENTS_QUEUE;
const WORKER_DLQ = ANALYTICS_EVENTS_DLQ;

/** Malformed messages of every kind the event schema (docs/api.md) rules out, some naming a real user. */
function poisonMessages(userId: string): string[] {
  const valid = () => ({
    eventId: randomUUID(),
    type: 'task.created',
    taskId: 'poison-task',
    userId,
    occurredAt: new Date().toISOString().replace('Z', '123456Z'),
    version: 1,
  });
  const wrap = (data: unknown, pattern = 'task.created') => JSON.stringify({ pattern, data });
  const bodies = [
    'not json at all',
    '',
    '[]',
    'null',
    '{"pattern":"task.created"',
    JSON.stringify({ pattern: 'task.created' }),
    JSON.stringify({ data: valid() }),
    wrap(valid(), 'task.exploded'),
    wrap({ ...valid(), type: 'task.deleted' }),
    wrap({ ...valid(), version: 2 }),
    wrap({ ...valid(), version: '1' }),
    wrap({ ...valid(), occurredAt: 'yesterday' }),
    wrap({ ...valid(), occurredAt: 1_700_000_000_000 }),
    wrap({ ...valid(), eventId: undefined }),
    wrap({ ...valid(), userId: { $gt: '' } }),
    wrap({ ...valid(), taskId: 'x'.repeat(10_000) }),
    wrap({ ...valid(), userId: 'a b' }),
    wrap([valid()]),
    JSON.stringify({ pattern: 'task.created', data: 'string' }),
    `{"pattern":"task.created","data":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
  ];
  // Each kind a few times (50 messages in all).
  return Array.from({ length: 50 }, (_, i) => bodies[i % bodies.length]);
}

/** Expiry times (ms) of the relay's outbox leases. */
async function outboxLeases(mongodbUri: string): Promise<number[]> {
  const client = new mongo.MongoClient(mongodbUri, { serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  try {
    const leases = await client.db().collection('outbox_leases').find().toArray();
    return leases.map((lease) => new Date(lease.until as Date).getTime());
  } finally {
    await client.close();
  }
}

/** Polls a queue's ready count until it is below `count` (a consumer took deliveries). */
async function readyCountDropsBelow(
  amqpUrl: string,
  queue: string,
  count: number,
): Promise<number> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const { messageCount } = await channel.checkQueue(queue);
      if (messageCount < count) return messageCount;
      await sleep(2);
    }
    throw new Error(`${queue} was not consumed within 60 s`);
  } finally {
    await connection.close();
  }
}

async function injectPoison(amqpUrl: string, bodies: string[]): Promise<void> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    for (const body of bodies) {
      channel.sendToQueue(WORKER_QUEUE, Buffer.from(body), {
        persistent: true,
        contentType: 'application/json',
        messageId: randomUUID(),
      });
    }
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close();
  }
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'broker-restart',
    async fault(chaos) {
      const faultAt = Date.now();
      await chaos.servers.rabbitmq.stopApp();
      await sleep(20_000);
      await chaos.servers.rabbitmq.startApp();
      return { faultAt, returnedAt: Date.now(), notes: 'rabbitmqctl stop_app, 20 s, start_app' };
    },
  },
  {
    name: 'worker-kill',
    async fault(chaos) {
      const faultAt = Date.now();
      await chaos.analytics?.stop('SIGKILL');
      // A backlog builds in analytics.task-events while no worker runs.
      await sleep(10_000);
      const backlog = await queueDepth(chaos.stack.rabbitmqUrl, WORKER_QUEUE);
      // Small batches make the drain take long enough to kill the worker in the middle of it:
      // once half the backlog has been delivered to it.
      const second = await chaos.spawnAnalytics({
        INGEST_BATCH_SIZE: '10',
        INGEST_PREFETCH: '20',
        INGEST_BATCH_WAIT_MS: '0',
      });
      const readyAtKill = await readyCountDropsBelow(
        chaos.stack.rabbitmqUrl,
        WORKER_QUEUE,
        Math.ceil(backlog / 2),
      );
      await second.stop('SIGKILL');
      await chaos.startAnalytics();
      return {
        faultAt,
        returnedAt: Date.now(),
        notes: `SIGKILL, 10 s down (backlog ${backlog}), restarted, SIGKILL mid-drain (${readyAtKill} of them not yet delivered), restarted`,
      };
    },
  },
  {
    name: 'influx-outage',
    async fault(chaos) {
      const faultAt = Date.now();
      await chaos.servers.influxdb.pause();
      await sleep(20_000);
      await chaos.servers.influxdb.resume();
      return { faultAt, returnedAt: Date.now(), notes: 'influxd stopped (SIGTERM) for 20 s' };
    },
  },
  {
    name: 'redis-restart',
    async fault(chaos) {
      const faultAt = Date.now();
      await chaos.servers.redis.pause();
      await sleep(5_000);
      await chaos.servers.redis.resume();
      return {
        faultAt,
        returnedAt: Date.now(),
        notes: 'redis-server stopped for 5 s, restarted empty (sessions gone: 401, sign in again)',
      };
    },
  },
  {
    name: 'gateway-sigterm',
    async fault(chaos, { pods, load }) {
      const faultAt = Date.now();
      const victim = chaos.gateways[0];
      // As Kubernetes does: the pod leaves the load balancer's endpoints when it starts
      // terminating (the deployment's preStop pause covers the endpoints' update), and SIGTERM
      // reaches it with requests still in flight. Without that, a connection racing the
      // listener's close is reset by the kernel: no server can answer it.
      pods.remove(victim.url);
      const sigtermAt = Date.now();
      const exitCode = await victim.stop('SIGTERM');
      const inFlight = load.ops.filter(
        (op) => op.pod === victim.url && op.start <= sigtermAt && op.end >= sigtermAt,
      );
      const answered = inFlight.filter((op) => op.outcome === 'ok').length;
      const replacement = await chaos.startGateway();
      chaos.gateways[0] = replacement;
      pods.add(replacement.url);
      return {
        faultAt,
        returnedAt: Date.now(),
        notes:
          `out of the load balancer, then SIGTERM (exit code ${exitCode}) with ` +
          `${inFlight.length} requests in flight, ${answered} of them answered 2xx; replaced by a new one`,
      };
    },
  },
  {
    name: 'poison',
    async fault(chaos, { load }) {
      const before = await queueDepth(chaos.stack.rabbitmqUrl, WORKER_DLQ);
      const bodies = poisonMessages(load.users[0].id);
      const faultAt = Date.now();
      await injectPoison(chaos.stack.rabbitmqUrl, bodies);
      await waitFor(
        'every poison message in the dead-letter queue',
        async () =>
          (await queueDepth(chaos.stack.rabbitmqUrl, WORKER_DLQ)) - before >= bodies.length,
        30_000,
        100,
      );
      const deadLettered = (await queueDepth(chaos.stack.rabbitmqUrl, WORKER_DLQ)) - before;
      return {
        faultAt,
        returnedAt: faultAt,
        notes: `${bodies.length} malformed messages into ${WORKER_QUEUE}; ${deadLettered} dead-lettered`,
      };
    },
  },
  {
    name: 'mongo-outage',
    async fault(chaos) {
      const faultAt = Date.now();
      await chaos.servers.ferretdb.pause();
      await sleep(10_000);
      await chaos.servers.ferretdb.resume();
      const returnedAt = Date.now();
      // Outbox leases left behind by relay passes that MongoDB's disappearance cut short.
      const leases = await outboxLeases(chaos.stack.mongodbUri).catch(() => []);
      const left = leases.map((until) => Math.round((until - returnedAt) / 1000));
      return {
        faultAt,
        returnedAt,
        notes:
          `FerretDB and its PostgreSQL stopped for 10 s; outbox leases held at their return: ${leases.length}` +
          (leases.length > 0 ? ` (expiring in ${Math.min(...left)}..${Math.max(...left)} s)` : ''),
      };
    },
  },
];

/** Runs one scenario under load on `chaos` and measures it. */
export async function runScenario(chaos: ChaosStack, scenario: Scenario): Promise<ChaosEntry> {
  await chaos.waitHealthy();
  const pods = new Pods(chaos.gateways.map((g) => g.url));
  pods.start();
  const load = new Load(pods, SETTINGS.pauseMs);
  const since = Date.now() - 5_000;
  await load.addUsers(scenario.name.replace(/[^a-z]/g, ''), SETTINGS.users);
  const users: SimUser[] = load.users;
  load.start();
  let result: FaultResult;
  try {
    await sleep(SETTINGS.warmupMs);
    result = await scenario.fault(chaos, { pods, load });
  } catch (error) {
    await load.stop();
    await pods.stop();
    throw error;
  }

  // From the return on: when do writes succeed again, and when is the backlog (every event of
  // a 2xx answered before the return) in InfluxDB through both paths?
  const { returnedAt } = result;
  let drainedAt: number | undefined;
  // Each path on its own too, so that a slow recovery says which path was slow.
  const drainedPath: Partial<Record<Source, number>> = {};
  const drainWatch = (async () => {
    while (Date.now() < returnedAt + SETTINGS.drainTimeoutMs) {
      const points = await influxPoints(chaos.stack, since).catch(() => undefined);
      for (const source of SOURCES) {
        if (points && !drainedPath[source] && allPresent(points, users, returnedAt, [source])) {
          drainedPath[source] = Date.now();
        }
      }
      if (points && allPresent(points, users, returnedAt)) {
        drainedAt = Date.now();
        return;
      }
      await sleep(250);
    }
  })();
  await sleep(SETTINGS.afterMs);
  await load.stop();
  await pods.stop();
  await drainWatch;

  // Everything answered 2xx must arrive; wait for the last events too.
  const endOfLoad = Date.now();
  await waitFor(
    'every expected event in both sources',
    async () => allPresent(await influxPoints(chaos.stack, since), users, Infinity),
    SETTINGS.drainTimeoutMs,
    500,
  ).catch(() => undefined);
  const resolved = await resolveUncertain(chaos.stack.mongodbUri, load.uncertain);
  // A last look a little later, so that a late duplicate would show too.
  await sleep(2_000);
  const counts = tally(await influxPoints(chaos.stack, since), users);

  const writes = load.ops.filter((op) => op.kind !== 'register');
  const writesOk = writes.filter(
    (op) => op.outcome === 'ok' && op.kind !== 'login' && op.start >= returnedAt,
  );
  const firstOkAfterReturn = writesOk.length > 0 ? writesOk[0].end : undefined;
  const recoveredAt =
    drainedAt !== undefined && firstOkAfterReturn !== undefined
      ? Math.max(drainedAt, firstOkAfterReturn)
      : undefined;
  const seconds = (at: number | undefined) =>
    at === undefined ? null : Math.round((at - returnedAt) / 100) / 10;
  const count = (predicate: (status: number) => boolean) =>
    load.ops.filter((op) => predicate(op.status)).length;
  const details = new Map<string, number>();
  for (const op of load.ops) {
    if (op.detail)
      details.set(`${op.kind}: ${op.detail}`, (details.get(`${op.kind}: ${op.detail}`) ?? 0) + 1);
  }
  const failures = [...details].map(([detail, n]) => `${n} × ${detail}`).join(', ');
  const entry: ChaosEntry = {
    scenario: scenario.name,
    requests: load.ops.filter((op) => op.outcome !== 'refused').length,
    http_5xx: count((s) => s >= 500),
    events_expected: counts.expected,
    events_in_influx_worker: counts.found.worker,
    events_in_influx_telegraf: counts.found.telegraf,
    lost: counts.lost.worker + counts.lost.telegraf,
    duplicates: counts.duplicates.worker + counts.duplicates.telegraf,
    recovered_s: seconds(recoveredAt),
    balancer: 'readiness',
    no_ready_gateway: load.ops.filter((op) => op.pod === 'balancer').length,
    http_503: count((s) => s === 503),
    http_401: count((s) => s === 401),
    http_other_4xx: count((s) => s >= 400 && s < 500 && s !== 401),
    dropped_connections: load.ops.filter((op) => op.outcome === 'dropped').length,
    writes_ok: load.ops.filter((op) => op.outcome === 'ok' && op.kind !== 'login').length,
    partial_writes: resolved.appliedAfter5xx,
    writes_ok_after_s: seconds(firstOkAfterReturn),
    drained_after_s: seconds(drainedAt),
    events_unconfirmed: counts.unconfirmed.worker + counts.unconfirmed.telegraf,
    fault_s: Math.round((returnedAt - result.faultAt) / 100) / 10,
    notes:
      (result.notes ?? '') +
      `; drained after ${SOURCES.map((source) => `${source} ${seconds(drainedPath[source]) ?? 'never'} s`).join(', ')}` +
      (failures ? `; failures: ${failures}` : '') +
      (resolved.partialKinds.length > 0
        ? `; stored although answered 5xx: ${resolved.partialKinds.join(', ')}`
        : '') +
      (endOfLoad - returnedAt > SETTINGS.drainTimeoutMs ? '; drain timed out' : '') +
      (counts.lost.worker + counts.lost.telegraf > 0
        ? `; lost worker ${counts.lost.worker}, telegraf ${counts.lost.telegraf}`
        : ''),
  };
  return entry;
}
