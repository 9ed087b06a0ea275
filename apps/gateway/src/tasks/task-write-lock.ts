import { randomUUID } from 'node:crypto';
import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';

/** A holder that dies keeps the lock at most this long. */
const LOCK_TTL_MS = 5_000;
/** How long a writer waits for the lock before answering 503. */
const WAIT_MS = 3_000;
const RETRY_MS = 10;

const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Serialises writes to one user's task documents across every gateway process.
 *
 * MongoDB applies a single-document update atomically, but FerretDB 1.x (SQLite handler, used
 * locally and in CI) does not: it reads the document, applies the operators in Go and writes
 * the whole document back with an unconditional `UPDATE ... WHERE _id = ?`. Two concurrent
 * writers to one document (two requests, or a request and the outbox relay) therefore lose
 * one of the writes, and filter preconditions are checked against a stale read. Every writer
 * of a task document (this API and the outbox relay) takes the lock of the task's user first.
 * Key: `${REDIS_PREFIX}task-lock:${userId}`, value a random token, released only by its owner.
 */
@Injectable()
export class TaskWriteLock {
  private readonly prefix: string;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    config: ConfigService<GatewayEnvironment, true>,
  ) {
    this.prefix = `${config.get('REDIS_PREFIX', { infer: true })}task-lock:`;
  }

  keyFor(userId: string): string {
    return `${this.prefix}${userId}`;
  }

  async run<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const key = this.keyFor(userId);
    const token = randomUUID();
    const deadline = Date.now() + WAIT_MS;
    while ((await this.redis.set(key, token, { NX: true, PX: LOCK_TTL_MS })) === null) {
      if (Date.now() > deadline) {
        throw new ServiceUnavailableException('Too many concurrent changes; try again');
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    try {
      return await work();
    } finally {
      await this.redis.eval(RELEASE_SCRIPT, { keys: [key], arguments: [token] }).catch(() => 0);
    }
  }
}
