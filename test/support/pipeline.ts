import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import {
  routingKeyFor,
  TASK_EVENT_TYPES,
  TASK_EVENTS_EXCHANGE,
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  type TaskEventType,
} from '@taskit/contracts';
import { connect } from 'amqplib';
import { mongo } from 'mongoose';
import { influxQuery } from '../../libs/testing/src/influx';
import type { IsolatedStack } from './isolated-stack';
import { TaskEventFactory } from '../../apps/gateway/src/tasks/task-event.factory';
import { insertTaskDocuments } from '../../libs/testing/src/tasks';
import { eventually } from './eventually';

const execFileAsync = promisify(execFile);

/** Count per event type, for example `{ 'task.created': 3 }`. */
export type TypeCounts = Partial<Record<TaskEventType, number>>;

export interface SourceCounts {
  worker: TypeCounts;
  telegraf: TypeCounts;
}

/**
 * Points in InfluxDB per source and type for one user. Points are keyed by series and
 * timestamp (occurredAt), so a redelivered event overwrote its own point: this counts
 * distinct events.
 */
export async function influxCounts(
  stack: Pick<IsolatedStack, 'influxUrl' | 'influxDatabase'>,
  userId: string,
): Promise<SourceCounts> {
  const { source, type } = TaskEventTags;
  const q =
    `SELECT count("${TaskEventFields.count}") FROM "${TASK_EVENTS_MEASUREMENT}" ` +
    `WHERE "${TaskEventTags.userId}" = '${userId}' GROUP BY "${source}", "${type}"`;
  const counts: SourceCounts = { worker: {}, telegraf: {} };
  for (const series of await influxQuery(stack.influxUrl, q, stack.influxDatabase, 10_000)) {
    const tags = series.tags ?? {};
    const perType = counts[tags[source] as keyof SourceCounts];
    if (perType) perType[tags[type] as TaskEventType] = series.values[0][1] as number;
  }
  return counts;
}

export function total(counts: TypeCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** Waits until both sources hold exactly `expected` for `userId` (and fails on a surplus). */
export async function expectBothSources(
  stack: Pick<IsolatedStack, 'influxUrl' | 'influxDatabase'>,
  userId: string,
  expected: TypeCounts,
  timeoutMs = 60_000,
): Promise<void> {
  await eventually(
    async () => {
      const counts = await influxCounts(stack, userId);
      expect(counts).toEqual({ worker: expected, telegraf: expected });
    },
    timeoutMs,
    500,
  );
}

/** Publishes a raw body to the events exchange, with confirms. */
export async function publishRaw(
  amqpUrl: string,
  routingKey: string,
  content: string,
  messageId = randomUUID(),
): Promise<void> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    channel.publish(TASK_EVENTS_EXCHANGE, routingKey, Buffer.from(content), {
      persistent: true,
      contentType: 'application/json',
      messageId,
    });
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** Reads (and acks) every message currently in `queue`. */
export async function drainQueue(amqpUrl: string, queue: string): Promise<string[]> {
  const connection = await connect(amqpUrl);
  const bodies: string[] = [];
  try {
    const channel = await connection.createChannel();
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) break;
      bodies.push(message.content.toString());
    }
    await channel.close();
  } finally {
    await connection.close();
  }
  return bodies;
}

/** Ready + unacked messages of a queue. */
export async function queueDepth(amqpUrl: string, queue: string): Promise<number> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    await channel.close();
    return messageCount;
  } finally {
    await connection.close();
  }
}

