import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { METRICS_REGISTRY } from '@taskit/observability';
import { Types, type Model } from 'mongoose';
import { Counter, type Registry } from 'prom-client';
import type {
  OutboxBacklog,
  OutboxEntry,
  OutboxStore,
  PendingDocument,
} from '../outbox/outbox.port';
import type { OutboxFields } from './task-outbox';
import { Task } from './task.schema';
import { TaskWriteLock } from './task-write-lock';

type OutboxView = OutboxFields & { _id: Types.ObjectId; deletedAt?: Date | null };

/**
 * The tasks module's side of the outbox port: the relay reads pending events through it and
 * settles them here, under the same per-task lock as every other write of a task document.
 */
@Injectable()
export class TaskOutboxStore implements OutboxStore {
  private readonly listeners = new Set<(document: PendingDocument) => void>();
  private readonly recorded: Counter;

  constructor(
    @InjectModel(Task.name) private readonly tasks: Model<Task>,
    private readonly lock: TaskWriteLock,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
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

  async pendingIds(recordedBefore: Date, limit: number): Promise<string[]> {
    const found = await this.tasks
      .find(
        { outboxPending: true, outboxSince: { $lt: recordedBefore } },
        { _id: 1, outboxSince: 1 },
      )
      .sort({ outboxSince: 1 })
      .limit(limit)
      .lean<{ _id: Types.ObjectId }[]>()
      .exec();
    return found.map((doc) => doc._id.toHexString());
  }

  async read(id: string): Promise<PendingDocument | undefined> {
    const events = (await this.byId(id))?.outbox ?? [];
    return events.length > 0 ? { id, events } : undefined;
  }

  /**
   * One write of what is left: the remaining events, or an emptied outbox (`outboxPending`
   * false), or, for an emptied tombstone, the document's removal (nothing adds events to a
   * tombstone).
   */
  async settle(id: string, published: ReadonlySet<string>): Promise<void> {
    await this.lock.run([id], async (held) => {
      const current = await this.byId(id);
      const outbox = current?.outbox ?? [];
      const remaining = outbox.filter((event) => !published.has(event.eventId));
      if (!current || remaining.length === outbox.length) return;
      held.throwIfAborted();
      const filter = { _id: current._id };
      if (remaining.length > 0) {
        await this.tasks.updateOne(filter, { $set: { outbox: remaining } });
      } else if (current.deletedAt) {
        await this.tasks.deleteOne(filter);
      } else {
        await this.tasks.updateOne(filter, {
          $set: { outbox: [], outboxPending: false },
          $unset: { outboxSince: '' },
        });
      }
    });
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
