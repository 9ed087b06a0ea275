import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Cache } from 'cache-manager';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import type { TaskStatus, TaskView } from './task.dto';

/** The version key outlives every cache entry by far; see invalidate(). */
const VERSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const CACHE_OP_TIMEOUT_MS = 500;

export interface CacheLookup {
  /** The cache key the list must be stored under if it is read from MongoDB now. */
  key: string;
  tasks?: TaskView[];
}

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('cache timeout')), CACHE_OP_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A user's task lists in Redis (cache-manager + Keyv Redis store), never stale after a write.
 *
 * Each user has a version counter in Redis, and the counter is part of the cache key. A write
 * first changes MongoDB, then increments the counter, then answers. Any read that starts after
 * that answer sees the new version and misses the old entries, on every pod. A read racing the
 * write (it read the old version and old data, then stores them) can only store under the old
 * version, which nobody reads any more: deleting keys on write instead would let that racing
 * read put stale data back under the live key.
 */
@Injectable()
export class TaskListCache {
  private readonly logger = new Logger(TaskListCache.name);
  private readonly versionPrefix: string;
  private readonly ttlMs: number;

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    config: ConfigService<GatewayEnvironment, true>,
  ) {
    this.versionPrefix = `${config.get('REDIS_PREFIX', { infer: true })}tasks-version:`;
    this.ttlMs = config.get('TASK_LIST_CACHE_TTL_SECONDS', { infer: true }) * 1000;
  }

  versionKey(userId: string): string {
    return `${this.versionPrefix}${userId}`;
  }

  /** Reads the user's current version (Redis errors propagate: 503), then the cached list. */
  async lookup(userId: string, status: TaskStatus): Promise<CacheLookup> {
    const version = (await this.redis.get(this.versionKey(userId))) ?? '0';
    const key = `tasks:${userId}:v${version}:${status}`;
    try {
      const tasks = await withTimeout(this.cache.get<TaskView[]>(key));
      return { key, tasks: Array.isArray(tasks) ? tasks : undefined };
    } catch (error) {
      this.logger.warn(`task list cache read failed: ${(error as Error).message}`);
      return { key };
    }
  }

  async store(key: string, tasks: TaskView[]): Promise<void> {
    try {
      await withTimeout(this.cache.set(key, tasks, this.ttlMs));
    } catch (error) {
      this.logger.warn(`task list cache write failed: ${(error as Error).message}`);
    }
  }

  /**
   * Makes the user's cached lists unreachable: bumps the version that is part of every key.
   * Redis errors propagate (503).
   */
  async invalidate(userId: string): Promise<void> {
    const key = this.versionKey(userId);
    await this.redis.multi().incr(key).pExpire(key, VERSION_TTL_MS).exec();
  }

  /**
   * After a change is stored, before its response. The change stands whatever happens here,
   * so a Redis failure must not turn it into an error: it is logged, and the entries of the
   * old version live at most TASK_LIST_CACHE_TTL_SECONDS (a Redis that restarted has lost
   * them anyway). Writers check Redis before they write (the user's write lock, or
   * `invalidate` before a create), so this fails only when Redis dies in between.
   */
  async invalidateAfterWrite(userId: string): Promise<void> {
    try {
      await this.invalidate(userId);
    } catch (error) {
      this.logger.warn(
        `task list cache not invalidated after a write: ${(error as Error).message}`,
      );
    }
  }
}
