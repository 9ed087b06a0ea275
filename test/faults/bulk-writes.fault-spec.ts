import { mongo } from 'mongoose';
import { createClient } from 'redis';
import { ApiClient, registeredClient } from '../support/api-client';
import { eventually } from '../support/eventually';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import { PrivateFerretDb } from '../support/private-ferretdb';
import { startService, type RunningProcess } from '../support/processes';
import { TaskEventCollector } from '../support/task-events';

/** The per-user task cap's default (docs/limits.md): the largest list a bulk change meets. */
const LIST_AT_CAP = 5_000;

/**
 * Toggle-all and clear-completed over a list at the per-user cap, on a FerretDB of its own: a
 * bulkWrite of one statement per task held one PostgreSQL connection per statement until the
 * command ended, so from about 60 tasks on the update waited forever for one more connection
 * and FerretDB stopped answering anyone (docs/adr/bulk-writes.md). While the bulk changes run,
 * another user's reads and writes keep answering and the gateway stays ready.
 */
describe('bulk changes over a list at the per-user cap', () => {
  let ferretDb: PrivateFerretDb;
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let events: TaskEventCollector;

  beforeAll(async () => {
    ferretDb = await PrivateFerretDb.start('bulk');
    const shared = await createIsolatedStack('bulk');
    stack = { ...shared, mongodbUri: `${ferretDb.url}/taskit_bulk` };
    gateway = await startService('gateway', stack);
    events = new TaskEventCollector(stack);
    await events.start();
  }, 120_000);

  afterAll(async () => {
    await events?.stop();
    await gateway?.stop();
    await stack?.cleanup();
    await ferretDb?.stop();
  });

  /** The tasks of a user at the cap, stored as the gateway stores them (nothing pending). */
  async function seedList(userId: string): Promise<void> {
    const now = Date.now();
    const documents = Array.from({ length: LIST_AT_CAP }, (_, i) => ({
      _id: new mongo.ObjectId(),
      userId: new mongo.ObjectId(userId),
      title: `task ${i}`,
      done: false,
      createdAt: new Date(now + i),
      updatedAt: new Date(now + i),
      deletedAt: null,
      outbox: [],
      outboxPending: false,
    }));
    for (let i = 0; i < documents.length; i += 1_000) {
      await events.db.collection('tasks').insertMany(documents.slice(i, i + 1_000));
    }
  }

  /**
   * Repeats a bulk request until it completes. A 503 at its deadline keeps what it wrote and
   * must have made progress (a slow machine needs more rounds, never a round that does nothing).
   */
  async function untilDone(api: ApiClient, path: string, body?: object): Promise<number> {
    let total = 0;
    for (;;) {
      const response = await api.post(path, body);
      if (response.status !== 503) {
        expect(response.status).toBe(200);
        return total + Number(response.body.updated ?? response.body.deleted);
      }
      expect(response.body.message).toMatch(/repeat the request to finish/);
      const changed = Number(/Changed (\d+) of/.exec(response.body.message as string)?.[1]);
      expect(changed).toBeGreaterThan(0);
      total += changed;
    }
  }

  /** Another user's reads and writes, and the readiness probe, until `stop` is set. */
  function neighbour(api: ApiClient) {
    const statuses: number[] = [];
    const readiness: number[] = [];
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        statuses.push((await api.get('/api/tasks')).status);
        statuses.push((await api.post('/api/tasks', { title: 'still here' })).status);
        readiness.push((await fetch(`${gateway.url}/health/ready`)).status);
      }
    })();
    return {
      statuses,
      readiness,
      async finish() {
        stop = true;
        await loop;
      },
    };
  }

  async function lockKeysLeft(): Promise<string[]> {
    const redis = createClient({ url: stack.redisUrl });
    await redis.connect();
    try {
      return await redis.keys(`${stack.redisPrefix}task-lock:*`);
    } finally {
      await redis.close();
    }
  }

  it('toggles and clears every task with one event each, while another user keeps being served', async () => {
    const owner = await registeredClient(gateway.url, 'bulk');
    const userId = (await owner.get('/api/auth/me')).body.user.id as string;
    await seedList(userId);
    const other = neighbour(await registeredClient(gateway.url, 'neighbour'));
    try {
      expect(await untilDone(owner, '/api/tasks/toggle-all', { done: true })).toBe(LIST_AT_CAP);
      expect(await untilDone(owner, '/api/tasks/clear-completed')).toBe(LIST_AT_CAP);
    } finally {
      await other.finish();
    }

    expect(other.statuses.length).toBeGreaterThan(0);
    expect(other.statuses.filter((status) => status >= 300)).toEqual([]);
    expect(other.readiness.filter((status) => status !== 200)).toEqual([]);
    await eventually(
      async () => {
        const byType = new Map<string, Set<string>>();
        for (const event of await events.eventsOf(userId)) {
          const tasks = byType.get(event.type) ?? new Set<string>();
          tasks.add(event.taskId);
          byType.set(event.type, tasks);
        }
        expect(byType.get('task.completed')?.size).toBe(LIST_AT_CAP);
        expect(byType.get('task.deleted')?.size).toBe(LIST_AT_CAP);
        // Once the relay has settled every event, no lock is held: none was left behind.
        expect(await lockKeysLeft()).toEqual([]);
      },
      120_000,
      1_000,
    );
  }, 900_000);
});

/**
 * The cause, held against the server itself: FerretDB 1.24 keeps the PostgreSQL connection of
 * every statement of one update command until the command ends, so a bulkWrite of more
 * statements than its pool has connections (a private one of 40 here) never answers. When this
 * fails, FerretDB no longer needs the gateway's one statement per command (tasks.service.ts).
 */
describe('FerretDB 1.24: one update command of many statements', () => {
  const POOL = 40;
  let ferretDb: PrivateFerretDb;
  let client: mongo.MongoClient;

  beforeAll(async () => {
    ferretDb = await PrivateFerretDb.start('bulkcause');
    client = new mongo.MongoClient(`${ferretDb.url}/cause`, { serverSelectionTimeoutMS: 5_000 });
    await client.connect();
  }, 120_000);

  afterAll(async () => {
    await ferretDb?.stop();
    await client?.close(true).catch(() => undefined);
  }, 60_000);

  it(`never answers a bulkWrite of ${POOL + 10} statements`, async () => {
    const collection = client.db().collection<{ _id: number; done: boolean }>('tasks');
    const ids = Array.from({ length: POOL + 10 }, (_, i) => i);
    await collection.insertMany(ids.map((_id) => ({ _id, done: false })));
    const operations = ids.map((_id) => ({
      updateOne: { filter: { _id, done: false }, update: { $set: { done: true } } },
    }));
    const outcome = await Promise.race([
      collection.bulkWrite(operations, { ordered: false }).then(() => 'answered'),
      new Promise((resolve) => setTimeout(() => resolve('no answer after 20 s'), 20_000)),
    ]);
    expect(outcome).toBe('no answer after 20 s');
  }, 60_000);
});
