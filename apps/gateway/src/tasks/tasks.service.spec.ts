import { ConflictException, HttpException, NotFoundException } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { TaskEvent } from '@taskit/contracts';
import { Types, type Model } from 'mongoose';
import type { GatewayEnvironment } from '../config/gateway-environment';
import type { TaskEventFactory } from './task-event.factory';
import type { TaskListCache } from './task-list.cache';
import { OUTBOX_ENTRIES_PER_TASK_MAX } from './task-outbox';
import type { TaskOutboxStore } from './task-outbox.store';
import { TaskWriteLock, type LockStore } from './task-write-lock';
import type { Task } from './task.schema';
import type { RedisClient } from '../redis/redis.module';
import { BackgroundShare } from '../rate-limit/background-share';
import { BULK_WRITES_IN_FLIGHT, TasksService } from './tasks.service';

const TASKS_PER_USER_MAX = 3;
const config = { get: () => TASKS_PER_USER_MAX } as unknown as ConfigService<
  GatewayEnvironment,
  true
>;
/** Redis for the task quota, holding no estimate: every create counts the tasks. */
const quotaRedis = {
  eval: () => Promise.resolve(null),
  set: () => Promise.resolve('OK'),
} as unknown as RedisClient;

type Doc = Record<string, unknown> & { _id: Types.ObjectId; outbox: TaskEvent[] };

/** Just enough of a Mongoose model: one collection in memory, equality and array-index `$exists` filters. */
class FakeTasks {
  readonly docs: Doc[] = [];
  private matches(filter: Record<string, unknown>) {
    return (doc: Doc) =>
      Object.entries(filter).every(([k, v]) => {
        const index = /^outbox\.(\d+)$/.exec(k);
        if (index)
          return doc.outbox.length > Number(index[1]) === (v as { $exists: boolean }).$exists;
        const have = doc[k] ?? null;
        return v instanceof Types.ObjectId ? v.equals(have as Types.ObjectId) : have === v;
      });
  }
  exists(filter: Record<string, unknown>) {
    return Promise.resolve(this.docs.some(this.matches(filter)) ? { _id: 1 } : null);
  }
  private chain<T>(value: T) {
    return { lean: () => ({ exec: () => Promise.resolve(value) }) };
  }
  updates = 0;
  /** Writes under way now, the most at once, and how long each takes (a loaded database). */
  writing = 0;
  mostWriting = 0;
  writeDelayMs = 0;
  collection = {
    insertOne: (doc: Doc) => Promise.resolve(void this.docs.push({ ...doc })),
    // The bulk changes write through the driver (no casting per task).
    updateOne: async (
      filter: Record<string, unknown>,
      update: Record<string, Record<string, unknown>>,
    ) => {
      this.writing += 1;
      this.mostWriting = Math.max(this.mostWriting, this.writing);
      await new Promise((resolve) => setTimeout(resolve, this.writeDelayMs));
      this.writing -= 1;
      return this.updateOne(filter, update);
    },
  };
  findOne(filter: Record<string, unknown>) {
    return this.chain(this.docs.find(this.matches(filter)) ?? null);
  }
  find(filter: Record<string, unknown>) {
    return { lean: () => Promise.resolve(this.docs.filter(this.matches(filter))) };
  }
  countDocuments(filter: Record<string, unknown>) {
    return { exec: () => Promise.resolve(this.docs.filter(this.matches(filter)).length) };
  }
  private apply(doc: Doc, update: Record<string, Record<string, unknown>>) {
    Object.assign(doc, update.$set);
    const pushed = update.$push?.outbox as { $each: TaskEvent[] } | undefined;
    if (pushed) doc.outbox = [...doc.outbox, ...pushed.$each];
  }
  updateOne(filter: Record<string, unknown>, update: Record<string, Record<string, unknown>>) {
    const doc = this.docs.find(this.matches(filter));
    if (doc) this.apply(doc, update);
    this.updates += 1;
    return Promise.resolve({ matchedCount: doc ? 1 : 0, modifiedCount: doc ? 1 : 0 });
  }
}

class FreeLocks implements LockStore {
  held = new Set<string>();
  acquire(keys: readonly string[]) {
    const free = keys.filter((key) => !this.held.has(key));
    for (const key of free) this.held.add(key);
    return Promise.resolve(free);
  }
  extend() {
    return Promise.resolve(true);
  }
  release(keys: readonly string[]) {
    for (const key of keys) this.held.delete(key);
    return Promise.resolve();
  }
}

