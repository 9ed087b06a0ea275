import { TASK_EVENTS_MEASUREMENT, TaskEventFields, TaskEventTags } from '@taskit/contracts';
import { mongo } from 'mongoose';
import { influxQuery } from '../../libs/testing/src/influx';
import type { IsolatedStack } from '../support/isolated-stack';
import { eventKey, type SimUser, type UncertainWrite } from './load';

export type Source = 'worker' | 'telegraf';
export const SOURCES: Source[] = ['worker', 'telegraf'];

/** Points per source and user: event key (task id + type) → number of points. */
export type PointCounts = Record<Source, Map<string, Map<string, number>>>;

/**
 * Every task_events point since `since`, per source, user and (task id, type). A point is keyed
 * by series and timestamp (the event's unique occurredAt), so a redelivered event overwrote its
 * own point: more points than events for one task and type means distinct events were made for
 * one change.
 */
export async function influxPoints(
  stack: Pick<IsolatedStack, 'influxUrl' | 'influxDatabase'>,
  since: number,
): Promise<PointCounts> {
  const { taskId, eventId } = TaskEventFields;
  const { source, type, userId } = TaskEventTags;
  const q =
    `SELECT "${taskId}", "${eventId}" FROM "${TASK_EVENTS_MEASUREMENT}" ` +
    `WHERE time >= '${new Date(since).toISOString()}' GROUP BY "${source}", "${type}", "${userId}"`;
  const counts: PointCounts = { worker: new Map(), telegraf: new Map() };
  for (const series of await influxQuery(stack.influxUrl, q, stack.influxDatabase, 10_000)) {
    const tags = series.tags ?? {};
    const perUser = counts[tags[source] as Source];
    if (!perUser) continue;
    const keys = perUser.get(tags[userId]) ?? new Map<string, number>();
    perUser.set(tags[userId], keys);
    const taskColumn = series.columns.indexOf(taskId);
    for (const row of series.values) {
      const key = eventKey(String(row[taskColumn]), tags[type]);
      keys.set(key, (keys.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

function expectedCounts(user: SimUser, before = Infinity): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of user.expected) {
    if (event.at < before) counts.set(event.key, (counts.get(event.key) ?? 0) + 1);
  }
  return counts;
}

/** Whether every event of a 2xx answered before `before` is in InfluxDB in both sources. */
export function allPresent(
  points: PointCounts,
  users: SimUser[],
  before: number,
  sources: readonly Source[] = SOURCES,
): boolean {
  return users.every((user) => {
    const expected = expectedCounts(user, before);
    return sources.every((source) => {
      const found = points[source].get(user.id) ?? new Map<string, number>();
      return [...expected].every(([key, n]) => (found.get(key) ?? 0) >= n);
    });
  });
}

export interface Tally {
  expected: number;
  found: Record<Source, number>;
  lost: Record<Source, number>;
  duplicates: Record<Source, number>;
  /** Points of tasks touched by a write whose outcome the client could not know. */
  unconfirmed: Record<Source, number>;
}

const taskIdOf = (key: string) => key.slice(0, key.indexOf(' '));

export function tally(points: PointCounts, users: SimUser[]): Tally {
  const result: Tally = {
    expected: 0,
    found: { worker: 0, telegraf: 0 },
    lost: { worker: 0, telegraf: 0 },
    duplicates: { worker: 0, telegraf: 0 },
    unconfirmed: { worker: 0, telegraf: 0 },
  };
  for (const user of users) {
    const expected = expectedCounts(user);
    const confirmed = [...expected].filter(([key]) => !user.tainted.has(taskIdOf(key)));
    result.expected += confirmed.reduce((sum, [, n]) => sum + n, 0);
    for (const source of SOURCES) {
      const found = points[source].get(user.id) ?? new Map<string, number>();
      for (const [key, n] of found) {
        result.found[source] += n;
        if (user.tainted.has(taskIdOf(key))) result.unconfirmed[source] += n;
        else result.duplicates[source] += Math.max(0, n - (expected.get(key) ?? 0));
      }
      for (const [key, n] of confirmed) {
        result.lost[source] += Math.max(0, n - (found.get(key) ?? 0));
      }
    }
  }
  return result;
}

/**
 * Looks the uncertain writes up in MongoDB: a write that did not happen un-taints its task
 * (its events are known again); one that happened keeps it tainted (its event is real but was
 * never confirmed to the client), and marks the task an unanswered create made. Counts the
 * writes that got a 5xx although their change is stored (a partial write: the client was
 * told it failed).
 */
export async function resolveUncertain(
  mongodbUri: string,
  uncertain: UncertainWrite[],
): Promise<{ appliedAfter5xx: number; appliedAfterDrop: number; partialKinds: string[] }> {
  const partialKinds: string[] = [];
  if (uncertain.length === 0) return { appliedAfter5xx: 0, appliedAfterDrop: 0, partialKinds };
  const client = new mongo.MongoClient(mongodbUri, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  let appliedAfter5xx = 0;
  let appliedAfterDrop = 0;
  try {
    const tasks = client.db().collection('tasks');
    for (const write of uncertain) {
      let applied: boolean;
      if (write.kind === 'create') {
        const found = await tasks.findOne({ title: write.title });
        if (found) write.user.tainted.add(found._id.toHexString());
        applied = found !== null;
      } else {
        const found = await tasks.findOne({ _id: new mongo.ObjectId(write.taskId) });
        // A tombstone is removed once its task.deleted was published.
        if (write.kind === 'delete') applied = found === null || Boolean(found.deletedAt);
        else if (write.kind === 'complete') applied = found?.done === true;
        else applied = found?.title === write.title;
      }
      // A write that did not happen leaves its task's events fully known again.
      if (!applied && write.taskId) write.user.tainted.delete(write.taskId);
      if (applied && write.status >= 500) {
        appliedAfter5xx += 1;
        partialKinds.push(write.kind);
      }
      if (applied && write.status === 0) appliedAfterDrop += 1;
    }
  } finally {
    await client.close();
  }
  return { appliedAfter5xx, appliedAfterDrop, partialKinds };
}
