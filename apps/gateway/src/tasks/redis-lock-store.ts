import type { RedisClient } from '../redis/redis.module';
import type { LockStore } from './task-write-lock';

/** Takes every key that is free or already this token's; answers the keys taken. */
const ACQUIRE = `
local taken = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('get', key)
  if not holder or holder == ARGV[1] then
    redis.call('set', key, ARGV[1], 'PX', ARGV[2])
    taken[#taken + 1] = key
  end
end
return taken`;
/** Extends every key this token holds; answers how many it still held. */
const EXTEND = `
local held = 0
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then
    redis.call('pexpire', key, ARGV[2])
    held = held + 1
  end
end
return held`;
const RELEASE = `
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then redis.call('del', key) end
end
return 1`;

/**
 * The lock's leases in Redis: a key per task, its value the holder's token, with a TTL. Each
 * operation covers all the keys of one holder in one script, so a bulk change of thousands of
 * tasks takes, renews and frees its locks in one round trip each.
 */
export class RedisLockStore implements LockStore {
  constructor(private readonly redis: RedisClient) {}

  async acquire(keys: readonly string[], token: string, ttlMs: number): Promise<string[]> {
    const taken = await this.redis.eval(ACQUIRE, {
      keys: [...keys],
      arguments: [token, String(ttlMs)],
    });
    return taken as string[];
  }

  async extend(keys: readonly string[], token: string, ttlMs: number): Promise<boolean> {
    const held = await this.redis.eval(EXTEND, {
      keys: [...keys],
      arguments: [token, String(ttlMs)],
    });
    return held === keys.length;
  }

  async release(keys: readonly string[], token: string): Promise<void> {
    await this.redis.eval(RELEASE, { keys: [...keys], arguments: [token] });
  }
}
