import { randomUUID } from 'node:crypto';
import type { TaskEvent } from '@taskit/contracts';
import { createConnection, Types, type Connection, type Model } from 'mongoose';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import { RedisLockStore } from '../../apps/gateway/src/tasks/redis-lock-store';
import { TaskOutboxStore } from '../../apps/gateway/src/tasks/task-outbox.store';
import { withEvents } from '../../apps/gateway/src/tasks/task-outbox';
import { Task, TaskSchema } from '../../apps/gateway/src/tasks/task.schema';
import { TaskWriteLock } from '../../apps/gateway/src/tasks/task-write-lock';
import type { RedisClient } from '../../apps/gateway/src/redis/redis.module';
import { User, UserSchema } from '../../apps/gateway/src/users/user.schema';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';

/** The gateway's schemas, their indexes and the outbox store on the MongoDB-protocol server. */
describe('task and user collections on the MongoDB-protocol server (FerretDB locally)', () => {
  let stack: IsolatedStack;
  let connection: Connection;
  let redis: RedisClient;
  let tasks: Model<Task>;
  let store: TaskOutboxStore;
  let lock: TaskWriteLock;
  /** The commands the store sent, by name, since the last reset. */
  let commands: string[] = [];

  beforeAll(async () => {
    stack = await createIsolatedStack('mongo');
    connection = await createConnection(stack.mongodbUri, { monitorCommands: true }).asPromise();
    connection.getClient().on('commandStarted', (event) => commands.push(event.commandName));
    redis = createClient({ url: stack.redisUrl });
    await redis.connect();
    tasks = connection.model<Task>(Task.name, TaskSchema);
    await tasks.init();
    lock = new TaskWriteLock(new RedisLockStore(redis), stack.redisPrefix);
    store = new TaskOutboxStore(tasks, lock, new Registry());
  });

  afterAll(async () => {
    await connection.close();
    await redis.close();
    await stack.cleanup();
  });

  const userId = new Types.ObjectId();
  const event = (type: TaskEvent['type'], taskId: Types.ObjectId): TaskEvent => ({
    eventId: randomUUID(),
    type,
    taskId: taskId.toHexString(),
    userId: userId.toHexString(),
    occurredAt: new Date().toISOString(),
    version: 1,
  });

  async function insertTask(outbox: TaskEvent[], deletedAt: Date | null = null) {
    const _id = new Types.ObjectId();
    const now = new Date();
    const events = outbox.map((e) => ({ ...e, taskId: _id.toHexString() }));
    await tasks.collection.insertOne({
      _id,
      userId,
      title: 'write the report',
      done: false,
      createdAt: now,
      updatedAt: now,
      deletedAt,
      outbox: events,
      outboxPending: events.length > 0,
      ...(events.length > 0 ? { outboxSince: now } : {}),
    });
    return { _id, events };
  }

  const stored = (_id: Types.ObjectId) =>
    tasks.collection.findOne<Task & { outboxSince?: Date }>({ _id });

  it('creates the list and sweep indexes of the schema', async () => {
    const keys = (await tasks.collection.indexes()).map((index) => index.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        { userId: 1, deletedAt: 1, createdAt: 1, _id: 1 },
        { userId: 1, deletedAt: 1, done: 1, createdAt: 1, _id: 1 },
        { outboxPending: 1, outboxSince: 1 },
      ]),
    );
  });

  it('withEvents appends to the outbox and keeps the oldest outboxSince', async () => {
    const { _id, events } = await insertTask([event('task.created', new Types.ObjectId())]);
    const later = new Date(Date.now() + 60_000);
    const completed = event('task.completed', _id);
    await tasks.updateOne({ _id }, withEvents({ $set: { done: true } }, [completed], later));
    const document = await stored(_id);
    expect(document?.outbox.map((e) => e.eventId)).toEqual([events[0].eventId, completed.eventId]);
    expect(document?.outboxSince?.getTime()).toBeLessThan(later.getTime());
    expect(document).toMatchObject({ done: true, outboxPending: true });
  });

  it('settle clears an outbox that holds exactly the published events in one write', async () => {
    const { _id, events } = await insertTask([event('task.created', new Types.ObjectId())]);
    commands = [];
    await store.settle([{ id: _id.toHexString(), events: events }]);
    expect(commands).toEqual(['update']);
    const document = await stored(_id);
    expect(document).toMatchObject({ outbox: [], outboxPending: false });
    expect(document).not.toHaveProperty('outboxSince');
  });

  it('settle keeps the events that arrived after the publish', async () => {
    const first = event('task.created', new Types.ObjectId());
    const second = event('task.completed', new Types.ObjectId());
    const { _id, events } = await insertTask([first, second]);
    await store.settle([{ id: _id.toHexString(), events: [events[0]] }]);
    const document = await stored(_id);
    expect(document?.outbox.map((e) => e.eventId)).toEqual([second.eventId]);
    expect(document?.outboxPending).toBe(true);
  });

  it('settle removes a tombstone once its task.deleted is published, in one write', async () => {
    const id = new Types.ObjectId();
    const { _id, events } = await insertTask(
      [event('task.created', id), event('task.deleted', id)],
      new Date(),
    );
    commands = [];
    await store.settle([{ id: _id.toHexString(), events: events }]);
    expect(commands).toEqual(['delete']);
    expect(await stored(_id)).toBeNull();
  });

  it('settle removes a tombstone whose task.deleted was published before its last event', async () => {
    const id = new Types.ObjectId();
    const { _id, events } = await insertTask(
      [event('task.created', id), event('task.deleted', id)],
      new Date(),
    );
    await store.settle([{ id: _id.toHexString(), events: [events[1]] }]);
    await store.settle([{ id: _id.toHexString(), events: [events[0]] }]);
    expect(await stored(_id)).toBeNull();
  });

  it('settle of a tombstone with an unpublished event keeps it', async () => {
    const id = new Types.ObjectId();
    const { _id, events } = await insertTask(
      [event('task.completed', id), event('task.deleted', id)],
      new Date(),
    );
    await store.settle([{ id: _id.toHexString(), events: [events[1]] }]);
    const document = await stored(_id);
    expect(document?.outbox.map((e) => e.eventId)).toEqual([events[0].eventId]);
  });

  it('settle writes a batch in one command per kind: outboxes cleared, tombstones removed', async () => {
    const id = new Types.ObjectId();
    const live = await Promise.all(
      [1, 2, 3].map(() => insertTask([event('task.created', new Types.ObjectId())])),
    );
    const tombstone = await insertTask(
      [event('task.created', id), event('task.deleted', id)],
      new Date(),
    );
    commands = [];
    await store.settle(
      [...live, tombstone].map(({ _id, events }) => ({ id: _id.toHexString(), events })),
    );
    expect(commands.sort()).toEqual(['delete', 'update']);
    for (const { _id } of live) {
      expect(await stored(_id)).toMatchObject({ outbox: [], outboxPending: false });
    }
    expect(await stored(tombstone._id)).toBeNull();
  });

  it('settle of a batch keeps the events that arrived after the publish, and clears the rest', async () => {
    const cleared = await insertTask([event('task.created', new Types.ObjectId())]);
    const first = event('task.created', new Types.ObjectId());
    const later = event('task.completed', new Types.ObjectId());
    const grown = await insertTask([first, later]);
    await store.settle([
      { id: cleared._id.toHexString(), events: cleared.events },
      { id: grown._id.toHexString(), events: [grown.events[0]] },
    ]);
    expect(await stored(cleared._id)).toMatchObject({ outbox: [], outboxPending: false });
    const document = await stored(grown._id);
    expect(document?.outbox.map((e) => e.eventId)).toEqual([later.eventId]);
    expect(document?.outboxPending).toBe(true);
  });

  it('settle of documents with no confirmed events takes no lock and sends no command', async () => {
    const runOnFree = jest.spyOn(lock, 'runOnFree');
    commands = [];
    await store.settle([{ id: new Types.ObjectId().toHexString(), events: [] }]);
    expect(runOnFree).not.toHaveBeenCalled();
    expect(commands).toEqual([]);
    runOnFree.mockRestore();
  });

  it('settle of a batch writes the free documents at once and waits for the lock of one another writer holds', async () => {
    const free = await insertTask([event('task.created', new Types.ObjectId())]);
    const held = await insertTask([event('task.created', new Types.ObjectId())]);
    let release = () => undefined as void;
    const holding = lock.run(
      [held._id.toHexString()],
      () => new Promise<void>((r) => (release = r)),
    );
    const settled = store.settle(
      [free, held].map(({ _id, events }) => ({ id: _id.toHexString(), events })),
    );
    for (let i = 0; i < 200; i++) {
      if ((await stored(free._id))?.outboxPending === false) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await stored(free._id)).toMatchObject({ outboxPending: false });
    expect(await stored(held._id)).toMatchObject({ outboxPending: true });
    release();
    await holding;
    await settled;
    expect(await stored(held._id)).toMatchObject({ outbox: [], outboxPending: false });
  });

  it('pendingIds lists the documents with events recorded before the cut-off; pendingEvents reads their events', async () => {
    await tasks.deleteMany({});
    const older = await insertTask([event('task.created', new Types.ObjectId())]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const newer = await insertTask([event('task.created', new Types.ObjectId())]);
    const settled = await insertTask([]);
    const ids = await store.pendingIds(new Date(Date.now() + 1_000), 10);
    expect(ids.sort()).toEqual([older._id.toHexString(), newer._id.toHexString()].sort());
    const found = await store.pendingEvents([...ids, settled._id.toHexString()]);
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(found.sort(byId)).toEqual(
      [
        { id: older._id.toHexString(), events: older.events },
        { id: newer._id.toHexString(), events: newer.events },
      ].sort(byId),
    );
    expect(await store.pendingIds(new Date(0), 10)).toEqual([]);
    expect(await store.backlog()).toMatchObject({ events: 2 });
  });

  it("the users schema's unique index refuses a second account with the same email", async () => {
    const users = connection.model(User.name, UserSchema);
    await users.init();
    await users.create({ email: 'ada@example.com', passwordHash: 'x' });
    await expect(
      users.create({ email: 'ada@example.com', passwordHash: 'y' }),
    ).rejects.toMatchObject({
      code: 11000,
    });
    expect(await users.countDocuments()).toBe(1);
  });
});