describe('TasksService: the events each change records', () => {
  const userId = new Types.ObjectId().toHexString();
  let tasks: FakeTasks;
  let locks: FreeLocks;
  let told: { id: string; types: string[] }[];
  /** How many task locks were held each time the relay was told of a document. */
  const heldWhenTold: number[] = [];
  let service: TasksService;
  let share: BackgroundShare;

  beforeEach(() => {
    tasks = new FakeTasks();
    locks = new FreeLocks();
    told = [];
    let n = 0;
    const factory = {
      create: (type: string, taskId: string, user: string) => ({
        eventId: `e${++n}`,
        type,
        taskId,
        userId: user,
        occurredAt: `2026-12-02T10:00:00.00000000${n}Z`,
        version: 1,
      }),
    } as unknown as TaskEventFactory;
    const cache = {
      invalidate: () => Promise.resolve(),
      invalidateAfterWrite: () => Promise.resolve(),
    } as unknown as TaskListCache;
    const outbox = {
      stored: (id: Types.ObjectId, events: TaskEvent[]) => {
        told.push({ id: id.toHexString(), types: events.map((e) => e.type) });
        heldWhenTold.push(locks.held.size);
      },
    } as unknown as TaskOutboxStore;
    const lock = new TaskWriteLock(locks, 'p:', { ttlMs: 1_000, waitMs: 30, retryMs: 2 });
    share = new BackgroundShare();
    service = new TasksService(
      tasks as unknown as Model<Task>,
      factory,
      cache,
      lock,
      outbox,
      quotaRedis,
      config,
      share,
    );
  });

  it('create refuses a task beyond TASKS_PER_USER_MAX with a 409, storing nothing', async () => {
    for (let i = 0; i < TASKS_PER_USER_MAX; i++) await service.create(userId, `task ${i}`);
    await expect(service.create(userId, 'one too many')).rejects.toThrow(ConflictException);
    expect(tasks.docs).toHaveLength(TASKS_PER_USER_MAX);
    // Another account is not affected by this one's cap.
    await service.create(new Types.ObjectId().toHexString(), 'someone else');
    expect(tasks.docs).toHaveLength(TASKS_PER_USER_MAX + 1);
  });

  /** Open tasks stored as the relay leaves them (outbox empty), without going through create. */
  const insertOpenTasks = (user: string, count: number) => {
    for (let i = 0; i < count; i++) {
      tasks.docs.push({
        _id: new Types.ObjectId(),
        userId: new Types.ObjectId(user),
        title: `t${i}`,
        done: false,
        deletedAt: null,
        outbox: [],
      });
    }
  };

  const outboxOf = (id: string) =>
    tasks.docs.find((d) => d._id.toHexString() === id)?.outbox.map((e) => e.type);

  it('create stores task.created in the new document and tells the relay', async () => {
    const view = await service.create(userId, 'write tests');
    expect(outboxOf(view.id)).toEqual(['task.created']);
    expect(tasks.docs[0].outboxPending).toBe(true);
    expect(told).toEqual([{ id: view.id, types: ['task.created'] }]);
  });

  it('a PATCH records one event per real change, none for a no-op', async () => {
    const { id } = await service.create(userId, 'a');
    await service.update(userId, id, { title: 'b', done: true });
    await service.update(userId, id, { title: 'b', done: true });
    expect(outboxOf(id)).toEqual(['task.created', 'task.updated', 'task.completed']);
    expect(told.map((t) => t.types)).toEqual([
      ['task.created'],
      ['task.updated', 'task.completed'],
    ]);
  });

  it('a PATCH of a task that is locked by another writer answers 409 and records nothing', async () => {
    const { id } = await service.create(userId, 'a');
    locks.held.add(`p:task-lock:${id}`);
    await expect(service.update(userId, id, { done: true })).rejects.toBeInstanceOf(
      ConflictException,
    );
    expect(outboxOf(id)).toEqual(['task.created']);
  });

  it('a PATCH whose lease was taken over before its write answers 409 and records nothing', async () => {
    const { id } = await service.create(userId, 'a');
    const slowLock = new TaskWriteLock(locks, 'p:', { ttlMs: 30, waitMs: 30, retryMs: 2 });
    const factory = { create: () => ({}) } as unknown as TaskEventFactory;
    const outbox = { stored: () => undefined } as unknown as TaskOutboxStore;
    const cache = { invalidateAfterWrite: () => Promise.resolve() } as unknown as TaskListCache;
    const slow = new TasksService(
      tasks as unknown as Model<Task>,
      factory,
      cache,
      slowLock,
      outbox,
      quotaRedis,
      config,
      new BackgroundShare(),
    );
    locks.extend = () => Promise.resolve(false); // another writer holds the key now
    const findOne = tasks.findOne.bind(tasks);
    tasks.findOne = (filter) => ({
      lean: () => ({
        exec: () => new Promise((r) => setTimeout(r, 50)).then(() => findOne(filter).lean().exec()),
      }),
    });
    await expect(slow.update(userId, id, { done: true })).rejects.toBeInstanceOf(ConflictException);
    expect(outboxOf(id)).toEqual(['task.created']);
  });

  it('delete tombstones with task.deleted; a second delete is 404 and records nothing', async () => {
    const { id } = await service.create(userId, 'a');
    await service.remove(userId, id);
    await expect(service.remove(userId, id)).rejects.toBeInstanceOf(NotFoundException);
    expect(outboxOf(id)).toEqual(['task.created', 'task.deleted']);
    expect(told).toHaveLength(2);
  });

  it('toggle-all records task.completed only for the tasks it changed', async () => {
    const a = await service.create(userId, 'a');
    const b = await service.create(userId, 'b');
    await service.update(userId, b.id, { done: true });
    expect(await service.toggleAll(userId, true)).toBe(1);
    expect(outboxOf(a.id)).toEqual(['task.created', 'task.completed']);
    expect(outboxOf(b.id)).toEqual(['task.created', 'task.completed']);
    expect(locks.held.size).toBe(0);
  });

  it('toggle-all writes one document per command and frees every lock', async () => {
    insertOpenTasks(userId, 70);
    tasks.updates = 0;
    expect(await service.toggleAll(userId, true)).toBe(70);
    expect(tasks.updates).toBe(70);
    expect(told.filter((t) => t.types[0] === 'task.completed')).toHaveLength(70);
    expect(locks.held.size).toBe(0);
  });

  it('a bulk change writes the tasks whose locks are free, then the others once freed, without a 409', async () => {
    insertOpenTasks(userId, 20);
    // The relay's settles of an earlier change hold a few of the locks, longer than a single
    // change would wait for them (waitMs 30).
    const settling = tasks.docs.slice(0, 3).map((doc) => `p:task-lock:${doc._id.toHexString()}`);
    for (const key of settling) locks.held.add(key);
    setTimeout(() => settling.forEach((key) => locks.held.delete(key)), 80);
    expect(await service.toggleAll(userId, true)).toBe(20);
    expect(tasks.docs.every((doc) => doc.done)).toBe(true);
    expect(told.filter((t) => t.types[0] === 'task.completed')).toHaveLength(20);
    expect(locks.held.size).toBe(0);
  });

  it('bulk changes of several users at once keep BULK_WRITES_IN_FLIGHT writes in flight in all', async () => {
    const users = [userId, new Types.ObjectId().toHexString(), new Types.ObjectId().toHexString()];
    for (const user of users) insertOpenTasks(user, 12);
    tasks.writeDelayMs = 2;
    const changed = await Promise.all(users.map((user) => service.toggleAll(user, true)));
    expect(changed).toEqual([12, 12, 12]);
    expect(tasks.mostWriting).toBe(BULK_WRITES_IN_FLIGHT);
  });

  it('while the pod serves another request, bulk changes write one task at a time', async () => {
    insertOpenTasks(userId, 12);
    tasks.writeDelayMs = 2;
    const served = share.serve();
    try {
      expect(await service.toggleAll(userId, true)).toBe(12);
    } finally {
      served();
    }
    expect(tasks.mostWriting).toBe(1);
  });

  it('a bulk change tells the relay of its documents only once their locks are free', async () => {
    // The relay settles each document under its task's lock: told while the bulk change holds
    // them all, every settle would wait for the whole change.
    for (let i = 0; i < TASKS_PER_USER_MAX; i++) await service.create(userId, `t${i}`);
    heldWhenTold.length = 0;
    expect(await service.toggleAll(userId, true)).toBe(TASKS_PER_USER_MAX);
    expect(heldWhenTold).toEqual(Array.from({ length: TASKS_PER_USER_MAX }, () => 0));
  });

  it('a task whose outbox is full refuses a change with 429 and keeps its events', async () => {
    const { id } = await service.create(userId, 'a');
    const doc = tasks.docs[0];
    doc.outbox = Array.from({ length: OUTBOX_ENTRIES_PER_TASK_MAX }, () => doc.outbox[0]);
    const refused = service.update(userId, id, { done: true });
    await expect(refused).rejects.toBeInstanceOf(HttpException);
    await expect(refused).rejects.toMatchObject({ status: 429 });
    await expect(service.remove(userId, id)).rejects.toMatchObject({ status: 429 });
    expect(doc.outbox).toHaveLength(OUTBOX_ENTRIES_PER_TASK_MAX);
    expect(doc.done).toBe(false);
  });

  it("another user's task is not found, and nothing is recorded", async () => {
    const { id } = await service.create(userId, 'a');
    const other = new Types.ObjectId().toHexString();
    await expect(service.update(other, id, { done: true })).rejects.toBeInstanceOf(
      NotFoundException,
    );
    expect(outboxOf(id)).toEqual(['task.created']);
  });
});
