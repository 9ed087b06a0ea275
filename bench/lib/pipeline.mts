import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type Channel } from 'amqplib';
import {
  routingKeyFor,
  TASK_EVENT_TYPES,
  TASK_EVENT_VERSION,
  TASK_EVENTS_EXCHANGE,
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  type EventSource,
  type TaskEvent,
  type TaskEventMessage,
} from '../../libs/contracts/src/index.ts';
import { declareTopology as declareOn } from '../../libs/messaging/src/topology.ts';
import { influxQuery } from '../../libs/testing/src/influx.ts';

/** Declares Taskit's topology on a vhost with the services' own `declareTopology`. */
export async function declareTopology(amqpUrl: string): Promise<void> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    await declareOn(channel);
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** RFC 3339 UTC with nine fractional digits from nanoseconds since the epoch. */
export function formatNs(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

/**
 * Publishes `n` contract events (docs/api.md, Events on the wire) to the exchange with confirms and
 * `mandatory` (a return fails the run): every event type, `users` users, and an occurredAt
 * that is unique per user (a distinct microsecond per event, an hour ago). Returns the ids.
 */
export async function publishBacklog(
  amqpUrl: string,
  n: number,
  users: number,
  onProgress: (sent: number) => void,
): Promise<Set<string>> {
  const userIds = Array.from({ length: users }, () => randomBytes(12).toString('hex'));
  const baseNs = BigInt(Date.now() - 3_600_000) * 1_000_000n;
  const ids = new Set<string>();
  const connection = await connect(amqpUrl);
  let returned = 0;
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('return', () => (returned += 1));
    for (let i = 0; i < n; i++) {
      const type = TASK_EVENT_TYPES[i % TASK_EVENT_TYPES.length];
      const event: TaskEvent = {
        eventId: randomUUID(),
        type,
        taskId: randomBytes(12).toString('hex'),
        userId: userIds[i % users],
        occurredAt: formatNs(baseNs + BigInt(i) * 1_000n),
        version: TASK_EVENT_VERSION,
      };
      ids.add(event.eventId);
      const message: TaskEventMessage = { pattern: type, data: event };
      const ok = channel.publish(
        TASK_EVENTS_EXCHANGE,
        routingKeyFor(type),
        Buffer.from(JSON.stringify(message)),
        {
          persistent: true,
          mandatory: true,
          contentType: 'application/json',
          messageId: event.eventId,
        },
      );
      if (!ok) await new Promise((resolve) => channel.once('drain', resolve));
      if (i % 2_000 === 1_999) {
        await channel.waitForConfirms();
        onProgress(i + 1);
      }
    }
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close();
  }
  if (returned > 0) throw new Error(`${returned} events were unroutable (topology missing?)`);
  return ids;
}

/** Watches a queue's ready count on one channel (passive declare; no consumer of our own). */
export class QueueWatcher {
  private readonly close: () => Promise<void>;
  private readonly channel: Channel;

  private constructor(close: () => Promise<void>, channel: Channel) {
    this.close = close;
    this.channel = channel;
  }

  static async open(amqpUrl: string): Promise<QueueWatcher> {
    const connection = await connect(amqpUrl);
    const channel = await connection.createChannel();
    return new QueueWatcher(() => connection.close(), channel);
  }

  async ready(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  async dispose(): Promise<void> {
    await this.close().catch(() => undefined);
  }
}

export interface SourceVerification {
  points: number;
  distinct_event_ids: number;
  lost: number;
  duplicates: number;
  unexpected: number;
}

/**
 * What one source wrote, from InfluxDB: points, distinct event ids, and the event ids compared
 * with what was published (lost = published but absent; duplicates = points beyond one per
 * event id; unexpected = ids never published).
 */
export async function verifySource(
  influxUrl: string,
  db: string,
  source: EventSource,
  published: Set<string>,
): Promise<SourceVerification> {
  const series = await influxQuery(
    influxUrl,
    `SELECT "${TaskEventFields.eventId}" FROM "${TASK_EVENTS_MEASUREMENT}" WHERE "${TaskEventTags.source}" = '${source}'`,
    db,
    120_000,
  );
  const seen = new Set<string>();
  let points = 0;
  let unexpected = 0;
  for (const s of series) {
    const column = s.columns.indexOf(TaskEventFields.eventId);
    for (const row of s.values) {
      points += 1;
      const id = String(row[column]);
      if (!seen.has(id) && !published.has(id)) unexpected += 1;
      seen.add(id);
    }
  }
  let lost = 0;
  for (const id of published) if (!seen.has(id)) lost += 1;
  return {
    points,
    distinct_event_ids: seen.size,
    lost,
    duplicates: points - seen.size,
    unexpected,
  };
}
