import { createHash } from 'node:crypto';
import { HttpException, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClient } from '../redis/redis.module';

export class TooManyAttemptsException extends HttpException {
  constructor(what: string, retryAfterSeconds: number) {
    super(
      { message: `${what}; try again in ${retryAfterSeconds} s`, retryAfterSeconds },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** A counter of attempts in a fixed window, in Redis (shared by every pod). */
export function attemptLimiter(
  redis: RedisClient,
  keyPrefix: string,
  points: number,
  windowSeconds: number,
): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    useRedisPackage: true,
    keyPrefix,
    points,
    duration: windowSeconds,
  });
}

/** One limiter and the key it counts under (hashed: no raw emails or addresses in Redis). */
export interface Budget {
  limiter: RateLimiterRedis;
  key: string;
}

export function budgetKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

/**
 * Takes one attempt from every budget before the attempt's work is done, each an atomic
 * increment in Redis, so that a parallel burst cannot pass a check all at once. When any budget
 * is spent, the attempt is refused (429, Retry-After until the last one resets) and every point
 * it took is given back: refused attempts cost nothing and count for nothing.
 */
export async function reserveAttempt(budgets: Budget[], what: string): Promise<void> {
  const taken = await Promise.allSettled(budgets.map((b) => b.limiter.consume(b.key)));
  const refusals = taken.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (refusals.length === 0) return;
  // Every budget that counted this attempt (accepted or refused it) gives it back; one whose
  // store failed counted nothing.
  const counted = budgets.filter(
    (_b, i) => taken[i].status === 'fulfilled' || taken[i].reason instanceof RateLimiterRes,
  );
  await Promise.allSettled(counted.map((b) => b.limiter.reward(b.key, 1)));
  const spent = refusals.filter((r): r is RateLimiterRes => r instanceof RateLimiterRes);
  if (spent.length < refusals.length) {
    throw new ServiceUnavailableException('Attempts cannot be counted right now; try again');
  }
  const waitMs = Math.max(...spent.map((r) => r.msBeforeNext));
  throw new TooManyAttemptsException(what, Math.max(1, Math.ceil(waitMs / 1000)));
}
