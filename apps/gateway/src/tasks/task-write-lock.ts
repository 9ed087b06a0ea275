import { randomUUID } from 'node:crypto';

/**
 * The three operations of a lease-based lock over a set of keys, each one round trip whatever
 * the number of keys; Redis in the gateway (redis-lock-store.ts).
 */
export interface LockStore {
  /** Takes for `token` every key that is free or already its own; answers the keys it holds. */
  acquire(keys: readonly string[], token: string, ttlMs: number): Promise<string[]>;
  /** Extends the leases; false unless `token` still held every key. */
  extend(keys: readonly string[], token: string, ttlMs: number): Promise<boolean>;
  /** Frees the keys `token` still holds. */
  release(keys: readonly string[], token: string): Promise<void>;
}

export interface WriteLockOptions {
  /** A holder that dies keeps a task locked at most this long. */
  ttlMs: number;
  /** How long a writer waits for a task that someone else is writing. */
  waitMs: number;
  retryMs: number;
}

export const DEFAULT_WRITE_LOCK_OPTIONS: WriteLockOptions = {
  ttlMs: 5_000,
  waitMs: 2_000,
  retryMs: 5,
};

/** The task stayed locked by another writer for the whole wait: contention, not a fault. */
export class LockWaitTimeoutError extends Error {}

/** A renewal found the lease gone (taken over after it expired): the work must not write. */
export class LockLostError extends Error {}

/**
 * Serialises the writes to one task document across every gateway process.
 *
 * FerretDB 1.x applies an update by reading the document, changing it in Go and writing the
 * whole document back without a transaction, so two concurrent writers of one document (two
 * requests, or a request and the outbox relay settling it) lose one write. Every writer of a
 * task document takes that task's lock; on MongoDB, whose single-document updates are atomic,
 * the lock only makes the same code correct on both. Locks are per task, so a user's writes to
 * different tasks, and the relay's settling of other tasks, never wait for each other.
 *
 * A holder slower than its lease renews it every ttl/3. If a renewal finds the lease gone (or
 * cannot reach the store), `held` is aborted: the work checks it before each write and stops.
 */
export class TaskWriteLock {
  constructor(
    private readonly store: LockStore,
    private readonly prefix: string,
    private readonly options: WriteLockOptions = DEFAULT_WRITE_LOCK_OPTIONS,
  ) {}

  keyFor(taskId: string): string {
    return `${this.prefix}task-lock:${taskId}`;
  }

  /**
   * Runs `work` holding the locks of all `taskIds`, renewed from the moment they are held. The
   * keys are taken together or not at all: a partial take is given back before waiting, so a
   * writer never waits while it holds a lock and two writers never deadlock.
   */
  async run<T>(taskIds: readonly string[], work: (held: AbortSignal) => Promise<T>): Promise<T> {
    const keys = [...new Set(taskIds)].map((id) => this.keyFor(id));
    const token = randomUUID();
    await this.acquireAll(keys, token);
    return this.hold(keys, token, work);
  }

  /**
   * Runs `work` on those of `taskIds` whose locks are free now, holding them, and answers the
   * others, held by another writer. A writer of many tasks (a bulk change) takes them this way,
   * round by round: all at once it would wait for a moment when none of them is being written,
   * and after a bulk change the relay settles its documents one by one, each under its lock,
   * for seconds. When it could take none, it answers after a short pause, so that a caller
   * trying again at once does not spin.
   */
  async runOnFree(
    taskIds: readonly string[],
    work: (heldIds: string[], held: AbortSignal) => Promise<void>,
  ): Promise<string[]> {
    const ids = [...new Set(taskIds)];
    const token = randomUUID();
    const taken = new Set(
      await this.store.acquire(
        ids.map((id) => this.keyFor(id)),
        token,
        this.options.ttlMs,
      ),
    );
    const heldIds = ids.filter((id) => taken.has(this.keyFor(id)));
    const busy = ids.filter((id) => !taken.has(this.keyFor(id)));
    if (heldIds.length === 0) await this.pause();
    else await this.hold([...taken], token, (held) => work(heldIds, held));
    return busy;
  }

  private async hold<T>(
    keys: string[],
    token: string,
    work: (held: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const lost = new AbortController();
    const renewal = setInterval(() => {
      this.store.extend(keys, token, this.options.ttlMs).then(
        (ok) => ok || lost.abort(new LockLostError('the task lock expired before the write')),
        (error: unknown) => lost.abort(error),
      );
    }, this.options.ttlMs / 3);
    renewal.unref();
    try {
      return await work(lost.signal);
    } finally {
      clearInterval(renewal);
      await this.store.release(keys, token).catch(() => undefined);
    }
  }

  private async acquireAll(keys: string[], token: string): Promise<void> {
    const deadline = Date.now() + this.options.waitMs;
    for (;;) {
      const taken = await this.store.acquire(keys, token, this.options.ttlMs);
      if (taken.length === keys.length) return;
      if (taken.length > 0) await this.store.release(taken, token);
      if (Date.now() >= deadline) {
        throw new LockWaitTimeoutError('The task is being changed by another request');
      }
      await this.pause();
    }
  }

  /** Jitter keeps waiters of one task from retrying in lockstep. */
  private pause(): Promise<void> {
    return new Promise((resolve) =>
      setTimeout(resolve, this.options.retryMs * (1 + Math.random())),
    );
  }
}
