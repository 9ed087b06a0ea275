import { LockWaitTimeoutError, TaskWriteLock, type LockStore } from './task-write-lock';

/** Leases in memory, with expiry read from a clock the test moves. */
class MemoryLockStore implements LockStore {
  readonly leases = new Map<string, { token: string; until: number }>();
  now = 0;
  failExtend = false;

  private live(key: string) {
    const lease = this.leases.get(key);
    return lease && lease.until > this.now ? lease : undefined;
  }

  /** Round trips to the store, as Redis would count them. */
  calls = 0;

  acquire(keys: readonly string[], token: string, ttlMs: number): Promise<string[]> {
    this.calls += 1;
    const free = keys.filter((key) => !this.live(key) || this.live(key)?.token === token);
    for (const key of free) this.leases.set(key, { token, until: this.now + ttlMs });
    return Promise.resolve(free);
  }

  extend(keys: readonly string[], token: string, ttlMs: number): Promise<boolean> {
    this.calls += 1;
    if (this.failExtend) return Promise.reject(new Error('store unreachable'));
    let held = 0;
    for (const key of keys) {
      const lease = this.live(key);
      if (lease?.token !== token) continue;
      lease.until = this.now + ttlMs;
      held += 1;
    }
    return Promise.resolve(held === keys.length);
  }

  release(keys: readonly string[], token: string): Promise<void> {
    this.calls += 1;
    for (const key of keys) if (this.leases.get(key)?.token === token) this.leases.delete(key);
    return Promise.resolve();
  }
}

const options = { ttlMs: 300, waitMs: 100, retryMs: 2 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TaskWriteLock', () => {
  let store: MemoryLockStore;
  let lock: TaskWriteLock;

  beforeEach(() => {
    store = new MemoryLockStore();
    lock = new TaskWriteLock(store, 'p:', options);
  });

  it('holds the task while the work runs and releases it after, also when the work throws', async () => {
    await lock.run(['a'], () => {
      expect(store.leases.has('p:task-lock:a')).toBe(true);
      return Promise.resolve();
    });
    expect(store.leases.size).toBe(0);
    await expect(lock.run(['a'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(store.leases.size).toBe(0);
  });

  it('serialises two writers of one task', async () => {
    const order: string[] = [];
    const first = lock.run(['a'], async () => {
      order.push('first in');
      await sleep(20);
      order.push('first out');
    });
    const second = lock.run(['a'], () => {
      order.push('second in');
      return Promise.resolve();
    });
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('lets writers of different tasks run at once', async () => {
    let inside = 0;
    let most = 0;
    const work = async () => {
      most = Math.max(most, ++inside);
      await sleep(10);
      inside -= 1;
    };
    await Promise.all([lock.run(['a'], work), lock.run(['b'], work)]);
    expect(most).toBe(2);
  });

  it('gives up with LockWaitTimeoutError after waitMs, leaving the holder alone', async () => {
    await store.acquire(['p:task-lock:a'], 'someone', 10_000);
    const started = Date.now();
    await expect(lock.run(['a'], () => Promise.resolve())).rejects.toBeInstanceOf(
      LockWaitTimeoutError,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(options.waitMs);
    expect(store.leases.get('p:task-lock:a')?.token).toBe('someone');
  });

  it('takes none of several locks while another writer holds one of them', async () => {
    await store.acquire(['p:task-lock:b'], 'someone', 10_000);
    await expect(lock.run(['b', 'a'], () => Promise.resolve())).rejects.toBeInstanceOf(
      LockWaitTimeoutError,
    );
    expect(store.leases.has('p:task-lock:a')).toBe(false);
  });

  it('runOnFree: works on the tasks whose locks are free, answers the others and frees what it took', async () => {
    await store.acquire(['p:task-lock:b'], 'someone', 10_000);
    let worked: string[] = [];
    const busy = await lock.runOnFree(['a', 'b', 'c'], (heldIds) => {
      worked = heldIds;
      expect(store.leases.get('p:task-lock:a')?.token).not.toBe('someone');
      return Promise.resolve();
    });
    expect(worked).toEqual(['a', 'c']);
    expect(busy).toEqual(['b']);
    expect([...store.leases.keys()]).toEqual(['p:task-lock:b']);
  });

  it('runOnFree: takes and frees thousands of locks in one round trip each', async () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => `t${i}`);
    const busy = await lock.runOnFree(ids, (heldIds) => {
      expect(heldIds).toHaveLength(5_000);
      expect(store.leases.size).toBe(5_000);
      return Promise.resolve();
    });
    expect(busy).toEqual([]);
    expect(store.leases.size).toBe(0);
    expect(store.calls).toBe(2);
  });

  it('takes and frees thousands of locks in one round trip each', async () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => `t${i}`);
    await lock.run(ids, () => {
      expect(store.leases.size).toBe(5_000);
      return Promise.resolve();
    });
    expect(store.leases.size).toBe(0);
    expect(store.calls).toBe(2);
  });

  it('renews the lease of a holder slower than its ttl', async () => {
    let signal: AbortSignal | undefined;
    await lock.run(['a'], async (held) => {
      signal = held;
      for (let i = 0; i < 5; i++) {
        store.now += 150; // half a ttl of store time per renewal period
        await sleep(options.ttlMs / 3 + 10);
      }
      // Without renewals the lease would have ended at store time 300; it is at 750 now.
      expect(store.leases.get('p:task-lock:a')?.until).toBeGreaterThan(store.now);
    });
    expect(signal?.aborted).toBe(false);
  });

  it('aborts the work when the lease was lost (expired and taken by another)', async () => {
    const outcome = lock.run(['a'], async (held) => {
      store.now += 1_000; // the lease expired: a stalled holder
      await store.acquire(['p:task-lock:a'], 'other', 10_000);
      await sleep(options.ttlMs / 3 + 20);
      held.throwIfAborted();
      return 'wrote';
    });
    await expect(outcome).rejects.toThrow('the task lock expired before the write');
    // Its release did not free the other holder's lock.
    expect(store.leases.get('p:task-lock:a')?.token).toBe('other');
  });

  it('aborts the work when the lease cannot be renewed', async () => {
    const outcome = lock.run(['a'], async (held) => {
      store.failExtend = true;
      await sleep(options.ttlMs / 3 + 20);
      held.throwIfAborted();
    });
    await expect(outcome).rejects.toThrow('store unreachable');
  });
});
