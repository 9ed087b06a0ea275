import { createClient } from 'redis';
import type { RedisClient } from '../../apps/gateway/src/redis/redis.module';
import { RedisLockStore } from '../../apps/gateway/src/tasks/redis-lock-store';
import { LockWaitTimeoutError, TaskWriteLock } from '../../apps/gateway/src/tasks/task-write-lock';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';

/** The per-task write lock on the real Redis (its scripts, expiry and owner checks). */
describe('Redis: the task write lock', () => {
  let stack: IsolatedStack;
  let redis: RedisClient;

  beforeAll(async () => {
    stack = await createIsolatedStack('redis');
    redis = createClient({ url: stack.redisUrl });
    await redis.connect();
  });

  afterAll(async () => {
    await redis.close();
    await stack.cleanup();
  });

  const lockWith = (options: { ttlMs: number; waitMs: number }) =>
    new TaskWriteLock(new RedisLockStore(redis), stack.redisPrefix, { ...options, retryMs: 5 });

  it('serialises two writers of one task and frees the key afterwards', async () => {
    const lock = lockWith({ ttlMs: 5_000, waitMs: 2_000 });
    const order: string[] = [];
    const writer = (name: string) =>
      lock.run(['t1'], async () => {
        order.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 30));
        order.push(`${name} out`);
      });
    await Promise.all([writer('a'), writer('b')]);
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out']);
    expect(await redis.exists(lock.keyFor('t1'))).toBe(0);
  });

  it('gives up after the wait with LockWaitTimeoutError while another holds the task', async () => {
    const lock = lockWith({ ttlMs: 5_000, waitMs: 50 });
    await redis.set(lock.keyFor('t2'), 'someone-else', { PX: 5_000 });
    await expect(lock.run(['t2'], () => Promise.resolve())).rejects.toBeInstanceOf(
      LockWaitTimeoutError,
    );
    expect(await redis.get(lock.keyFor('t2'))).toBe('someone-else'); // not released by a loser
  });

  it('takes thousands of locks all together or none, and frees them all', async () => {
    const lock = lockWith({ ttlMs: 5_000, waitMs: 50 });
    const ids = Array.from({ length: 5_000 }, (_, i) => `many-${i}`);
    await redis.set(lock.keyFor('many-4999'), 'someone-else', { PX: 5_000 });
    await expect(lock.run(ids, () => Promise.resolve())).rejects.toBeInstanceOf(
      LockWaitTimeoutError,
    );
    expect(await redis.exists(lock.keyFor('many-0'))).toBe(0); // none taken
    await redis.del(lock.keyFor('many-4999'));
    await lock.run(ids, async () => {
      expect(await redis.exists(ids.map((id) => lock.keyFor(id)))).toBe(5_000);
    });
    expect(await redis.exists(ids.map((id) => lock.keyFor(id)))).toBe(0);
  });

  it('runOnFree takes the free ones of thousands of locks, leaves the held ones, and frees its own', async () => {
    const lock = lockWith({ ttlMs: 5_000, waitMs: 50 });
    const ids = Array.from({ length: 5_000 }, (_, i) => `free-${i}`);
    await redis.set(lock.keyFor('free-7'), 'a-settle', { PX: 5_000 });
    const busy = await lock.runOnFree(ids, async (heldIds) => {
      expect(heldIds).toHaveLength(4_999);
      expect(await redis.exists(heldIds.map((id) => lock.keyFor(id)))).toBe(4_999);
    });
    expect(busy).toEqual(['free-7']);
    expect(await redis.get(lock.keyFor('free-7'))).toBe('a-settle');
    expect(await redis.exists(ids.map((id) => lock.keyFor(id)))).toBe(1);
  });

  it('takes over a lease whose holder died once it expires', async () => {
    const lock = lockWith({ ttlMs: 5_000, waitMs: 1_000 });
    await redis.set(lock.keyFor('t3'), 'dead-holder', { PX: 100 });
    await expect(lock.run(['t3'], () => Promise.resolve('done'))).resolves.toBe('done');
  });

  it('renews the lease of a slow holder, and aborts it when the lease is taken away', async () => {
    const lock = lockWith({ ttlMs: 150, waitMs: 1_000 });
    const signals: boolean[] = [];
    await lock.run(['t4'], async (held) => {
      await new Promise((resolve) => setTimeout(resolve, 400)); // > ttl: renewed meanwhile
      signals.push(held.aborted);
      await redis.set(lock.keyFor('t4'), 'thief');
      await new Promise((resolve) => setTimeout(resolve, 150)); // next renewal finds it gone
      signals.push(held.aborted);
    });
    expect(signals).toEqual([false, true]);
    expect(await redis.get(lock.keyFor('t4'))).toBe('thief');
  });
});
