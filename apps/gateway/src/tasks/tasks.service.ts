import {
  ConflictException,
  Injectable,
  Logger,
  NotFoundException,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { TaskEvent, TaskEventType } from '@taskit/contracts';
import { Types, type AnyBulkWriteOperation, type Model } from 'mongoose';
import { withEvents } from '../events/outbox';
import { OutboxSignal } from '../events/outbox-signal';
import { TaskEventFactory } from '../events/task-event.factory';
import { planPatch, type TaskPatch } from './task-changes';
import type { TaskStatus, TaskView } from './task.dto';
import { TASK_VIEW_PROJECTION, toTaskView, type StoredTask } from './task.mapper';
import { Task } from './task.schema';
import { TaskListCache } from './task-list.cache';
import { TaskWriteLock } from './task-write-lock';

/**
 * How often a PATCH re-reads and retries when a concurrent write changed the task under it
 * (each failed attempt means another request succeeded, so this only ends under heavy
 * contention on one task; then 409).
 */
const PATCH_ATTEMPTS = 25;

/**
 * The tasks of one user. Every query is scoped by `userId` and skips tombstones, so another
 * user's task and a deleted one are both simply "not found". Every accepted change writes its
 * events into the task's outbox in the same single-document atomic update (events/outbox.ts),
 * then invalidates the user's cached lists before the response.
 */
@Injectable()
export class TasksService implements OnModuleInit {
  private readonly logger = new Logger(TasksService.name);

  constructor(
    @InjectModel(Task.name) private readonly tasks: Model<Task>,
    private readonly events: TaskEventFactory,
    private readonly cache: TaskListCache,
    private readonly lock: TaskWriteLock,
    private readonly outbox: OutboxSignal,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      await this.tasks.init();
    } catch (error) {
      this.logger.warn(`tasks indexes not ensured yet: ${(error as Error).message}`);
    }
  }

  private live(userId: string, taskId?: string) {
    return {
      ...(taskId === undefined ? {} : { _id: new Types.ObjectId(taskId) }),
      userId: new Types.ObjectId(userId),
      deletedAt: null,
    };
  }

  private event(type: TaskEventType, taskId: Types.ObjectId, userId: string): TaskEvent {
    return this.events.create(type, taskId.toHexString(), userId);
  }

  async list(userId: string, status: TaskStatus): Promise<TaskView[]> {
    const lookup = await this.cache.lookup(userId, status);
    if (lookup.tasks) return lookup.tasks;
    const filter = {
      ...this.live(userId),
      ...(status === 'all' ? {} : { done: status === 'completed' }),
    };
    const found = await this.tasks
      .find(filter, TASK_VIEW_PROJECTION)
      .sort({ createdAt: 1, _id: 1 })
      .lean<StoredTask[]>()
      .exec();
    const views = found.map(toTaskView);
    await this.cache.store(lookup.key, views);
    return views;
  }

  async get(userId: string, taskId: string): Promise<TaskView> {
    const found = await this.tasks
      .findOne(this.live(userId, taskId), TASK_VIEW_PROJECTION)
      .lean<StoredTask>()
      .exec();
    if (!found) throw new NotFoundException('Task not found');
    return toTaskView(found);
  }

  async create(userId: string, title: string): Promise<TaskView> {
    const now = new Date();
    const _id = new Types.ObjectId();
    const created = this.event('task.created', _id, userId);
    const document = {
      _id,
      userId: new Types.ObjectId(userId),
      title,
      done: false,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      outbox: [created],
      outboxPending: true,
      outboxSince: now,
    };
    // Redis first: when it is down the create fails cleanly (503) with nothing stored.
    await this.cache.invalidate(userId);
    // The raw driver insert: the document (with its event) exactly as written here.
    await this.tasks.collection.insertOne(document);
    this.outbox.eventsStored(1);
    await this.cache.invalidateAfterWrite(userId);
    return toTaskView(document);
  }

  /**
   * Optimistic: read the task, plan the change, write it only if the task still has the state
   * the plan was made from (so the recorded events describe exactly what changed), else retry.
   */
  update(userId: string, taskId: string, patch: TaskPatch): Promise<TaskView> {
    return this.lock.run(userId, () => this.updateLocked(userId, taskId, patch));
  }

  private async updateLocked(userId: string, taskId: string, patch: TaskPatch): Promise<TaskView> {
    for (let attempt = 0; attempt < PATCH_ATTEMPTS; attempt += 1) {
      const current = await this.tasks
        .findOne(this.live(userId, taskId), TASK_VIEW_PROJECTION)
        .lean<StoredTask>()
        .exec();
      if (!current) throw new NotFoundException('Task not found');
      const plan = planPatch(current, patch);
      if (plan.events.length === 0) return toTaskView(current);
      const now = new Date();
      const events = plan.events.map((type) => this.event(type, current._id, userId));
      const updated = await this.tasks
        .findOneAndUpdate(
          { ...this.live(userId, taskId), title: current.title, done: current.done },
          withEvents({ $set: { ...plan.set, updatedAt: now } }, events, now),
          // No projection: FerretDB's findAndModify does not implement `fields`; toTaskView
          // picks the API fields (the outbox never leaves the service).
          { returnDocument: 'after' },
        )
        .lean<StoredTask>()
        .exec();
      if (updated) {
        this.outbox.eventsStored(events.length);
        await this.cache.invalidateAfterWrite(userId);
        return toTaskView(updated);
      }
    }
    throw new ConflictException('The task is being changed concurrently; try again');
  }

  remove(userId: string, taskId: string): Promise<void> {
    return this.lock.run(userId, () => this.removeLocked(userId, taskId));
  }

  private async removeLocked(userId: string, taskId: string): Promise<void> {
    const now = new Date();
    const id = new Types.ObjectId(taskId);
    const result = await this.tasks.updateOne(
      this.live(userId, taskId),
      withEvents(
        { $set: { deletedAt: now, updatedAt: now } },
        [this.event('task.deleted', id, userId)],
        now,
      ),
    );
    if (result.matchedCount === 0) throw new NotFoundException('Task not found');
    this.outbox.eventsStored(1);
    await this.cache.invalidateAfterWrite(userId);
  }

  /** Marks every live task done (or not): one event per task that actually changed. */
  async toggleAll(userId: string, done: boolean): Promise<number> {
    return this.changeEach(userId, { done: !done }, (id, now) =>
      withEvents(
        { $set: { done, updatedAt: now } },
        [this.event(done ? 'task.completed' : 'task.uncompleted', id, userId)],
        now,
      ),
    );
  }

  /** Tombstones every completed task: one task.deleted event per task. */
  async clearCompleted(userId: string): Promise<number> {
    return this.changeEach(userId, { done: true }, (id, now) =>
      withEvents(
        { $set: { deletedAt: now, updatedAt: now } },
        [this.event('task.deleted', id, userId)],
        now,
      ),
    );
  }

  /**
   * One bulkWrite of per-document updates whose filters repeat the precondition: each task's
   * change and its event are one atomic write, and a task changed concurrently in between is
   * skipped rather than given an event for a change that did not happen.
   */
  private changeEach(
    userId: string,
    precondition: { done: boolean },
    update: (id: Types.ObjectId, now: Date) => Record<string, unknown>,
  ): Promise<number> {
    return this.lock.run(userId, () => this.changeEachLocked(userId, precondition, update));
  }

  private async changeEachLocked(
    userId: string,
    precondition: { done: boolean },
    update: (id: Types.ObjectId, now: Date) => Record<string, unknown>,
  ): Promise<number> {
    const filter = { ...this.live(userId), ...precondition };
    const affected = await this.tasks.find(filter, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>();
    if (affected.length === 0) return 0;
    const now = new Date();
    const operations: AnyBulkWriteOperation[] = affected.map(({ _id }) => ({
      updateOne: { filter: { ...filter, _id }, update: update(_id, now) },
    }));
    try {
      const result = await this.tasks.bulkWrite(operations, { ordered: false });
      this.outbox.eventsStored(result.modifiedCount);
      return result.modifiedCount;
    } finally {
      // Also after a partial failure: some tasks may have changed.
      await this.cache.invalidateAfterWrite(userId);
    }
  }
}
