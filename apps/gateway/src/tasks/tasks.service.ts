import {
  ConflictException,
  Injectable,
  Logger,
  NotFoundException,
  type OnModuleInit,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import type { TaskEventType } from '@taskit/contracts';
import { Types, type AnyBulkWriteOperation, type Model } from 'mongoose';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { planPatch, type TaskPatch } from './task-changes';
import { TaskEventFactory } from './task-event.factory';
import type { TaskView } from './task.dto';
import { TASK_VIEW_PROJECTION, toTaskView, type StoredTask } from './task.mapper';
import { Task } from './task.schema';
import { TaskListCache } from './task-list.cache';
import type { OutboxEntry } from '../outbox/outbox.port';
import { newOutbox, withEvents, withTraceContext } from './task-outbox';
import { TaskOutboxStore } from './task-outbox.store';
import { LockLostError, LockWaitTimeoutError, TaskWriteLock } from './task-write-lock';

/**
 * The tasks of one user. Every query is scoped by `userId` and skips tombstones, so another
 * user's task and a deleted one are both simply "not found". Every accepted change writes its
 * events into the task's outbox in the same single-document write (task-outbox.ts), under the
 * task's write lock, tells the relay (TaskOutboxStore.stored), then invalidates the user's
 * cached lists before the response.
 */
@Injectable()
export class TasksService implements OnModuleInit {
  private readonly logger = new Logger(TasksService.name);
  private readonly tasksPerUserMax: number;

  constructor(
    @InjectModel(Task.name) private readonly tasks: Model<Task>,
    private readonly events: TaskEventFactory,
    private readonly cache: TaskListCache,
    private readonly lock: TaskWriteLock,
    private readonly outbox: TaskOutboxStore,
    config: ConfigService<GatewayEnvironment, true>,
  ) {
    this.tasksPerUserMax = config.get('TASKS_PER_USER_MAX', { infer: true });
  }

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

  private event(type: TaskEventType, taskId: Types.ObjectId, userId: string): OutboxEntry {
    return withTraceContext(this.events.create(type, taskId.toHexString(), userId));
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
      ...newOutbox([created], now),
    };
    // Redis first: when it is down the create fails cleanly (503) with nothing stored.
    const [owned] = await Promise.all([
      this.tasks.countDocuments(this.live(userId)).exec(),
      this.cache.invalidate(userId),
    ]);
    // Counted before the insert, so parallel creates may pass it together: the bound is the
    // cap plus the requests one user can have in flight (docs/configuration.md, Limits).
    if (owned >= this.tasksPerUserMax) {
      throw new ConflictException(
        `You have ${this.tasksPerUserMax} tasks, the most one account may keep; delete some to add more`,
      );
    }
    // The raw driver insert: the document (with its event) exactly as written here. A new
    // document has no other writer yet, so it needs no lock.
    await this.tasks.collection.insertOne(document);
    this.outbox.stored(_id, [created]);
    await this.cache.invalidateAfterWrite(userId);
    return toTaskView(document);
  }

  /** Reads the task, plans the change and writes it with its events, holding the task's lock. */
  async update(userId: string, taskId: string, patch: TaskPatch): Promise<TaskView> {
    const view = await this.locked([taskId], async (held) => {
      const current = await this.tasks
        .findOne(this.live(userId, taskId), TASK_VIEW_PROJECTION)
        .lean<StoredTask>()
        .exec();
      if (!current) throw new NotFoundException('Task not found');
      const plan = planPatch(current, patch);
      if (plan.events.length === 0) return toTaskView(current);
      const now = new Date();
      const events = plan.events.map((type) => this.event(type, current._id, userId));
      held.throwIfAborted();
      // The filter repeats the state the plan was made from: on MongoDB that alone makes a
      // write whose lock had expired fail instead of recording events for a stale plan.
      const result = await this.tasks.updateOne(
        { ...this.live(userId, taskId), title: current.title, done: current.done },
        withEvents({ $set: { ...plan.set, updatedAt: now } }, events, now),
      );
      if (result.matchedCount === 0) {
        throw new ConflictException('The task was changed concurrently; try again');
      }
      this.outbox.stored(current._id, events);
      return toTaskView({ ...current, ...plan.set, updatedAt: now });
    });
    await this.cache.invalidateAfterWrite(userId);
    return view;
  }

  async remove(userId: string, taskId: string): Promise<void> {
    await this.locked([taskId], async (held) => {
      const now = new Date();
      const id = new Types.ObjectId(taskId);
      const deleted = this.event('task.deleted', id, userId);
      held.throwIfAborted();
      const result = await this.tasks.updateOne(
        this.live(userId, taskId),
        withEvents({ $set: { deletedAt: now, updatedAt: now } }, [deleted], now),
      );
      if (result.matchedCount === 0) throw new NotFoundException('Task not found');
      this.outbox.stored(id, [deleted]);
    });
    await this.cache.invalidateAfterWrite(userId);
  }

  /** Marks every live task done (or not): one event per task that actually changed. */
  async toggleAll(userId: string, done: boolean): Promise<number> {
    return this.changeEach(userId, { done: !done }, (id, now) => {
      const event = this.event(done ? 'task.completed' : 'task.uncompleted', id, userId);
      return { event, update: withEvents({ $set: { done, updatedAt: now } }, [event], now) };
    });
  }

  /** Tombstones every completed task: one task.deleted event per task. */
  async clearCompleted(userId: string): Promise<number> {
    return this.changeEach(userId, { done: true }, (id, now) => {
      const event = this.event('task.deleted', id, userId);
      return {
        event,
        update: withEvents({ $set: { deletedAt: now, updatedAt: now } }, [event], now),
      };
    });
  }

  /**
   * One bulkWrite of per-document updates, holding the locks of the tasks found: each task's
   * change and its event are one write, and each filter repeats the precondition, so a task
   * changed in between is skipped rather than given an event for a change that did not happen.
   */
  private async changeEach(
    userId: string,
    precondition: { done: boolean },
    change: (
      id: Types.ObjectId,
      now: Date,
    ) => { event: OutboxEntry; update: Record<string, unknown> },
  ): Promise<number> {
    const filter = { ...this.live(userId), ...precondition };
    const affected = await this.tasks.find(filter, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>();
    if (affected.length === 0) return 0;
    const ids = affected.map(({ _id }) => _id);
    try {
      return await this.locked(
        ids.map((id) => id.toHexString()),
        async (held) => {
          const now = new Date();
          const changes = ids.map((_id) => ({ _id, ...change(_id, now) }));
          const operations: AnyBulkWriteOperation[] = changes.map(({ _id, update }) => ({
            updateOne: { filter: { ...filter, _id }, update },
          }));
          held.throwIfAborted();
          const result = await this.tasks.bulkWrite(operations, { ordered: false });
          // Only when every task changed is it certain which events are stored; otherwise the
          // relay's sweep finds them.
          if (result.modifiedCount === changes.length) {
            for (const { _id, event } of changes) this.outbox.stored(_id, [event]);
          }
          return result.modifiedCount;
        },
      );
    } finally {
      // Also after a partial failure: some tasks may have changed.
      await this.cache.invalidateAfterWrite(userId);
    }
  }

  /** The tasks' locks around `work`; a wait that outlasts another writer, or a lost lease, is a 409. */
  private async locked<T>(taskIds: string[], work: (held: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await this.lock.run(taskIds, work);
    } catch (error) {
      // Nothing was written in either case: the client may simply retry.
      if (error instanceof LockWaitTimeoutError || error instanceof LockLostError) {
        throw new ConflictException(`${error.message}; try again`);
      }
      throw error;
    }
  }
}
