import { context, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import {
  Inject,
  ConflictException,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
  type OnModuleInit,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import type { TaskEventType } from '@taskit/contracts';
import { Types, type Model, type mongo } from 'mongoose';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { planPatch, type TaskPatch } from './task-changes';
import { TaskEventFactory } from './task-event.factory';
import type { TaskView } from './task.dto';
import { TASK_VIEW_PROJECTION, toTaskView, type StoredTask } from './task.mapper';
import { Task, taskCollection } from './task.schema';
import { TaskListCache } from './task-list.cache';
import type { OutboxEntry } from '../outbox/outbox.port';
import { newOutbox, outboxHasRoom, withEvents, withTraceContext } from './task-outbox';
import { TaskOutboxStore } from './task-outbox.store';
import { BackgroundShare } from '../rate-limit/background-share';
import { TaskQuota } from './task-quota';
import { LockLostError, LockWaitTimeoutError, TaskWriteLock } from './task-write-lock';

/**
 * Bulk changes write their tasks one document per command, this many at once per pod, all bulk
 * requests together, and one at a time while the pod serves other requests (BackgroundShare).
 * FerretDB 1.24 keeps the PostgreSQL connection of every statement of one update command until
 * the whole command ends, so a bulkWrite of as many statements as its pool has connections
 * waits forever for one more (docs/adr/bulk-writes.md); one statement per command needs at
 * most two. Shared by every bulk request, so that with the relay's settles they take a fixed
 * share of the MongoDB pool and requests keep the rest (docs/limits.md).
 */
export const BULK_WRITES_IN_FLIGHT = 4;

/**
 * The events of a bulk change whose publishes join the request's trace; the others are
 * published in traces of their own. One trace of thousands of publish and consumer spans
 * helps no reader, and the local Jaeger's store counts traces, not bytes: a few of them filled
 * its memory limit, after which it refused every span until restarted (docs/tracing.md).
 */
export const BULK_TRACED_EVENTS = 10;

/** After this long a bulk change stops, answers 503 and keeps what it wrote, events included. */
export const BULK_DEADLINE_MS = 15_000;

/** A write refused because the task's outbox is full (a long broker outage): retry later. */
class OutboxFullException extends HttpException {
  constructor() {
    super(
      {
        message: 'This task has too many changes waiting to be published; try again shortly',
        retryAfterSeconds: 5,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/**
 * The tasks of one user. Every query is scoped by `userId` and skips tombstones, so another
 * user's task and a deleted one are both simply "not found". Every accepted change writes its
 * events into the task's outbox in the same single-document write (task-outbox.ts), under the
 * task's write lock, tells the relay (TaskOutboxStore.stored), then invalidates the user's
 * cached lists before the response. Writes go through the driver's collection, their filters
 * and updates built in the stored shape (task-outbox.ts): mongoose's casting of them, a
 * document per pushed event, was a fifth of a write's MongoDB time (docs/performance.md).
 */
@Injectable()
export class TasksService implements OnModuleInit {
  private readonly logger = new Logger(TasksService.name);
  private readonly quota: TaskQuota;
  private readonly collection: mongo.Collection<Task>;
  /** The pod's bulk writes in flight, every bulk request's together. */
  private readonly bulkWrites: <T>(write: () => Promise<T>) => Promise<T>;

  constructor(
    @InjectModel(Task.name) private readonly tasks: Model<Task>,
    private readonly events: TaskEventFactory,
    private readonly cache: TaskListCache,
    private readonly lock: TaskWriteLock,
    private readonly outbox: TaskOutboxStore,
    @Inject(REDIS_CLIENT) redis: RedisClient,
    config: ConfigService<GatewayEnvironment, true>,
    share: BackgroundShare,
  ) {
    this.collection = taskCollection(tasks);
    this.bulkWrites = share.limit(BULK_WRITES_IN_FLIGHT);
    this.quota = new TaskQuota(
      redis,
      config.get('REDIS_PREFIX', { infer: true }),
      config.get('TASKS_PER_USER_MAX', { infer: true }),
      (userId) => this.tasks.countDocuments(this.live(userId)).exec(),
    );
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

  private event(
    type: TaskEventType,
    taskId: Types.ObjectId,
    userId: string,
    traced = true,
  ): OutboxEntry {
    const event = this.events.create(type, taskId.toHexString(), userId);
    return traced ? withTraceContext(event) : event;
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
    await Promise.all([this.quota.reserve(userId), this.cache.invalidate(userId)]);
    // A new document has no other writer yet, so it needs no lock.
    await this.collection.insertOne(document);
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
      const result = await this.collection.updateOne(
        {
          ...this.live(userId, taskId),
          title: current.title,
          done: current.done,
          ...outboxHasRoom(events.length),
        },
        withEvents({ $set: { ...plan.set, updatedAt: now } }, events, now),
      );
      if (result.matchedCount === 0) {
        await this.throwIfOutboxFull(userId, taskId, events.length);
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
      const result = await this.collection.updateOne(
        { ...this.live(userId, taskId), ...outboxHasRoom() },
        withEvents({ $set: { deletedAt: now, updatedAt: now } }, [deleted], now),
      );
      if (result.matchedCount === 0) {
        await this.throwIfOutboxFull(userId, taskId, 1);
        throw new NotFoundException('Task not found');
      }
      this.outbox.stored(id, [deleted]);
    });
    await this.cache.invalidateAfterWrite(userId);
  }

  /** Marks every live task done (or not): one event per task that actually changed. */
  async toggleAll(userId: string, done: boolean): Promise<number> {
    return this.changeEach(userId, { done: !done }, (id, now, traced) => {
      const type = done ? 'task.completed' : 'task.uncompleted';
      const event = this.event(type, id, userId, traced);
      return { event, update: withEvents({ $set: { done, updatedAt: now } }, [event], now) };
    });
  }

  /** Tombstones every completed task: one task.deleted event per task. */
  async clearCompleted(userId: string): Promise<number> {
    return this.changeEach(userId, { done: true }, (id, now, traced) => {
      const event = this.event('task.deleted', id, userId, traced);
      return {
        event,
        update: withEvents({ $set: { deletedAt: now, updatedAt: now } }, [event], now),
      };
    });
  }

  /**
   * Changes every task matching `precondition`, each under its lock. The locks are taken round
   * by round, those that are free (one round trip each), so that the relay's settles of an
   * earlier change, which hold a few of them at any moment, never make the request wait for
   * all of them at once. Each task's change and its event are one single-document write whose
   * filter repeats the precondition, so a task changed in between is skipped rather than given
   * an event for a change that did not happen; a task whose outbox is full is skipped too (the
   * next bulk request takes it). Past the deadline it stops and answers 503: every task it
   * wrote carries its event, the rest are untouched, and repeating the request finishes the job.
   */
  private async changeEach(
    userId: string,
    precondition: { done: boolean },
    change: (
      id: Types.ObjectId,
      now: Date,
      traced: boolean,
    ) => { event: OutboxEntry; update: mongo.UpdateFilter<Task> },
  ): Promise<number> {
    const started = Date.now();
    const pastDeadline = () => Date.now() - started > BULK_DEADLINE_MS;
    const filter = { ...this.live(userId), ...precondition, ...outboxHasRoom() };
    const affected = await this.tasks.find(filter, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>();
    if (affected.length === 0) return 0;
    let remaining = affected.map(({ _id }) => _id.toHexString());
    let issued = 0;
    let changed = 0;
    try {
      while (remaining.length > 0 && !pastDeadline()) {
        const written: [Types.ObjectId, OutboxEntry][] = [];
        let unwritten: string[] = [];
        try {
          const busy = await this.conflictOnLostLock(() =>
            this.lock.runOnFree(remaining, async (heldIds, held) => {
              let next = 0;
              const writeNext = async (): Promise<void> => {
                while (next < heldIds.length && !pastDeadline()) {
                  const _id = new Types.ObjectId(heldIds[next++]);
                  const { event, update } = change(_id, new Date(), issued++ < BULK_TRACED_EVENTS);
                  held.throwIfAborted();
                  // Untraced: thousands of identical write spans would say less than the
                  // request's span with its counts (below).
                  const result = await this.bulkWrites(() =>
                    context.with(suppressTracing(context.active()), () =>
                      this.collection.updateOne({ ...filter, _id }, update),
                    ),
                  );
                  if (result.modifiedCount === 1) {
                    changed += 1;
                    written.push([_id, event]);
                  }
                }
              };
              // Up to BULK_WRITES_IN_FLIGHT writers, each waiting for the pod's shared bound;
              // every write in flight ends before the locks are freed, also when one failed.
              const writers = await Promise.allSettled(
                Array.from({ length: Math.min(BULK_WRITES_IN_FLIGHT, heldIds.length) }, writeNext),
              );
              unwritten = heldIds.slice(next);
              const failed = writers.find((writer) => writer.status === 'rejected');
              if (failed) throw failed.reason;
            }),
          );
          remaining = [...busy, ...unwritten];
        } finally {
          // The relay settles each document under its task's lock, and until here this round
          // held them: told earlier, every settle would wait out the round and give up.
          for (const [id, event] of written) this.outbox.stored(id, [event]);
        }
      }
    } finally {
      trace.getActiveSpan()?.setAttributes({
        'taskit.bulk.matched': affected.length,
        'taskit.bulk.changed': changed,
      });
      // Also after a failure part-way: some tasks may have changed.
      await this.cache.invalidateAfterWrite(userId);
    }
    if (remaining.length > 0) {
      throw new ServiceUnavailableException(
        `Changed ${changed} of ${affected.length} tasks before the deadline; repeat the request to finish`,
      );
    }
    return changed;
  }

  /** A write that matched nothing: a 429 when the task exists with a full outbox. */
  private async throwIfOutboxFull(userId: string, taskId: string, count: number): Promise<void> {
    const room = await this.tasks.exists({ ...this.live(userId, taskId), ...outboxHasRoom(count) });
    if (room) return;
    if (await this.tasks.exists(this.live(userId, taskId))) throw new OutboxFullException();
  }

  /** The task's lock around `work`. */
  private locked<T>(taskIds: string[], work: (held: AbortSignal) => Promise<T>): Promise<T> {
    return this.conflictOnLostLock(() => this.lock.run(taskIds, work));
  }

  /**
   * A lock wait that outlasted another writer, or a lease lost before a write, is a 409: the
   * client may retry (a single change wrote nothing; a bulk change keeps what it wrote, each
   * task with its event, and its repetition finishes the job).
   */
  private async conflictOnLostLock<T>(locked: () => Promise<T>): Promise<T> {
    try {
      return await locked();
    } catch (error) {
      if (error instanceof LockWaitTimeoutError || error instanceof LockLostError) {
        throw new ConflictException(`${error.message}; try again`);
      }
      throw error;
    }
  }
}
