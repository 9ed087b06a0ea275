import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { METRICS_REGISTRY } from '@taskit/observability';
import { Types, type Model, type mongo } from 'mongoose';
import { Counter, type Registry } from 'prom-client';
import type {
  OutboxBacklog,
  OutboxEntry,
  OutboxStore,
  PendingDocument,
} from '../outbox/outbox.port';
import type { OutboxFields } from './task-outbox';
import { Task, taskCollection } from './task.schema';
import { TaskWriteLock } from './task-write-lock';

type OutboxView = OutboxFields & { _id: Types.ObjectId; deletedAt?: Date | null };

/** An outbox with nothing left to publish. */
const EMPTIED: mongo.UpdateFilter<Task> = {
  $set: { outbox: [], outboxPending: false },
  $unset: { outboxSince: '' },
};

/**
 * The tasks module's side of the outbox port: the relay reads pending events through it and
 * settles them here, under the same per-task lock as every other write of a task document,
 * through the driver's collection as TasksService writes (no casting of what is already in
 * the stored shape).
 */
@Injectable()
export class TaskOutboxStore implements OutboxStore {
  private readonly listeners = new Set<(document: PendingDocument) => void>();
  private readonly recorded: Counter;
  private readonly collection: mongo.Collection<Task>;

  constructor(
    @InjectModel(Task.name) private readonly tasks: Model<Task>,
    private readonly lock: TaskWriteLock,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.collection = taskCollection(tasks);
    this.recorded = new Counter({
      name: 'taskit_outbox_events_recorded_total',
      help: 'Task events stored in the outbox together with their task change',
      registers: [registry],
    });
  }

  /** Called by TasksService once a change and its events are stored. */
  stored(taskId: Types.ObjectId, events: OutboxEntry[]): void {
    if (events.length === 0) return;
    this.recorded.inc(events.length);
    const document = { id: taskId.toHexString(), events };
    for (const listener of this.listeners) listener(document);
  }

  onStored(listener: (document: PendingDocument) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * MongoDB walks the `{outboxPending, outboxSince}` index, so in age order. FerretDB pushes
   * only the equality down and filters the rest in Go as it reads; a sort would make it load
   * and sort every pending document first (0.7 s per pass at 3,000 pending, measured), so there
   * is none: it returns them in table order, which is about the order they were written.
   */
  async pendingIds(recordedBefore: Date, limit: number): Promise<string[]> {
    const found = await this.tasks
      .find({ outboxPending: true, outboxSince: { $lt: recordedBefore } }, { _id: 1 })
      .limit(limit)
      .lean<{ _id: Types.ObjectId }[]>()
      .exec();
    return found.map((doc) => doc._id.toHexString());
  }

  /**
   * The equality on `outboxPending` keeps FerretDB to the pending documents (it filters an
   * `$in` in Go); each outbox holds at most OUTBOX_ENTRIES_PER_TASK_MAX events.
   */
  async pendingEvents(ids: readonly string[]): Promise<PendingDocument[]> {
    if (ids.length === 0) return [];
    const found = await this.tasks
      .find(
        { outboxPending: true, _id: { $in: ids.map((id) => new Types.ObjectId(id)) } },
        { _id: 1, outbox: 1 },
      )
      .lean<OutboxView[]>()
      .exec();
    return found
      .filter((doc) => doc.outbox.length > 0)
      .map((doc) => ({ id: doc._id.toHexString(), events: doc.outbox }));
  }

  /**
   * Under the tasks' locks, one command per kind of write for the whole batch in the usual
   * case: each outbox that holds exactly its published events is cleared (or the tombstone
   * whose `task.deleted` was published removed), one statement per document. If fewer matched
   * (more events arrived, or another relay settled some), each document is read and what is
   * left written. The locks stay because FerretDB applies an update as read, change, write in
   * Go: a concurrent API write could otherwise push an event that this clear overwrites.
   * Documents another writer holds are settled one by one, each waiting for its lock.
   */
  async settle(documents: readonly PendingDocument[]): Promise<void> {
    const byId = new Map(documents.filter((d) => d.events.length > 0).map((d) => [d.id, d]));
    if (byId.size === 0) return;
    const pick = (ids: readonly string[]) => ids.map((id) => byId.get(id)!);
    const failed: string[] = [];
    let cause: unknown;
    const fail = (ids: readonly string[], error: unknown) => {
      failed.push(...ids);
      cause = error;
    };
    const settling = (ids: readonly string[], write: Promise<void>) =>
      write.catch((error: unknown) => fail(ids, error));
    const ids = [...byId.keys()];
    const busy = await this.lock
      .runOnFree(ids, (heldIds, held) => settling(heldIds, this.settleHeld(pick(heldIds), held)))
      .catch((error: unknown) => {
        fail(ids, error);
        return [];
      });
    await Promise.all(
      busy.map((id) =>
        settling(
          [id],
          this.lock.run([id], (held) => this.settleHeld(pick([id]), held)),
        ),
      ),
    );
    if (failed.length > 0) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new Error(`could not settle ${failed.join(', ')}: ${reason}`, { cause });
    }
  }