/** Task documents (tombstones included) and pending outbox events of a user. */
export async function outboxState(
  mongodbUri: string,
  userId: string,
): Promise<{ documents: number; tombstones: number; pending: number }> {
  const client = new mongo.MongoClient(mongodbUri, { serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  try {
    const docs = await client
      .db()
      .collection('tasks')
      .find({ userId: new mongo.ObjectId(userId) }, { projection: { outbox: 1, deletedAt: 1 } })
      .toArray();
    return {
      documents: docs.length,
      tombstones: docs.filter((d) => d.deletedAt).length,
      pending: docs.reduce((sum, d) => sum + ((d.outbox as unknown[] | undefined)?.length ?? 0), 0),
    };
  } finally {
    await client.close();
  }
}

/** The value of a Prometheus sample (first match of `name{labels}`), 0 when absent. */
export async function metricValue(baseUrl: string, sample: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the API under test */
interface ApiLike {
  post(path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  patch(path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  delete(path: string): Promise<{ status: number; body: any; text: string }>;
}

async function expectStatus(
  call: Promise<{ status: number; body: any; text: string }>,
  status: number,
  what: string,
): Promise<any> {
  const response = await call;
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${response.text}`);
  }
  return response.body;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * A scripted set of task changes through the HTTP API, every kind of event included
 * (toggle-all and clear-completed too). Returns the events it must have caused, per type.
 */
export async function scriptedChanges(api: ApiLike, tasks = 5): Promise<TypeCounts> {
  const ids: string[] = [];
  for (let i = 0; i < tasks; i++) {
    const task = await expectStatus(api.post('/api/tasks', { title: `task ${i}` }), 201, 'create');
    ids.push(task.id as string);
  }
  await expectStatus(api.patch(`/api/tasks/${ids[0]}`, { title: 'renamed 0' }), 200, 'rename');
  await expectStatus(api.patch(`/api/tasks/${ids[1]}`, { title: 'renamed 1' }), 200, 'rename');
  await expectStatus(api.patch(`/api/tasks/${ids[0]}`, { done: true }), 200, 'complete');
  await expectStatus(api.patch(`/api/tasks/${ids[1]}`, { done: true }), 200, 'complete');
  await expectStatus(api.patch(`/api/tasks/${ids[1]}`, { done: false }), 200, 'uncomplete');
  await expectStatus(api.delete(`/api/tasks/${ids[tasks - 1]}`), 204, 'delete');
  // Live: 0 (done), 1..tasks-2 (open) → toggle-all completes tasks-2 of them.
  const toggled = await expectStatus(
    api.post('/api/tasks/toggle-all', { done: true }),
    200,
    'toggle-all',
  );
  if (toggled.updated !== tasks - 2) throw new Error(`toggle-all updated ${toggled.updated}`);
  await expectStatus(api.patch(`/api/tasks/${ids[2]}`, { done: false }), 200, 'uncomplete');
  // Done now: every live task but ids[2] → tasks-2 deletions.
  const cleared = await expectStatus(
    api.post('/api/tasks/clear-completed'),
    200,
    'clear-completed',
  );
  if (cleared.deleted !== tasks - 2) throw new Error(`clear-completed deleted ${cleared.deleted}`);
  return {
    'task.created': tasks,
    'task.updated': 2,
    'task.completed': 2 + (tasks - 2),
    'task.uncompleted': 2,
    'task.deleted': 1 + (tasks - 2),
  };
}

/**
 * Changes without PATCH: `n` tasks created, all completed with toggle-all, then removed with
 * clear-completed: 3n events.
 */
export async function bulkChanges(api: ApiLike, n: number, label = 'bulk'): Promise<TypeCounts> {
  for (let i = 0; i < n; i++) {
    await expectStatus(api.post('/api/tasks', { title: `${label} ${i}` }), 201, 'create');
  }
  const toggled = await expectStatus(
    api.post('/api/tasks/toggle-all', { done: true }),
    200,
    'toggle-all',
  );
  const cleared = await expectStatus(
    api.post('/api/tasks/clear-completed'),
    200,
    'clear-completed',
  );
  if (toggled.updated !== n || cleared.deleted !== n) {
    throw new Error(
      `toggle-all ${toggled.updated}, clear-completed ${cleared.deleted}, expected ${n}`,
    );
  }
  return { 'task.created': n, 'task.completed': n, 'task.deleted': n };
}

export function addCounts(...all: TypeCounts[]): TypeCounts {
  const sum: TypeCounts = {};
  for (const counts of all) {
    for (const type of TASK_EVENT_TYPES) {
      if (counts[type] !== undefined) sum[type] = (sum[type] ?? 0) + counts[type];
    }
  }
  return sum;
}

/**
 * Task documents with one pending `task.created` event each, written straight into the
 * outbox as the gateway does (for backlogs larger than HTTP makes quickly).
 */
export async function insertOutboxTasks(
  mongodbUri: string,
  userId: string,
  n: number,
): Promise<void> {
  const factory = new TaskEventFactory();
  const now = new Date();
  const docs = Array.from({ length: n }, (_, i) => {
    const _id = new mongo.ObjectId();
    return {
      _id,
      userId: new mongo.ObjectId(userId),
      title: `backlog ${i}`,
      done: false,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      outbox: [factory.create('task.created', _id.toHexString(), userId)],
      outboxPending: true,
      outboxSince: now,
    };
  });
  await insertTaskDocuments(mongodbUri, docs);
}

/** Ready + unacked messages of a queue on the shared broker (rabbitmqctl). */
export async function brokerQueueDepth(vhost: string, queue: string): Promise<number> {
  const { stdout } = await execFileAsync(
    'rabbitmqctl',
    ['-q', 'list_queues', '-p', vhost, 'name', 'messages'],
    { timeout: 30_000 },
  );
  const line = stdout.split('\n').find((l) => l.split('\t')[0] === queue);
  return line ? Number(line.split('\t')[1]) : 0;
}

/** `n` contract events of `userId` published straight to the exchange (a ready backlog). */
export async function publishBacklog(amqpUrl: string, userId: string, n: number): Promise<void> {
  const factory = new TaskEventFactory();
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    for (let i = 0; i < n; i++) {
      const event = factory.create('task.created', `backlog-${i}`, userId);
      channel.publish(
        TASK_EVENTS_EXCHANGE,
        routingKeyFor(event.type),
        Buffer.from(JSON.stringify({ pattern: event.type, data: event })),
        {
          persistent: true,
          contentType: 'application/json',
          messageId: event.eventId,
        },
      );
      if (i % 500 === 499) await channel.waitForConfirms();
    }
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** The task documents of a user, as stored (for diagnostics). */
export async function outboxDocuments(mongodbUri: string, userId: string): Promise<unknown[]> {
  const client = new mongo.MongoClient(mongodbUri, { serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  try {
    return await client
      .db()
      .collection('tasks')
      .find({ userId: new mongo.ObjectId(userId) })
      .toArray();
  } finally {
    await client.close();
  }
}
