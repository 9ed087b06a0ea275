import type { RedisClient } from '../redis/redis.module';
import type { LockStore } from './task-write-lock';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** The lock's leases in Redis: a key per task, its value the holder's token, with a TTL. */
export class RedisLockStore implements LockStore {
  constructor(private readonly redis: RedisClient) {}

  async acquire(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(key, token, { NX: true, PX: ttlMs })) !== null;
  }

  async extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    const result = await this.redis.eval(EXTEND, {
      keys: [key],
      arguments: [token, String(ttlMs)],
    });
    return result === 1;
  }

  async release(key: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, { keys: [key], arguments: [token] });
  }
}
