import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClient } from '../redis/redis.module';

export type RateLimitName = 'user' | 'client' | 'bulk' | 'user-second' | 'bulk-second';

export interface RateLimitSettings {
  windowSeconds: number;
  perUser: number;
  perClient: number;
  bulkPerUser: number;
  /** The per-user budgets again over one second, so that a window's budget cannot be one burst. */
  perUserPerSecond: number;
  bulkPerUserPerSecond: number;
  redisPrefix: string;
}

/** What one request asks of the limits: whose budgets it spends. */
export interface RateLimitSubject {
  clientAddress: string;
  userId?: string;
  bulk: boolean;
}

export type RateLimitDecision =
  { allowed: true } | { allowed: false; limit: RateLimitName; retryAfterSeconds: number };

/** Client addresses are hashed so that raw addresses are not spread over Redis key names. */
function clientKey(address: string): string {
  return createHash('sha256').update(address).digest('hex').slice(0, 32);
}

/**
 * The API's fixed-window counters in Redis (rate-limiter-flexible), shared by every pod: one
 * per user, one per client address, one for bulk operations per user, and the two per-user
 * ones again over one second (an account's window budget spent in one burst would take a
 * shared machine from everyone for that burst: docs/limits.md). A request spends one
 * point of each budget it falls under; all are spent in parallel (node-redis pipelines them in
 * one round trip). Once a key is over its budget the pod refuses it from memory until the
 * window ends, so an account hammering the API costs Redis nothing more. While Redis fails, each
 * pod counts in memory instead (the library's insurance limiter): the limits still hold, per
 * pod, and a request that needs no session is not refused for an outage it does not depend on.
 */
export class RateLimits {
  private readonly limiters: Record<RateLimitName, RateLimiterRedis>;

  constructor(redis: RedisClient, settings: RateLimitSettings) {
    const limiter = (name: RateLimitName, points: number, duration = settings.windowSeconds) =>
      new RateLimiterRedis({
        storeClient: redis,
        useRedisPackage: true,
        keyPrefix: `${settings.redisPrefix}rate-limit:${name}`,
        points,
        duration,
        inMemoryBlockOnConsumed: points + 1,
        insuranceLimiter: new RateLimiterMemory({ points, duration }),
      });
    this.limiters = {
      user: limiter('user', settings.perUser),
      client: limiter('client', settings.perClient),
      bulk: limiter('bulk', settings.bulkPerUser),
      'user-second': limiter('user-second', settings.perUserPerSecond, 1),
      'bulk-second': limiter('bulk-second', settings.bulkPerUserPerSecond, 1),
    };
  }

  /** Spends the request's points (in memory while Redis fails). */
  async consume(subject: RateLimitSubject): Promise<RateLimitDecision> {
    const spends: [RateLimitName, string][] = [['client', clientKey(subject.clientAddress)]];
    if (subject.userId !== undefined) {
      spends.push(['user', subject.userId], ['user-second', subject.userId]);
      if (subject.bulk) spends.push(['bulk', subject.userId], ['bulk-second', subject.userId]);
    }
    const outcomes = await Promise.allSettled(
      spends.map(([name, key]) => this.limiters[name].consume(key)),
    );
    let refusal: { limit: RateLimitName; ms: number } | undefined;
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') continue;
      if (!(outcome.reason instanceof RateLimiterRes)) throw outcome.reason;
      const ms = outcome.reason.msBeforeNext;
      if (!refusal || ms > refusal.ms) refusal = { limit: spends[i][0], ms };
    }
    if (!refusal) return { allowed: true };
    return {
      allowed: false,
      limit: refusal.limit,
      retryAfterSeconds: Math.max(1, Math.ceil(refusal.ms / 1000)),
    };
  }
}