  private async settleHeld(documents: PendingDocument[], held: AbortSignal): Promise<void> {
    const writes = documents.map(({ id, events }): mongo.AnyBulkWriteOperation<Task> => {
      // `$all` with several values on an array path matches nothing on FerretDB 1.24; the
      // `$and` of equalities means the same on both servers.
      const exactly = {
        _id: new Types.ObjectId(id),
        outbox: { $size: events.length },
        $and: events.map((event) => ({ 'outbox.eventId': event.eventId })),
      };
      return events.some((event) => event.type === 'task.deleted')
        ? { deleteOne: { filter: { ...exactly, deletedAt: { $ne: null } } } }
        : // Not on a tombstone: one whose task.deleted went out before these must be removed.
          { updateOne: { filter: { ...exactly, deletedAt: null }, update: EMPTIED } };
    });
    held.throwIfAborted();
    const result = await this.collection.bulkWrite(writes, { ordered: false });
    if (result.matchedCount + result.deletedCount === documents.length) return;
    for (const { id, events } of documents) {
      await this.settleRead(id, new Set(events.map((event) => event.eventId)), held);
    }
  }

  /** One write of what is left after reading the outbox. */
  private async settleRead(
    id: string,
    published: ReadonlySet<string>,
    held: AbortSignal,
  ): Promise<void> {
    const current = await this.byId(id);
    const outbox = current?.outbox ?? [];
    const remaining = outbox.filter((event) => !published.has(event.eventId));
    if (!current || remaining.length === outbox.length) return;
    held.throwIfAborted();
    const filter = { _id: current._id };
    if (remaining.length > 0) {
      await this.collection.updateOne(filter, { $set: { outbox: remaining } });
    } else if (current.deletedAt) {
      await this.collection.deleteOne(filter);
    } else {
      await this.collection.updateOne(filter, EMPTIED);
    }
  }

  async backlog(): Promise<OutboxBacklog> {
    const [count] = await this.tasks
      .aggregate<{ n: number }>([
        { $match: { outboxPending: true } },
        { $unwind: '$outbox' },
        { $count: 'n' },
      ])
      .exec();
    const [oldest] = await this.tasks
      .find({ outboxPending: true }, { outboxSince: 1 })
      .sort({ outboxSince: 1 })
      .limit(1)
      .lean<{ outboxSince?: Date }[]>()
      .exec();
    const since = oldest?.outboxSince?.getTime();
    return {
      events: count?.n ?? 0,
      oldestPendingAgeSeconds: since === undefined ? 0 : Math.max(0, (Date.now() - since) / 1000),
    };
  }

  private byId(id: string): Promise<OutboxView | null> {
    // A plain equality on _id: FerretDB pushes it down (an `$in` would be filtered in Go).
    return this.tasks
      .findOne({ _id: new Types.ObjectId(id) }, { outbox: 1, deletedAt: 1 })
      .lean<OutboxView>()
      .exec();
  }
}
