import { ConflictException } from '@nestjs/common';
import type { RedisClient } from '../redis/redis.module';

/** Adds one to the user's estimate when there is one; nothing (nil) when there is none. */
const RESERVE = `
if redis.call('exists', KEYS[1]) == 1 then return redis.call('incr', KEYS[1]) end
return false`;

/** How long an estimate lives before the next create counts in MongoDB again. */
export const TASK_ESTIMATE_TTL_MS = 10 * 60_000;

/**
 * The cap on the tasks one account keeps (TASKS_PER_USER_MAX), checked without counting the
 * user's tasks in MongoDB on every create: on FerretDB a count reads every task of the user,
 * and creates slowed as lists grew. Redis keeps an estimate that never falls below the real
 * count: set from a count, raised by one before every create (a create that then fails
 * leaves it higher, deletes leave it higher). While the estimate is within the cap the create
 * goes on; above it, or once it expired, the tasks are counted again. Creates racing a count
 * may pass it together, as before: the bound is the cap plus the creates one user has in
 * flight (docs/limits.md).
 */
export class TaskQuota {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly max: number,
    private readonly countLive: (userId: string) => Promise<number>,
  ) {}

  /** Takes one task of the user's quota, or refuses with 409 when the account is full. */
  async reserve(userId: string): Promise<void> {
    const key = `${this.keyPrefix}tasks-owned:${userId}`;
    const estimate = (await this.redis.eval(RESERVE, { keys: [key] })) as number | null;
    if (estimate !== null && estimate <= this.max) return;
    const owned = await this.countLive(userId);
    await this.redis.set(key, String(owned + 1), {
      expiration: { type: 'PX', value: TASK_ESTIMATE_TTL_MS },
    });
    if (owned >= this.max) {
      throw new ConflictException(
        `You have ${this.max} tasks, the most one account may keep; delete some to add more`,
      );
    }
  }
}
