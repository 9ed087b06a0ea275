import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { TaskEvent } from '@taskit/contracts';
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
   * Under the task's lock, one write in the usual case: when the outbox holds exactly the
   * published events, clear it (or remove the tombstone whose `task.deleted` was published).
   * Otherwise (more events arrived, or another relay settled some) read it and write what is
   * left. The lock stays because FerretDB applies an update as read, change, write in Go: a
   * concurrent API write could otherwise push an event that this clear overwrites.
   */
  async settle(id: string, published: readonly TaskEvent[]): Promise<void> {
    if (published.length === 0) return;
    await this.lock.run([id], async (held) => {
      const _id = new Types.ObjectId(id);
      // `$all` with several values on an array path matches nothing on FerretDB 1.24; the
      // `$and` of equalities means the same on both servers.
      const exactly = {
        _id,
        outbox: { $size: published.length },
        $and: published.map((event) => ({ 'outbox.eventId': event.eventId })),
      };
      held.throwIfAborted();
      if (published.some((event) => event.type === 'task.deleted')) {
        const removed = await this.collection.deleteOne({
          ...exactly,
          deletedAt: { $ne: null },
        });
        if (removed.deletedCount === 1) return;
      } else {
        // Not on a tombstone: one whose task.deleted went out before these must be removed.
        const cleared = await this.collection.updateOne({ ...exactly, deletedAt: null }, EMPTIED);
        if (cleared.matchedCount === 1) return;
      }
      await this.settleRead(id, new Set(published.map((event) => event.eventId)), held);
    });
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
