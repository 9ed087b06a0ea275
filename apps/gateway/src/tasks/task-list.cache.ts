import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CACHE_CLIENT, REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { bodyOfTaskListCacheEntry, toTaskListCacheEntry } from '@taskit/contracts';

/** The version key outlives every cache entry by far; see invalidate(). */
const VERSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface CacheLookup {
  /** The cache key the page must be stored under if it is read from MongoDB now. */
  key: string;
  /** The response body as it was stored. */
  body?: string;
}

/**
 * A user's task-list pages in Redis, each stored as the response body it answers with
 * (@taskit/contracts, task-list-cache-entry.ts) under
 * `${REDIS_PREFIX}cache:tasks:<user>:v<version>:<page>`; never stale after a write. A page
 * larger than TASK_LIST_CACHE_MAX_BYTES is not stored (a few such values would fill Redis).
 * Pages live on the cache connection, which may evict them (a miss); the version counters
 * live beside the sessions, which never evict: a lost counter would bring old pages back.
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
  private readonly listPrefix: string;
  private readonly ttlMs: number;
  private readonly maxBytes: number;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(REDIS_CACHE_CLIENT) private readonly pages: RedisClient,
    config: ConfigService<GatewayEnvironment, true>,
  ) {
    const prefix = config.get('REDIS_PREFIX', { infer: true });
    this.versionPrefix = `${prefix}tasks-version:`;
    this.listPrefix = `${prefix}cache:tasks:`;
    this.ttlMs = config.get('TASK_LIST_CACHE_TTL_SECONDS', { infer: true }) * 1000;
    this.maxBytes = config.get('TASK_LIST_CACHE_MAX_BYTES', { infer: true });
  }

  versionKey(userId: string): string {
    return `${this.versionPrefix}${userId}`;
  }

  /**
   * Reads the user's current version (Redis errors propagate: 503), then the cached page named
   * by `page` (status, limit and cursor); a page that cannot be read or fails its check is a
   * miss.
   */
  async lookup(userId: string, page: string): Promise<CacheLookup> {
    const version = (await this.redis.get(this.versionKey(userId))) ?? '0';
    const key = `${this.listPrefix}${userId}:v${version}:${page}`;
    try {
      const entry = await this.pages.get(key);
      return { key, body: entry === null ? undefined : bodyOfTaskListCacheEntry(entry) };
    } catch (error) {
      this.logger.warn(`task list cache read failed: ${(error as Error).message}`);
      return { key };
    }
  }

  async store(key: string, body: string): Promise<void> {
    if (Buffer.byteLength(body) > this.maxBytes) return;
    try {
      await this.pages.set(key, toTaskListCacheEntry(body), {
        expiration: { type: 'PX', value: this.ttlMs },
      });
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
